// Shared pieces of chrome: a polite status toast and a modal confirmation built on <dialog>, which
// gives focus trapping, Escape to cancel and the top layer for free.
import { h } from './dom.js';

let toastTimer = null;

/** Brief, non-blocking notice ("Copied"). Errors use kind 'error' and stay a little longer. */
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  if (!el) return;
  el.dataset.kind = kind;
  el.textContent = message;
  el.hidden = false;
  // Re-trigger the entrance animation for back-to-back toasts.
  el.classList.remove('show');
  void el.offsetWidth;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.classList.remove('show');
    toastTimer = setTimeout(() => { el.hidden = true; }, 200);
  }, kind === 'error' ? 6000 : 2400);
}

/**
 * Ask before something irreversible. Resolves true only on the explicit confirm button; Escape,
 * Cancel and clicking the backdrop all resolve false.
 */
export function confirmDialog({ title, message, confirmLabel = 'OK', danger = false }) {
  return new Promise((resolve) => {
    const titleId = 'confirm-title';
    const msgId = 'confirm-message';
    const cancel = h('button', { type: 'button', class: 'btn', id: 'confirm-cancel' }, 'Cancel');
    const ok = h('button', { type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], id: 'confirm-ok' }, confirmLabel);
    const dlg = h('dialog', { id: 'confirm-dialog', class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': msgId },
      h('h2', { id: titleId, class: 'dialog-title' }, title),
      h('p', { id: msgId, class: 'dialog-message' }, message),
      h('div', { class: 'dialog-actions' }, cancel, ok));
    const opener = document.activeElement;
    let done = false;
    // Settle from the button handlers directly rather than only from the 'close' event, which some
    // webviews deliver late or not at all when the dialog is removed straight away.
    const finish = (result) => {
      if (done) return;
      done = true;
      if (dlg.open) dlg.close();
      dlg.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve(result);
    };
    cancel.addEventListener('click', () => finish(false));
    ok.addEventListener('click', () => finish(true));
    dlg.addEventListener('click', (e) => { if (e.target === dlg) finish(false); });
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); finish(false); });
    dlg.addEventListener('close', () => finish(false));
    document.body.append(dlg);
    dlg.showModal();
    // Destructive actions default to Cancel so a stray Enter does not delete anything.
    (danger ? cancel : ok).focus();
  });
}
