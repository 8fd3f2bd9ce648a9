// Entry point: owns navigation between the three views and the status bar. Views are plain
// functions `render(root, params, nav)` that may return a cleanup function; navigation always runs
// the previous view's cleanup first so event listeners (check progress, file drop) never pile up.
import { appInfo, openLogFolder, reportFirstPaint } from './api.js';
import { errorText } from './util/format.js';
import { toast } from './util/ui.js';
import * as listView from './views/list.js';

// The first screen needs only the list: the other views load when first opened, which keeps
// their loading and parsing out of the time to the first paint.
const VIEWS = {
  list: () => Promise.resolve(listView),
  form: () => import('./views/form.js'),
  check: () => import('./views/check.js'),
  settings: () => import('./views/settings.js'),
};
const root = document.getElementById('main');
let cleanup = null;
let navSeq = 0;

const nav = {
  async go(name, params = {}) {
    const seq = ++navSeq;
    if (cleanup) {
      try { await cleanup(); } catch (_) { /* a failing cleanup must not block navigation */ }
      cleanup = null;
    }
    root.replaceChildren();
    root.dataset.view = name;
    root.scrollTop = 0;
    const view = await VIEWS[name]();
    if (seq !== navSeq) return;
    const c = await view.render(root, params, nav);
    // A quicker later navigation wins; drop the cleanup of a view that is already gone.
    if (seq !== navSeq) { if (typeof c === 'function') c(); return; }
    cleanup = typeof c === 'function' ? c : null;
    focusHeading();
  },
  /** Refresh the status bar (e.g. after the sandbox started). */
  refreshStatus,
};

// Move focus to the new screen's heading so keyboard and screen-reader users start at the top of it.
function focusHeading() {
  const heading = root.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

async function refreshStatus() {
  try {
    const info = await appInfo();
    document.getElementById('app-version').textContent = info && info.version ? `Mailwire ${info.version}` : 'Mailwire';
    document.getElementById('sandbox-indicator').hidden = !(info && info.sandboxRunning);
  } catch (_) {
    document.getElementById('app-version').textContent = 'Mailwire';
  }
}

document.getElementById('open-network-settings').addEventListener('click', () => nav.go('settings'));

document.getElementById('open-log-folder').addEventListener('click', async () => {
  try {
    await openLogFolder();
  } catch (err) {
    toast(errorText(err), 'error');
  }
});

async function start() {
  refreshStatus();
  try {
    await nav.go('list');
  } finally {
    document.body.dataset.ready = '1';
    reportFirstPaint();
  }
}

start();
