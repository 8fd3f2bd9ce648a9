// Human wording for times, durations, errors and links.

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "5 minutes ago", "yesterday", "just now". */
export function relativeTime(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const secs = Math.round((t - now) / 1000);
  if (Math.abs(secs) < 45) return 'just now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(secs) >= size) return rtf.format(Math.round(secs / size), unit);
  }
  return rtf.format(Math.round(secs / 60), 'minute');
}

/** Full local date and time, for tooltips and <time datetime>. */
export function absoluteTime(iso) {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  return t.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** 87 → "87 ms", 1530 → "1.5 s". */
export function duration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

/** Plain words from any rejection; never JSON, never a stack. */
export function errorText(err) {
  if (err && typeof err.message === 'string' && err.message.trim()) return err.message;
  if (typeof err === 'string' && err.trim()) return err;
  return 'Something went wrong. Details are in the log folder.';
}

// Button labels for fix links: the provider consoles are recognisable by host, so name them.
const KNOWN_HOSTS = {
  'entra.microsoft.com': 'Microsoft Entra admin center',
  'portal.azure.com': 'Azure portal',
  'admin.microsoft.com': 'Microsoft 365 admin center',
  'admin.exchange.microsoft.com': 'Exchange admin center',
  'learn.microsoft.com': 'Microsoft Learn',
  'admin.google.com': 'Google Admin console',
  'console.cloud.google.com': 'Google Cloud console',
  'console.developers.google.com': 'Google Cloud console',
  'developers.google.com': 'Google developer docs',
  'support.google.com': 'Google Help',
};

const PAGE_HINTS = [
  [/domainwidedelegation/i, 'Domain-wide delegation'],
  [/gmail\.googleapis\.com/i, 'Gmail API'],
  [/serviceaccounts/i, 'Service accounts'],
  [/CallAnAPI/i, 'API permissions'],
  [/Credentials/i, 'Certificates & secrets'],
  [/RegisteredApps/i, 'App registrations'],
  [/Overview/i, 'Overview'],
];

/** "Open Microsoft Entra admin center · API permissions" from a console URL. */
export function linkLabel(url) {
  let u;
  try { u = new URL(url); } catch (_) { return url; }
  const site = KNOWN_HOSTS[u.host] || u.host;
  const rest = decodeURIComponent(u.pathname + u.hash);
  const hint = PAGE_HINTS.find(([re]) => re.test(rest));
  if (hint) return `${site} · ${hint[1]}`;
  const seg = u.pathname.split('/').filter(Boolean).pop();
  return seg && !KNOWN_HOSTS[u.host] ? `${site} /${seg}` : site;
}
