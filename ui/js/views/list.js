// Connections list: the first screen. Shows each saved connection with its last check, and the
// sandbox offer when there is nothing yet.
import { listProfiles, deleteProfile, duplicateProfile, startSandbox, takeBootProfiles } from '../api.js';
import { h, mount, providerLogo, providerName } from '../util/dom.js';
import { relativeTime, absoluteTime, errorText } from '../util/format.js';
import { toast, confirmDialog } from '../util/ui.js';

export async function render(root, params, nav) {
  document.title = 'Connections — Mailwire';
  const headerActions = h('div', { class: 'view-header-actions' });
  const body = h('div', { class: 'list-body' });
  const view = h('section', { id: 'connections', class: 'view view-list', 'aria-labelledby': 'connections-title' },
    h('header', { class: 'view-header' },
      h('div', { class: 'view-header-text' },
        h('h1', { id: 'connections-title' }, 'Connections'),
        h('p', { class: 'view-subtitle' }, 'Mail sending through the Microsoft Graph and Gmail APIs')),
      headerActions),
    body);
  root.append(view);

  let profiles;
  try {
    profiles = params.profiles || takeBootProfiles() || await listProfiles();
  } catch (err) {
    mount(body, errorPanel(errorText(err), () => nav.go('list')));
    return;
  }
  draw(profiles, params.focusId);

  function draw(items, focusId) {
    if (!items || items.length === 0) {
      headerActions.replaceChildren();
      mount(body, emptyState());
      return;
    }
    mount(headerActions, h('button', { type: 'button', id: 'add-connection', class: 'btn btn-primary', on: { click: () => nav.go('form', {}) } },
      h('span', { class: 'icon icon-plus', 'aria-hidden': 'true' }), 'Add connection'));
    const list = h('ul', { class: 'connection-list', 'aria-label': 'Saved connections' }, items.map(row));
    mount(body, list);
    if (focusId) {
      const target = list.querySelector(`.connection-row[data-id="${CSS.escape(focusId)}"] .row-open`);
      if (target) target.focus();
    }
  }

  function row(p) {
    const open = () => nav.go('check', { id: p.id });
    const nameId = `conn-name-${p.id}`;
    const li = h('li', {
      class: 'connection-row',
      dataset: { id: p.id, provider: p.provider, sandbox: p.sandbox ? '1' : '0' },
      on: {
        // Mouse convenience: the whole card opens the connection. Keyboard users have the Open
        // button, so the card itself is not a second tab stop.
        click: (e) => { if (!e.target.closest('button')) open(); },
      },
    },
      providerLogo(p.provider),
      h('div', { class: 'row-main' },
        h('div', { class: 'row-title' },
          h('span', { class: 'row-name', id: nameId }, p.name || 'Untitled connection'),
          p.sandbox ? h('span', { class: 'badge badge-sandbox', title: 'Talks to the built-in sandbox on this computer, not to the real provider' }, 'Sandbox') : null,
          p.certificateRenewalDue ? certificateBadge(p.certificateExpires) : null),
        h('div', { class: 'row-sub' },
          h('span', null, providerName(p.provider)),
          h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'),
          h('span', { class: 'row-sender' }, p.sender || 'No sender yet'))),
      lastCheck(p.lastCheck),
      h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-small row-open', 'aria-label': `Open ${p.name}`, on: { click: open } }, 'Open'),
        h('button', { type: 'button', class: 'btn btn-ghost btn-icon row-duplicate', 'aria-label': `Duplicate ${p.name}`, title: 'Duplicate', on: { click: () => duplicate(p) } },
          h('span', { class: 'icon icon-copy', 'aria-hidden': 'true' })),
        h('button', { type: 'button', class: 'btn btn-ghost btn-icon btn-danger-ghost row-delete', 'aria-label': `Delete ${p.name}`, title: 'Delete', on: { click: () => remove(p) } },
          h('span', { class: 'icon icon-trash', 'aria-hidden': 'true' }))));
    return li;
  }

  async function duplicate(p) {
    try {
      const copy = await duplicateProfile(p.id);
      toast(`Duplicated as “${copy.name}”`);
      profiles = await listProfiles();
      draw(profiles, copy.id);
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  async function remove(p) {
    const ok = await confirmDialog({
      title: `Delete “${p.name}”?`,
      message: 'Its settings and the secret kept in the system keychain will be removed from this computer. The app registration or service account at the provider is not touched.',
      confirmLabel: 'Delete',
      danger: true,
    });
    if (!ok) return;
    try {
      await deleteProfile(p.id);
      const rest = await listProfiles();
      toast(`Deleted “${p.name}”`);
      // Keep the keyboard user near where they were: focus the row that took this one's place.
      const idx = profiles.findIndex((x) => x.id === p.id);
      profiles = rest;
      const next = rest[Math.min(Math.max(idx, 0), rest.length - 1)];
      draw(rest, next && next.id);
      if (!next) document.getElementById('add-connection')?.focus();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function emptyState() {
    const sandboxBtn = h('button', { type: 'button', id: 'try-sandbox', class: 'btn btn-large' },
      h('span', { class: 'icon icon-flask', 'aria-hidden': 'true' }), 'Try it with the built-in sandbox');
    const err = h('p', { class: 'inline-error', role: 'alert', hidden: true });
    sandboxBtn.addEventListener('click', async () => {
      sandboxBtn.disabled = true;
      sandboxBtn.setAttribute('aria-busy', 'true');
      sandboxBtn.replaceChildren(h('span', { class: 'spinner spinner-small', 'aria-hidden': 'true' }), 'Starting the sandbox…');
      err.hidden = true;
      try {
        const items = await startSandbox();
        nav.refreshStatus();
        profiles = items && items.length ? items : await listProfiles();
        draw(profiles, profiles[0] && profiles[0].id);
        toast('Sandbox started with two demo connections');
      } catch (e) {
        err.textContent = errorText(e);
        err.hidden = false;
        sandboxBtn.disabled = false;
        sandboxBtn.removeAttribute('aria-busy');
        sandboxBtn.replaceChildren(h('span', { class: 'icon icon-flask', 'aria-hidden': 'true' }), 'Try it with the built-in sandbox');
      }
    });
    return h('div', { class: 'empty-state' },
      h('img', { class: 'empty-art', src: 'img/empty.svg', alt: '', width: 160, height: 120 }),
      h('h2', { class: 'empty-title' }, 'Send mail through an API, not SMTP'),
      h('p', { class: 'empty-text' },
        'Mailwire sets up and verifies an app that sends email through Microsoft Graph (Microsoft 365) or the Gmail API (Google Workspace). ',
        'It walks you through the admin console steps, checks sign-in, permissions and the mailbox one by one, and tells you exactly what to fix when something fails.'),
      h('div', { class: 'empty-actions' },
        h('button', { type: 'button', id: 'add-connection', class: 'btn btn-primary btn-large', on: { click: () => nav.go('form', {}) } },
          h('span', { class: 'icon icon-plus', 'aria-hidden': 'true' }), 'Add connection'),
        sandboxBtn),
      err,
      h('p', { class: 'empty-note' },
        'The sandbox runs a stand-in for Microsoft and Google on this computer and adds two demo connections: one that works and one that fails with a diagnosis. Nothing leaves your machine.'));
  }
}

// Mail stops the day the app's certificate expires; the core says when renewal is due.
function certificateBadge(expires) {
  const days = Math.floor((new Date(expires).getTime() - Date.now()) / 86400000);
  const text = days < 0 ? 'Certificate expired' : days === 0 ? 'Certificate expires today' : `Certificate expires in ${days} day${days === 1 ? '' : 's'}`;
  return h('span', { class: 'badge badge-warn', title: `Renew it before ${absoluteTime(expires)}: edit the connection and create a new certificate.` }, text);
}

function lastCheck(lc) {
  let state, icon, text, when = null;
  if (!lc) {
    state = 'never'; icon = '–'; text = 'Never checked';
  } else if (lc.ok) {
    state = 'pass'; icon = '✓'; text = 'Passed';
  } else {
    state = 'fail'; icon = '✗';
    // The failed step's title can be long (it may name a scope); the row says "Failed" with the
    // provider's code, and the title is one hover away.
    text = 'Failed';
  }
  if (lc && lc.at) when = h('time', { class: 'row-when', datetime: lc.at, title: absoluteTime(lc.at) }, relativeTime(lc.at));
  return h('div', { class: 'row-status', dataset: { state } },
    h('span', { class: 'status-dot', 'aria-hidden': 'true' }, icon),
    h('div', { class: 'row-status-text' },
      h('span', { class: 'row-result', title: lc && !lc.ok && lc.failedStep ? `Failed at “${lc.failedStep}”` : null }, text),
      h('span', { class: 'row-status-meta' },
        lc && !lc.ok && lc.code ? h('code', { class: 'row-code' }, lc.code) : null,
        when)));
}

function errorPanel(message, retry) {
  return h('div', { class: 'error-panel', role: 'alert' },
    h('p', null, message),
    h('button', { type: 'button', class: 'btn', on: { click: retry } }, 'Try again'));
}
