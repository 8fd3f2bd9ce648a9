// Network settings: how Mailwire reaches Microsoft and Google from this computer. Corporate
// networks need a proxy or their own root certificate; slow links need longer timeouts. The proxy
// password goes to the system keychain and is never shown again.
import { getNetworkSettings, saveNetworkSettings, chooseCaFile } from '../api.js';
import { h, mount } from '../util/dom.js';
import { errorText } from '../util/format.js';
import { toast } from '../util/ui.js';

export async function render(root, _params, nav) {
  document.title = 'Network settings — Mailwire';
  const titleEl = h('h1', { id: 'settings-title' }, 'Network settings');
  const view = h('section', { id: 'network-settings', class: 'view view-form', 'aria-labelledby': 'settings-title' });
  root.append(view);

  let current;
  try {
    current = await getNetworkSettings();
  } catch (err) {
    mount(view, header(), h('div', { class: 'error-panel', role: 'alert' }, h('p', null, errorText(err))));
    return undefined;
  }

  const inputs = {};
  const messages = {};
  const formError = h('div', { id: 'settings-error', class: 'form-error', role: 'alert', hidden: true });
  const saveBtn = h('button', { type: 'submit', id: 'save-settings', class: 'btn btn-primary' }, 'Save settings');
  const form = h('form', { class: 'form-col', novalidate: true, 'aria-labelledby': 'settings-title', autocomplete: 'off' },
    formError,
    section('Proxy', 'Leave empty to use the system settings and the HTTPS_PROXY / NO_PROXY environment variables.',
      field('proxyUrl', 'Proxy address', current.proxyUrl, { placeholder: 'http://proxy.example.com:3128', mono: true }),
      field('proxyUsername', 'Proxy user name', current.proxyUsername, { optional: true }),
      field('proxyPassword', 'Proxy password', '', {
        type: 'password', optional: true,
        hint: current.proxyPasswordStored
          ? 'A password is stored in the system keychain. Type a new one to replace it.'
          : 'Kept in the system keychain, never in a file.',
      })),
    section('Certificates', 'If your network inspects HTTPS, add your organisation’s root certificate here (PEM or DER file). The system’s trusted certificates are always used too.',
      field('caFile', 'Extra CA certificate file', current.caFile, { placeholder: '/path/to/corporate-root.pem', mono: true, optional: true,
        button: h('button', { type: 'button', class: 'btn', id: 'choose-ca-file', 'aria-label': 'Choose the extra CA certificate file', on: { click: pickCaFile } }, 'Choose…') })),
    section('Timeouts', 'In seconds. Raise them on slow or satellite links.',
      field('connectTimeoutSecs', 'Connect timeout', current.connectTimeoutSecs, { type: 'number', placeholder: '10', optional: true }),
      field('requestTimeoutSecs', 'Request timeout', current.requestTimeoutSecs, { type: 'number', placeholder: '30', optional: true })),
    h('div', { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn', id: 'cancel-settings', on: { click: () => nav.go('list') } }, 'Cancel'),
      saveBtn));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.hidden = true;
    Object.values(messages).forEach((m) => { m.hidden = true; });
    const text = (k) => inputs[k].value.trim() || null;
    const seconds = (k) => (inputs[k].value.trim() ? Number.parseInt(inputs[k].value, 10) : null);
    saveBtn.disabled = true;
    try {
      await saveNetworkSettings({
        proxyUrl: text('proxyUrl'),
        proxyUsername: text('proxyUsername'),
        caFile: text('caFile'),
        connectTimeoutSecs: seconds('connectTimeoutSecs'),
        requestTimeoutSecs: seconds('requestTimeoutSecs'),
      }, inputs.proxyPassword.value || null);
      toast('Network settings saved');
      nav.go('list');
    } catch (err) {
      const target = err && err.field && messages[err.field];
      if (target) {
        target.textContent = errorText(err);
        target.dataset.level = 'error';
        target.hidden = false;
        inputs[err.field].setAttribute('aria-invalid', 'true');
        inputs[err.field].focus();
      } else {
        formError.textContent = errorText(err);
        formError.hidden = false;
      }
    } finally {
      saveBtn.disabled = false;
    }
  });
  mount(view, header(), h('div', { class: 'form-layout form-layout-single' }, form));
  return undefined;

  function header() {
    return h('header', { class: 'view-header' },
      h('div', { class: 'view-header-lead' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-back', id: 'settings-back', on: { click: () => nav.go('list') } },
          h('span', { class: 'icon icon-chevron-left', 'aria-hidden': 'true' }), 'Connections'),
        h('div', { class: 'view-header-text' }, titleEl,
          h('p', { class: 'view-subtitle' }, 'How Mailwire reaches Microsoft and Google from this computer. The command-line tool uses these settings too.'))));
  }

  function section(title, desc, ...children) {
    return h('fieldset', { class: 'form-section' },
      h('legend', { class: 'form-section-title' }, title),
      desc ? h('p', { class: 'form-section-desc' }, desc) : null,
      h('div', { class: 'form-card' }, children));
  }

  async function pickCaFile(event) {
    const button = event.currentTarget;
    if (button.disabled) return;
    button.disabled = true;
    try {
      const path = await chooseCaFile();
      if (path) {
        inputs.caFile.value = path;
        inputs.caFile.removeAttribute('aria-invalid');
        messages.caFile.hidden = true;
      }
    } catch (err) {
      toast(errorText(err), 'error');
    } finally {
      button.disabled = false;
    }
  }

  function field(key, label, value, { type = 'text', placeholder, hint, mono, optional, button } = {}) {
    const id = `setting-${key}`;
    const msg = h('p', { class: 'field-message', id: `${id}-msg`, role: 'alert', hidden: true });
    const hintEl = hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null;
    const input = h('input', {
      id, type, class: ['input', mono ? 'mono' : null], value: value ?? '',
      placeholder: placeholder || null, autocomplete: type === 'password' ? 'new-password' : 'off', spellcheck: 'false',
      min: type === 'number' ? '1' : null, max: type === 'number' ? '600' : null,
      'aria-describedby': [hintEl ? hintEl.id : null, msg.id].filter(Boolean).join(' '),
    });
    inputs[key] = input;
    messages[key] = msg;
    return h('div', { class: 'field' },
      h('label', { class: 'field-label', for: id }, label, optional ? h('span', { class: 'field-optional' }, 'optional') : null),
      button ? h('div', { class: 'input-with-button' }, input, button) : input, hintEl, msg);
  }
}
