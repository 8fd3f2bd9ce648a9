// The shell writes the clipboard: WebKitGTK does not let the page do it. The web APIs stay as a
// fallback for a shell that cannot reach the clipboard (no display server); the async API can be
// refused or left pending for good, and execCommand on a hidden textarea sometimes still works.

import { copyToClipboard } from '../api.js';

const ASYNC_CLIPBOARD_WAIT_MS = 1000;

export async function copyText(text) {
  try {
    await copyToClipboard(text);
    return true;
  } catch (_) {
    /* fall through to the web APIs */
  }
  try {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      const gaveUp = new Promise((_, reject) => setTimeout(() => reject(new Error('clipboard timeout')), ASYNC_CLIPBOARD_WAIT_MS));
      await Promise.race([navigator.clipboard.writeText(text), gaveUp]);
      return true;
    }
  } catch (_) {
    /* fall through to the legacy path */
  }
  const active = document.activeElement;
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.setAttribute('aria-hidden', 'true');
  ta.className = 'clipboard-helper';
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
  ta.remove();
  // Put focus back where the user was so keyboard users do not lose their place.
  if (active && typeof active.focus === 'function') active.focus();
  return ok;
}
