// Reports the first paint the way Mailwire's ui/js/api.js does, once the page's module has run.
window.__TAURI__.core.invoke('first_paint', { ms: performance.now() }).catch(() => {});
