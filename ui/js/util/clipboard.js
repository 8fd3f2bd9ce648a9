// Clipboard with a fallback: the async API can be refused in some webviews (no permission, window
// not focused), and execCommand on a hidden textarea still works there.

export async function copyText(text) {
  try {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      await navigator.clipboard.writeText(text);
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
