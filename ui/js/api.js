// The one door to the Rust side. Every other module imports from here, so the IPC surface, the
// argument names and the error shape are fixed in one place and the views can be tested against a
// fake by swapping this single file.

function tauri() {
  const t = window.__TAURI__;
  if (!t || !t.core) {
    throw { kind: 'unavailable', message: 'Mailwire’s window is not connected to the app. Please restart Mailwire.' };
  }
  return t;
}

// Commands reject with `{kind, message, field?}`, but a missing command or a panic in the shell can
// reject with a bare string. Normalising here means views only ever deal with one shape.
function normaliseError(err) {
  if (err && typeof err === 'object' && typeof err.message === 'string') {
    return { kind: err.kind || 'error', message: err.message, field: err.field };
  }
  if (typeof err === 'string' && err.trim()) {
    return { kind: 'error', message: err };
  }
  return { kind: 'error', message: 'Something went wrong. Details are in the log folder.' };
}

async function invoke(cmd, args) {
  try {
    return await tauri().core.invoke(cmd, args);
  } catch (err) {
    throw normaliseError(err);
  }
}

async function listen(name, cb) {
  try {
    return await tauri().event.listen(name, cb);
  } catch (err) {
    throw normaliseError(err);
  }
}

// Profiles
export const listProfiles = () => invoke('list_profiles');
export const getProfile = (id) => invoke('get_profile', { id });
export const saveProfile = (input) => invoke('save_profile', { input });
export const deleteProfile = (id) => invoke('delete_profile', { id });
export const duplicateProfile = (id) => invoke('duplicate_profile', { id });
export const validateField = (provider, field, value) =>
  invoke('validate_field', { provider, field, value });

// Google key handling: the dialog and the private key stay in Rust; only public facts come back.
export const importGoogleKey = ({ path } = {}) => invoke('import_google_key', { path: path ?? null });
export const createCertificate = (name) => invoke('create_certificate', { name });
export const importCertificate = (name) => invoke('import_certificate', { name });
export const unlockCertificate = (name, password) => invoke('unlock_certificate', { name, password });
export const exportCertificate = ({ importId = null, profileId = null } = {}) =>
  invoke('export_certificate', { importId, profileId });
export const googleDelegationInfo = (clientId, scopes) =>
  invoke('google_delegation_info', { clientId, scopes });

// Network settings: the proxy password goes in once and is only ever reported as stored.
export const getNetworkSettings = () => invoke('get_network_settings');
export const saveNetworkSettings = (settings, proxyPassword) =>
  invoke('save_network_settings', { settings, proxyPassword });
export const chooseCaFile = () => invoke('choose_ca_file');

// Checks and reports
export const runCheck = (id, { send = false } = {}) => invoke('run_check', { id, send });
export const cancelCheck = (id) => invoke('cancel_check', { id });
export const exportReport = (id, format) => invoke('export_report', { id, format });
export const saveReport = (id, format) => invoke('save_report', { id, format });
export const getLastReport = (id) => invoke('get_last_report', { id });

// App
export const startSandbox = () => invoke('start_sandbox');
export const openLink = (url) => invoke('open_link', { url });
export const copyToClipboard = (text) => invoke('copy_text', { text });
export const openLogFolder = () => invoke('open_log_folder');
export const appInfo = () => invoke('app_info');

// Events. Each returns a promise of an unlisten function so views can detach when they close.
export const onCheckProgress = (cb) => listen('check-progress', (e) => cb(e.payload));

/** Paths of files dropped onto the window (Tauri's native drag-drop, not the DOM one). */
export const onFileDrop = (cb) => listen('tauri://drag-drop', (e) => cb((e.payload && e.payload.paths) || []));
/** Drag hover state, so a drop zone can light up. `cb(true)` on enter/over, `cb(false)` on leave/drop. */
export async function onFileDragHover(cb) {
  const offs = await Promise.all([
    listen('tauri://drag-enter', () => cb(true)),
    listen('tauri://drag-over', () => cb(true)),
    listen('tauri://drag-leave', () => cb(false)),
    listen('tauri://drag-drop', () => cb(false)),
  ]);
  return () => offs.forEach((off) => off());
}

/**
 * The connections the shell handed over with the page, once: the script runs again on a reload,
 * when its list may be stale, so a reload asks the shell instead.
 */
export function takeBootProfiles() {
  const boot = window.__MAILWIRE_BOOT__;
  window.__MAILWIRE_BOOT__ = undefined;
  try {
    if (!boot || sessionStorage.getItem('mailwire-booted')) return null;
    sessionStorage.setItem('mailwire-booted', '1');
  } catch (_) {
    return null;
  }
  return Array.isArray(boot.profiles) ? boot.profiles : null;
}

// Startup benchmark hook. The command may not exist in every build, so failure is silent.
export function reportFirstPaint() {
  try {
    const p = tauri().core.invoke('first_paint', { ms: performance.now() });
    if (p && typeof p.catch === 'function') p.catch(() => {});
  } catch (_) {
    /* not available: nothing to report */
  }
}
