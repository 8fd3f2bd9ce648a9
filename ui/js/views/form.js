// Add / edit a connection. The core owns every rule: fields are checked as the user types through
// `validateField`, and `saveProfile` has the final word. Secrets are typed, sent once, and then only
// ever shown as "stored in the system keychain".
import {
  getProfile, saveProfile, validateField, importGoogleKey, googleDelegationInfo,
  createCertificate, importCertificate, unlockCertificate, exportCertificate,
  onFileDrop, onFileDragHover, openLink,
} from '../api.js';
import { h, mount, uid, providerLogo, providerName, debounce } from '../util/dom.js';
import { errorText } from '../util/format.js';
import { copyText } from '../util/clipboard.js';
import { toast, confirmDialog } from '../util/ui.js';
import { microsoftGuide, googleGuide } from './guide.js';

const SCOPE_FULL = 'https://mail.google.com/';
const SCOPE_SEND = 'https://www.googleapis.com/auth/gmail.send';

const CLOUDS = [
  ['global', 'Global (incl. GCC)'],
  ['usgov', 'US Government (GCC High)'],
  ['usgov-dod', 'US Government (DoD)'],
  ['china', 'China (21Vianet)'],
];

export async function render(root, params, nav) {
  const editing = Boolean(params.id);
  const state = {
    id: params.id || null,
    provider: null,
    sandbox: false,
    secretStored: false,
    replacingSecret: false,
    credential: 'secret',     // 'secret' or 'certificate'
    certificateKeyStored: false,
    storedCertificate: null,  // public facts of the saved certificate
    newCertificate: null,     // created or chosen in this form, replaces the saved one on save
    certificateBusy: false,
    pfxPrompt: null,          // { message, wrong }: a chosen .pfx waits for its password
    keyStored: false,
    storedKey: null,      // public facts of the key already in the keychain
    importedKey: null,    // result of importGoogleKey, replaces the stored key on save
    scope: SCOPE_FULL,
    scopeString: SCOPE_FULL,
    delegationUrl: null,
    gmailApiUrl: null,
    clientIdOk: false,
    dirty: false,
    saving: false,
  };
  // Values typed so far, kept across a provider switch so the name and mailboxes are not lost.
  const values = { name: '', sender: '', recipient: '', cloud: 'global', tenant: '', clientId: '' };
  const fields = {};       // key → field handle, for validation and save errors
  const debouncers = [];
  const offs = [];

  document.title = editing ? 'Edit connection — Mailwire' : 'Add connection — Mailwire';
  const titleEl = h('h1', { id: 'form-title' }, editing ? 'Edit connection' : 'Add connection');
  const view = h('section', { id: 'connection-form', class: 'view view-form', 'aria-labelledby': 'form-title' });
  root.append(view);

  if (editing) {
    try {
      const p = await getProfile(state.id);
      state.provider = p.provider;
      state.sandbox = Boolean(p.sandbox);
      Object.assign(values, { name: p.name || '', sender: p.sender || '', recipient: p.recipient || '' });
      if (p.microsoft) {
        Object.assign(values, { cloud: p.microsoft.cloud || 'global', tenant: p.microsoft.tenant || '', clientId: p.microsoft.clientId || '' });
        state.secretStored = Boolean(p.microsoft.clientSecretStored);
        state.certificateKeyStored = Boolean(p.microsoft.certificateKeyStored);
        state.credential = p.microsoft.credential || 'secret';
        state.storedCertificate = p.microsoft.certificate || null;
      }
      if (p.google) {
        state.keyStored = Boolean(p.google.keyStored);
        state.storedKey = p.google.key || null;
        state.delegationUrl = p.google.delegationUrl || null;
        state.gmailApiUrl = p.google.gmailApiUrl || null;
        const scopes = p.google.scopes && p.google.scopes.length ? p.google.scopes : [SCOPE_FULL];
        state.scope = scopes.includes(SCOPE_SEND) && !scopes.includes(SCOPE_FULL) ? SCOPE_SEND : SCOPE_FULL;
        state.scopeString = scopes.join(',');
      }
      titleEl.textContent = `Edit “${p.name}”`;
    } catch (err) {
      mount(view, header(), h('div', { class: 'error-panel', role: 'alert' }, h('p', null, errorText(err)),
        h('button', { type: 'button', class: 'btn', on: { click: () => nav.go('list') } }, 'Back to connections')));
      return cleanup;
    }
  }

  const providerSlot = h('div', { class: 'provider-slot' });
  const formSlot = h('div', { class: 'form-slot' });
  mount(view, header(), providerSlot, formSlot);
  drawProviderChooser();
  if (state.provider) drawForm();

  // Dropped key files: only meaningful for Google, but listening for the whole view lets a drop
  // on the still-empty form pick Google for the user.
  const overlay = document.getElementById('drop-overlay');
  try {
    offs.push(await onFileDragHover((over) => {
      overlay.hidden = !(over && state.provider !== 'microsoft');
    }));
    offs.push(await onFileDrop((paths) => {
      overlay.hidden = true;
      handleDrop(paths);
    }));
  } catch (_) {
    /* no drag-drop events in this build; the button still works */
  }

  return cleanup;

  function cleanup() {
    debouncers.forEach((d) => d.cancel());
    offs.forEach((off) => { try { off(); } catch (_) { /* already gone */ } });
    overlay.hidden = true;
  }

  function header() {
    return h('header', { class: 'view-header' },
      h('div', { class: 'view-header-lead' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-back', id: 'form-back', on: { click: cancel } },
          h('span', { class: 'icon icon-chevron-left', 'aria-hidden': 'true' }), editing ? 'Back' : 'Connections'),
        h('div', { class: 'view-header-text' }, titleEl,
          h('p', { class: 'view-subtitle' }, editing
            ? 'Change the settings, then save to run the checks again.'
            : 'Choose the provider your organisation sends mail with.'))));
  }

  // ---- provider choice ----------------------------------------------------------------------

  function drawProviderChooser() {
    if (editing) {
      mount(providerSlot, h('div', { class: 'provider-fixed' }, providerLogo(state.provider, 'sm'),
        h('span', null, providerName(state.provider)),
        state.sandbox ? h('span', { class: 'badge badge-sandbox' }, 'Sandbox') : null));
      return;
    }
    const choice = (id, provider, desc) => h('button', {
      type: 'button', id, class: 'provider-choice',
      'aria-pressed': String(state.provider === provider),
      on: { click: () => chooseProvider(provider) },
    },
      providerLogo(provider, 'lg'),
      h('span', { class: 'provider-choice-text' },
        h('span', { class: 'provider-choice-name' }, providerName(provider)),
        h('span', { class: 'provider-choice-desc' }, desc)),
      h('span', { class: 'provider-choice-check', 'aria-hidden': 'true' }));
    mount(providerSlot, h('div', { class: ['provider-chooser', state.provider ? 'compact' : null], role: 'group', 'aria-label': 'Provider' },
      choice('provider-microsoft', 'microsoft', 'Microsoft Graph with an Entra app registration'),
      choice('provider-google', 'google', 'Gmail API with a service account and domain-wide delegation')));
  }

  function chooseProvider(provider) {
    if (state.provider === provider) return;
    collectValues();
    const first = !state.provider;
    state.provider = provider;
    drawProviderChooser();
    drawForm();
    // On the first choice move on to the first field; on a switch keep focus on the pressed button.
    if (first) document.getElementById('field-name')?.focus();
    else document.getElementById(`provider-${provider}`)?.focus();
  }

  // ---- the form -------------------------------------------------------------------------------

  function drawForm() {
    debouncers.forEach((d) => d.cancel());
    debouncers.length = 0;
    for (const k of Object.keys(fields)) delete fields[k];

    const formError = h('div', { id: 'form-error', class: 'form-error', role: 'alert', hidden: true });
    const saveBtn = h('button', { type: 'submit', id: 'save-connection', class: 'btn btn-primary' }, editing ? 'Save' : 'Save connection');
    const form = h('form', { class: 'form-col', novalidate: true, 'aria-labelledby': 'form-title', autocomplete: 'off' },
      formError,
      section('General', null,
        textField({ key: 'name', id: 'field-name', label: 'Connection name', value: values.name,
          hint: 'How this connection appears in the list, for example “Helpdesk notifications”.', autocomplete: 'off' })),
      state.provider === 'microsoft' ? microsoftSections() : googleSections(),
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'btn', id: 'cancel-connection', on: { click: cancel } }, 'Cancel'),
        saveBtn));
    form.addEventListener('submit', (e) => { e.preventDefault(); save(form, saveBtn, formError); });
    form.addEventListener('input', () => { state.dirty = true; });

    const guideEl = state.provider === 'microsoft'
      ? microsoftGuide(() => ({ clientId: state.clientIdOk ? currentValue('clientId') : null }))
      : googleGuide(() => ({ projectId: currentKey()?.projectId || null, gmailApiUrl: state.gmailApiUrl, delegationUrl: state.delegationUrl }));
    mount(formSlot, h('div', { class: 'form-layout' }, form, h('div', { class: 'guide-col' }, guideEl)));
  }

  function section(title, desc, ...children) {
    return h('fieldset', { class: 'form-section' },
      h('legend', { class: 'form-section-title' }, title),
      desc ? h('p', { class: 'form-section-desc' }, desc) : null,
      h('div', { class: 'form-card' }, children));
  }

  function microsoftSections() {
    const cloud = h('select', { id: 'field-cloud', class: 'input', 'aria-describedby': 'field-cloud-hint', value: values.cloud },
      CLOUDS.map(([v, label]) => h('option', { value: v }, label)));
    cloud.value = values.cloud;
    const cloudMsg = fieldMessage('field-cloud');
    fields.cloud = { input: cloud, setMessage: messageSetter(cloud, cloudMsg) };
    return [
      section('Entra app', 'From the app registration’s Overview and Certificates & secrets pages.',
        h('div', { class: 'field' },
          h('label', { class: 'field-label', for: 'field-cloud' }, 'Cloud'),
          cloud,
          h('p', { class: 'field-hint', id: 'field-cloud-hint' }, 'Where your tenant lives. Most organisations, including GCC, use Global.'),
          cloudMsg),
        textField({ key: 'tenant', id: 'field-tenant', label: 'Tenant ID or domain', value: values.tenant, mono: true,
          placeholder: '00000000-0000-0000-0000-000000000000',
          hint: 'Directory (tenant) ID, or a verified domain such as contoso.onmicrosoft.com.' }),
        textField({ key: 'clientId', id: 'field-client-id', label: 'Client ID', value: values.clientId, mono: true,
          placeholder: '00000000-0000-0000-0000-000000000000', hint: 'Application (client) ID of the app registration.',
          onResult: (level) => { state.clientIdOk = level === 'ok'; } }),
        credentialField()),
      mailboxSection('Sender mailbox', 'The mailbox the app sends as, e.g. helpdesk@contoso.com. It must be a licensed Exchange Online mailbox.'),
    ];
  }

  // The app proves who it is with a client secret or a certificate; both live in the keychain.
  function credentialField() {
    // The sandbox's app knows only its client secret.
    if (state.sandbox) return secretField();
    const slot = h('div', { class: 'credential-slot' });
    const draw = () => mount(slot, state.credential === 'certificate' ? certificateField() : secretField());
    const radio = (id, value, title) => h('label', { class: 'segmented-option', for: id },
      h('input', { type: 'radio', id, name: 'credential', value, checked: state.credential === value,
        on: { change: () => { state.credential = value; state.dirty = true; draw(); } } }),
      h('span', null, title));
    const group = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'The app signs in with' },
      radio('credential-secret', 'secret', 'Client secret'),
      radio('credential-certificate', 'certificate', 'Certificate'));
    draw();
    return h('div', { class: 'credential-block' },
      h('div', { class: 'field' },
        h('span', { class: 'field-label', id: 'credential-label' }, 'Signs in with'),
        group,
        h('p', { class: 'field-hint' }, 'A certificate is what many security teams require; a client secret is quicker to set up.')),
      slot);
  }

  function certificateField() {
    const wrap = h('div', { class: 'field', id: 'certificate-field' });
    const msg = h('p', { class: 'field-message', id: 'certificate-msg', role: 'alert', hidden: true });
    fields.certificate = { input: null, setMessage: (level, text) => setMsg(msg, level, text) };
    const cert = state.newCertificate || state.storedCertificate;
    const busy = (button, text) => { button.disabled = true; button.replaceChildren(h('span', { class: 'spinner spinner-small', 'aria-hidden': 'true' }), text); };
    const pick = async (button, how) => {
      if (state.certificateBusy) return;
      state.certificateBusy = true;
      busy(button, how === 'create' ? 'Creating…' : 'Reading…');
      try {
        collectValues();
        const name = values.name.trim() || 'Mailwire';
        const result = how === 'create' ? await createCertificate(name) : await importCertificate(name);
        state.pfxPrompt = null;
        if (result) { state.newCertificate = result; state.dirty = true; }
        state.certificateBusy = false;
        mount(wrap.parentElement, certificateField());
        document.getElementById(result ? 'save-certificate' : (how === 'create' ? 'create-certificate' : 'choose-certificate'))?.focus();
      } catch (err) {
        state.certificateBusy = false;
        if (err && err.kind === 'pfx_password') {
          state.pfxPrompt = { message: errorText(err), wrong: false };
          mount(wrap.parentElement, certificateField());
          document.getElementById('certificate-password')?.focus();
          return;
        }
        // Another choice failed: a password prompt for an earlier .pfx would now open the wrong file.
        state.pfxPrompt = null;
        mount(wrap.parentElement, certificateField());
        fields.certificate.setMessage('error', errorText(err));
      }
    };
    // A .pfx is sealed with the password it was exported with; it goes to Rust once, for opening.
    const pfxPasswordBlock = () => {
      const input = h('input', { id: 'certificate-password', type: 'password', class: 'input', autocomplete: 'off',
        spellcheck: 'false', 'aria-describedby': 'certificate-password-msg' });
      const promptMsg = h('p', { class: 'field-message', id: 'certificate-password-msg', role: 'alert', hidden: true });
      setMsg(promptMsg, state.pfxPrompt.wrong ? 'error' : 'warn', state.pfxPrompt.message);
      const open = h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'unlock-certificate' }, 'Open');
      const cancel = h('button', { type: 'button', class: 'btn btn-small btn-ghost', id: 'cancel-unlock' }, 'Cancel');
      const submit = async () => {
        if (state.certificateBusy) return;
        state.certificateBusy = true;
        busy(open, 'Opening…');
        const password = input.value;
        input.value = '';
        try {
          collectValues();
          state.newCertificate = await unlockCertificate(values.name.trim() || 'Mailwire', password);
          state.dirty = true;
          state.pfxPrompt = null;
          state.certificateBusy = false;
          mount(wrap.parentElement, certificateField());
          document.getElementById('save-certificate')?.focus();
        } catch (err) {
          state.certificateBusy = false;
          const again = err && err.kind === 'pfx_password';
          state.pfxPrompt = again ? { message: errorText(err), wrong: true } : null;
          mount(wrap.parentElement, certificateField());
          if (again) document.getElementById('certificate-password')?.focus();
          else fields.certificate.setMessage('error', errorText(err));
        }
      };
      open.addEventListener('click', submit);
      // Enter opens the file rather than submitting the whole connection form.
      input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); submit(); } });
      cancel.addEventListener('click', () => { state.pfxPrompt = null; mount(wrap.parentElement, certificateField()); });
      return h('div', { class: 'pfx-password' },
        h('label', { class: 'field-label', for: 'certificate-password' }, 'Password of the .pfx file'),
        h('div', { class: 'button-row' }, input, open, cancel),
        promptMsg);
    };
    const create = h('button', { type: 'button', class: cert ? 'btn btn-small' : 'btn btn-primary', id: 'create-certificate' },
      cert ? 'Create a new one' : 'Create a certificate');
    const choose = h('button', { type: 'button', class: cert ? 'btn btn-small btn-ghost' : 'btn', id: 'choose-certificate' },
      cert ? 'Use other files…' : 'Use existing files…');
    create.addEventListener('click', () => pick(create, 'create'));
    choose.addEventListener('click', () => pick(choose, 'choose'));
    const label = h('span', { class: 'field-label', id: 'label-certificate' }, 'Certificate');
    if (!cert) {
      mount(wrap, label,
        h('p', { class: 'field-hint' }, 'Mailwire can create one: its private key goes straight to the system keychain, and you upload the public certificate to the app registration. Or use the one you have: a .pfx file, or PEM files.'),
        h('div', { class: 'button-row' }, create, choose), state.pfxPrompt ? pfxPasswordBlock() : null, msg);
      return wrap;
    }
    const fresh = Boolean(state.newCertificate);
    const expires = new Date(cert.notAfter);
    const expired = expires.getTime() < Date.now();
    const save = h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'save-certificate' },
      h('span', { class: 'icon icon-download', 'aria-hidden': 'true' }), 'Save certificate for Entra…');
    save.addEventListener('click', async () => {
      try {
        const path = await exportCertificate(fresh ? { importId: cert.importId } : { profileId: state.id });
        if (path) {
          setMsg(msg, 'ok', `Saved to ${path}. Upload it under Certificates & secrets → Certificates → Upload certificate.`);
        }
      } catch (err) {
        setMsg(msg, 'error', errorText(err));
      }
    });
    mount(wrap, label,
      h('div', { class: 'stored-row' },
        fresh || state.certificateKeyStored
          ? h('span', { class: ['stored-pill', fresh ? 'stored-pill-new' : null], id: 'certificate-stored-text' },
            h('span', { class: 'icon icon-lock', 'aria-hidden': 'true' }),
            fresh ? 'Private key stored in the system keychain when you save' : 'Private key stored in the system keychain')
          : h('span', { class: 'stored-pill stored-pill-missing', id: 'certificate-stored-text', role: 'alert' },
            h('span', { class: 'icon icon-alert', 'aria-hidden': 'true' }),
            'Private key missing from the keychain: use the files again, or create a new certificate')),
      h('dl', { class: 'facts' },
        fact('Thumbprint', cert.thumbprint, 'certificate-thumbprint', true),
        fact('Subject', cert.subject, 'certificate-subject'),
        fact(expired ? 'Expired' : 'Expires', expires.toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' }), 'certificate-expires')),
      h('p', { class: 'field-hint' }, 'Upload the certificate in the Entra admin center: App registrations → your app → Certificates & secrets → Certificates → Upload certificate. The Thumbprint there must match the one above.'),
      h('div', { class: 'button-row' }, save, create, choose),
      state.pfxPrompt ? pfxPasswordBlock() : null,
      msg);
    return wrap;
  }

  function secretField() {
    const wrap = h('div', { class: 'field' });
    const input = inputFor({ key: 'clientSecret', id: 'field-client-secret', type: 'password', mono: true,
      hint: 'Paste the secret’s Value, not its Secret ID.', autocomplete: 'new-password' });
    const inputBlock = h('div', { class: 'secret-input' }, input.control, input.hint, input.msg);
    const label = h('label', { class: 'field-label', for: 'field-client-secret', id: 'label-client-secret' }, 'Client secret');
    if (!state.secretStored) {
      mount(wrap, label, inputBlock);
      return wrap;
    }
    const keep = h('button', { type: 'button', class: 'btn btn-small btn-ghost', id: 'keep-secret' }, 'Keep stored secret');
    const replace = h('button', { type: 'button', class: 'btn btn-small', id: 'replace-secret', 'aria-describedby': 'secret-stored-text' }, 'Replace');
    const stored = h('div', { class: 'stored-row', id: 'secret-stored' },
      h('span', { class: 'stored-pill', id: 'secret-stored-text' },
        h('span', { class: 'icon icon-lock', 'aria-hidden': 'true' }), 'Stored in the system keychain'),
      replace);
    inputBlock.append(h('div', { class: 'secret-keep' }, keep));
    const showStored = () => {
      state.replacingSecret = false;
      input.control.value = '';
      input.setMessage(null);
      inputBlock.hidden = true;
      stored.hidden = false;
    };
    replace.addEventListener('click', () => {
      state.replacingSecret = true;
      stored.hidden = true;
      inputBlock.hidden = false;
      input.control.focus();
    });
    keep.addEventListener('click', () => { showStored(); replace.focus(); });
    mount(wrap, label, stored, inputBlock);
    if (state.replacingSecret) { stored.hidden = true; } else { inputBlock.hidden = true; }
    return wrap;
  }

  function mailboxSection(senderLabel, senderHint) {
    return section('Mailbox', null,
      textField({ key: 'sender', id: 'field-sender', label: senderLabel, value: values.sender, type: 'email',
        placeholder: 'helpdesk@example.com', hint: senderHint }),
      textField({ key: 'recipient', id: 'field-recipient', label: 'Test recipient', optional: true, value: values.recipient, type: 'email',
        placeholder: 'you@example.com', hint: 'Where “Send test email” delivers. Leave empty to send to the sender mailbox.' }));
  }

  // ---- Google -------------------------------------------------------------------------------

  function googleSections() {
    const keySlot = h('div', { class: 'key-slot' });
    const delegationSlot = h('div', { class: 'delegation-slot' });
    const keyMsg = h('p', { class: 'field-message', id: 'key-msg', role: 'alert', hidden: true });
    fields.key = { input: null, setMessage: (level, text) => setMsg(keyMsg, level, text) };
    state.drawKey = () => { mount(keySlot, keyBlock()); mount(delegationSlot, delegationBlock()); };
    state.drawKey();

    const scopeDescId = uid('scope-desc');
    const scopeMsg = h('p', { class: 'field-message', id: 'scope-msg', hidden: true });
    const radio = (id, value, title, desc) => h('label', { class: 'radio-card', for: id },
      h('input', { type: 'radio', id, name: 'scope', value, checked: state.scope === value,
        on: { change: () => chooseScope(value) } }),
      h('span', { class: 'radio-card-text' },
        h('span', { class: 'radio-card-title' }, title),
        h('code', { class: 'radio-card-code' }, value),
        h('span', { class: 'radio-card-desc' }, desc)));
    const scopeGroup = h('div', { class: 'radio-group', role: 'radiogroup', 'aria-label': 'Access scope', 'aria-describedby': scopeDescId },
      radio('scope-full', SCOPE_FULL, 'Full Gmail access (recommended for setup)',
        'Lets Mailwire also read the sender’s mailbox profile, so a wrong user or a missing mailbox shows up before anything is sent.'),
      radio('scope-send', SCOPE_SEND, 'Send only (least privilege)',
        'The service account can only send. The mailbox check cannot run with this scope, so the test email is the proof that delegation works.'));
    fields.scopes = { input: scopeGroup, setMessage: (level, text) => setMsg(scopeMsg, level, text) };

    return [
      section('Service account key', 'The JSON key file you downloaded for the service account.', keySlot, keyMsg),
      section('Access scope', null,
        h('p', { class: 'field-hint', id: scopeDescId }, 'The scope you authorize in the Admin Console must match this choice exactly.'),
        scopeGroup, scopeMsg),
      delegationSlot,
      mailboxSection('Send as (user to act as)', 'A user in your Google Workspace domain. The service account acts as this user, so mail comes from this address.'),
    ];
  }

  function currentKey() { return state.importedKey || state.storedKey; }

  function keyBlock() {
    const key = currentKey();
    if (!key) {
      const choose = h('button', { type: 'button', id: 'choose-key', class: 'btn btn-primary', on: { click: () => importKey() } },
        h('span', { class: 'icon icon-key', 'aria-hidden': 'true' }), 'Choose key file…');
      return h('div', { class: 'dropzone' },
        h('span', { class: 'dropzone-icon icon icon-file-json', 'aria-hidden': 'true' }),
        h('p', { class: 'dropzone-text' }, 'Choose the service account’s ', h('strong', null, '.json'), ' key file, or drop it onto this window.'),
        choose,
        h('p', { class: 'dropzone-note' }, 'The private key goes straight to the system keychain. Mailwire only shows its public details.'));
    }
    const fresh = Boolean(state.importedKey);
    return h('div', { class: 'key-facts-block' },
      h('div', { class: 'stored-row' },
        h('span', { class: ['stored-pill', fresh ? 'stored-pill-new' : null], id: 'key-stored-text' },
          h('span', { class: 'icon icon-lock', 'aria-hidden': 'true' }),
          fresh ? (state.keyStored ? 'New key read · replaces the stored key when you save' : 'Key read · stored in the system keychain when you save')
            : 'Key stored in the system keychain'),
        h('button', { type: 'button', id: 'choose-key', class: 'btn btn-small', 'aria-describedby': 'key-stored-text', on: { click: () => importKey() } },
          'Replace key…')),
      h('dl', { class: 'facts' },
        fact('Service account', key.clientEmail, 'key-client-email'),
        fact('Project', key.projectId, 'key-project-id'),
        fact('Key ID', key.privateKeyId, 'key-private-key-id', true)));
  }

  function fact(label, value, id, mono) {
    return h('div', { class: 'fact' },
      h('dt', null, label),
      h('dd', { id, class: mono ? 'mono' : null, title: value || '' }, value || '—'));
  }

  function delegationBlock() {
    const key = currentKey();
    if (!key) return null;
    return section('Domain-wide delegation', 'In the Admin Console, add a new delegation with these two values.',
      copyRow('Client ID', key.clientId, 'key-client-id', 'copy-client-id'),
      copyRow('OAuth scopes', state.scopeString, 'scope-string', 'copy-scope'),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'btn', id: 'open-delegation', on: { click: () => open(state.delegationUrl) } },
          'Open the Admin Console delegation page', h('span', { class: 'icon icon-external', 'aria-hidden': 'true' })),
        h('button', { type: 'button', class: 'btn', id: 'open-gmail-api', on: { click: () => open(state.gmailApiUrl) } },
          'Enable the Gmail API', h('span', { class: 'icon icon-external', 'aria-hidden': 'true' }))));
  }

  function copyRow(label, value, valueId, buttonId) {
    const labelId = `${valueId}-label`;
    return h('div', { class: 'copy-row' },
      h('span', { class: 'copy-label', id: labelId }, label),
      h('code', { class: 'copy-value', id: valueId, 'aria-labelledby': labelId }, value || ''),
      h('button', { type: 'button', class: 'btn btn-small', id: buttonId, 'aria-label': `Copy ${label}`,
        on: { click: async () => {
          // Read at click time: the scope string changes with the scope choice.
          const text = document.getElementById(valueId)?.textContent || '';
          toast(await copyText(text) ? `${label} copied` : 'Could not copy. Select the text and copy it instead.', 'info');
        } } },
      h('span', { class: 'icon icon-copy', 'aria-hidden': 'true' }), 'Copy'));
  }

  async function open(url) {
    if (!url) return;
    try { await openLink(url); } catch (err) { toast(errorText(err), 'error'); }
  }

  async function importKey(path) {
    fields.key?.setMessage(null);
    const btn = document.getElementById('choose-key');
    if (btn) { btn.disabled = true; btn.setAttribute('aria-busy', 'true'); }
    try {
      const r = await importGoogleKey(path ? { path } : {});
      if (!r) return; // dialog cancelled
      state.importedKey = r;
      state.dirty = true;
      state.delegationUrl = r.delegationUrl || state.delegationUrl;
      state.gmailApiUrl = r.gmailApiUrl || state.gmailApiUrl;
      const importedScopes = (r.scopes || []).join(',');
      if (r.scopeString && importedScopes === state.scope) state.scopeString = r.scopeString;
      else await refreshDelegation();
      state.drawKey();
      toast('Key read. Next: authorize its Client ID in the Admin Console.');
      document.getElementById('copy-client-id')?.focus();
    } catch (err) {
      fields.key?.setMessage('error', errorText(err));
    } finally {
      const b = document.getElementById('choose-key');
      if (b) { b.disabled = false; b.removeAttribute('aria-busy'); }
    }
  }

  async function chooseScope(value) {
    state.scope = value;
    state.dirty = true;
    await refreshDelegation();
    const s = document.getElementById('scope-string');
    if (s) s.textContent = state.scopeString;
  }

  // The scope string and the prefilled delegation link come from the core, so they always match
  // what the token request will ask for.
  async function refreshDelegation() {
    const key = currentKey();
    if (!key || !key.clientId) { state.scopeString = state.scope; return; }
    try {
      const info = await googleDelegationInfo(key.clientId, [state.scope]);
      state.scopeString = info.scopeString;
      state.delegationUrl = info.delegationUrl || state.delegationUrl;
    } catch (_) {
      state.scopeString = state.scope;
    }
  }

  function handleDrop(paths) {
    if (state.provider === 'microsoft') {
      toast('Key files are for Google Workspace connections.', 'info');
      return;
    }
    const json = (paths || []).find((p) => /\.json$/i.test(p));
    if (!state.provider) {
      if (!json) { toast('Drop the service account’s .json key file.', 'error'); return; }
      chooseProvider('google');
    }
    if (!json) {
      fields.key?.setMessage('error', 'That is not a .json file. Drop the JSON key you downloaded for the service account.');
      return;
    }
    importKey(json);
  }

  // ---- fields and validation ------------------------------------------------------------------

  function fieldMessage(id) {
    return h('p', { class: 'field-message', id: `${id}-msg`, hidden: true });
  }

  function setMsg(el, level, text) {
    if (!level || !text) {
      el.hidden = true;
      el.textContent = '';
      delete el.dataset.level;
      return;
    }
    el.dataset.level = level;
    el.replaceChildren(h('span', { class: 'field-message-icon', 'aria-hidden': 'true' }, level === 'error' ? '✗' : level === 'warn' ? '!' : '✓'), text);
    el.hidden = false;
  }

  function messageSetter(input, msgEl) {
    return (level, text) => {
      setMsg(msgEl, level, text);
      if (level === 'error' && text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    };
  }

  function inputFor({ key, id, type = 'text', value = '', placeholder, hint, mono, autocomplete = 'off', optional, onResult }) {
    const hintId = `${id}-hint`;
    const msg = fieldMessage(id);
    const control = h('input', {
      id, type, class: ['input', mono ? 'mono' : null], value,
      placeholder: placeholder || null, autocomplete, spellcheck: 'false', autocapitalize: 'off', autocorrect: 'off',
      'aria-describedby': [hint ? hintId : null, msg.id].filter(Boolean).join(' '),
      'aria-required': optional ? null : 'true',
      dataset: { field: key },
    });
    const setMessage = messageSetter(control, msg);
    let seq = 0;
    const check = async () => {
      const v = control.value;
      const mine = ++seq;
      if (!v.trim()) { setMessage(null); onResult?.(null); return; }
      try {
        const r = await validateField(state.provider, key, v);
        if (mine !== seq) return; // a newer keystroke already asked
        setMessage(r && r.level, r && r.message);
        onResult?.(r && r.level);
      } catch (_) {
        if (mine === seq) setMessage(null); // validation unavailable: say nothing rather than guess
      }
    };
    const d = debounce(check, 250);
    debouncers.push(d);
    control.addEventListener('input', d);
    control.addEventListener('blur', () => d.flush());
    // Prefilled values (editing) are checked once so a stored problem is visible straight away.
    if (value) queueMicrotask(check);
    const handle = { control, msg, setMessage, hint: hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null };
    fields[key] = { input: control, setMessage };
    return handle;
  }

  function textField(opts) {
    const f = inputFor(opts);
    return h('div', { class: 'field' },
      h('label', { class: 'field-label', for: opts.id }, opts.label,
        opts.optional ? h('span', { class: 'field-optional' }, 'optional') : null),
      f.control, f.hint, f.msg);
  }

  function currentValue(key) {
    const f = fields[key];
    return f && f.input && 'value' in f.input ? f.input.value : values[key];
  }

  function collectValues() {
    for (const k of Object.keys(values)) {
      const f = fields[k];
      if (f && f.input && typeof f.input.value === 'string') values[k] = f.input.value;
    }
  }

  // ---- save / cancel --------------------------------------------------------------------------

  async function save(form, btn, formError) {
    if (state.saving) return;
    collectValues();
    formError.hidden = true;
    const trimmed = (s) => (s || '').trim();
    const input = {
      id: state.id,
      name: trimmed(values.name),
      provider: state.provider,
      sender: trimmed(values.sender),
      recipient: trimmed(values.recipient) || null,
      microsoft: null,
      google: null,
    };
    if (state.provider === 'microsoft') {
      const secretEl = document.getElementById('field-client-secret');
      const typed = secretEl && !secretEl.closest('[hidden]') ? secretEl.value : '';
      input.microsoft = {
        cloud: values.cloud,
        tenant: trimmed(values.tenant),
        clientId: trimmed(values.clientId),
        credential: state.credential,
        clientSecret: state.credential === 'secret' && typed ? typed : null,
        certificateImportId: state.credential === 'certificate' && state.newCertificate ? state.newCertificate.importId : null,
      };
    } else {
      input.google = {
        importId: state.importedKey ? state.importedKey.importId : null,
        scopes: [state.scope],
      };
    }
    state.saving = true;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    const label = btn.textContent;
    btn.replaceChildren(h('span', { class: 'spinner spinner-small spinner-on-accent', 'aria-hidden': 'true' }), 'Saving…');
    try {
      const saved = await saveProfile(input);
      // The secret has reached the keychain; do not keep it in the page any longer than needed.
      const secretEl = document.getElementById('field-client-secret');
      if (secretEl) secretEl.value = '';
      state.dirty = false;
      toast(editing ? 'Changes saved' : 'Connection saved');
      nav.go('check', { id: saved.id });
    } catch (err) {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
      btn.textContent = label;
      state.saving = false;
      showSaveError(err, formError);
    }
  }

  function showSaveError(err, formError) {
    const key = err && err.field ? normaliseField(err.field) : null;
    const f = key && fields[key];
    if (f) {
      if (key === 'clientSecret' && state.secretStored && !state.replacingSecret) document.getElementById('replace-secret')?.click();
      f.setMessage('error', errorText(err));
      const target = f.input && f.input.focus ? f.input : null;
      if (key === 'scopes') document.querySelector('input[name="scope"]:checked')?.focus();
      else if (key === 'key') document.getElementById('choose-key')?.focus();
      else if (key === 'certificate') document.getElementById('create-certificate')?.focus();
      else if (target) target.focus();
      return;
    }
    formError.replaceChildren(h('span', { class: 'icon icon-alert', 'aria-hidden': 'true' }), h('span', null, errorText(err)));
    formError.hidden = false;
    formError.scrollIntoView({ block: 'nearest' });
  }

  // The core may name fields in snake_case or by their input path; map them onto this form.
  function normaliseField(field) {
    const f = String(field).split('.').pop();
    const map = {
      client_id: 'clientId', clientId: 'clientId', client_secret: 'clientSecret', clientSecret: 'clientSecret',
      tenant: 'tenant', sender: 'sender', recipient: 'recipient', name: 'name', cloud: 'cloud',
      key: 'key', importId: 'key', import_id: 'key', scopes: 'scopes', scope: 'scopes', certificate: 'certificate',
    };
    return map[f] || f;
  }

  async function cancel() {
    if (state.dirty) {
      const ok = await confirmDialog({
        title: 'Discard changes?',
        message: editing ? 'Your changes to this connection will be lost.' : 'This connection has not been saved yet.',
        confirmLabel: 'Discard',
        danger: true,
      });
      if (!ok) return;
    }
    nav.go(editing ? 'check' : 'list', editing ? { id: state.id } : {});
  }
}
