// The setup guides shown beside the form. Each step says where to click in the provider's console
// and has a button that opens that page in the default browser (the shell enforces the host allowlist).
import { openLink } from '../api.js';
import { h } from '../util/dom.js';
import { errorText } from '../util/format.js';
import { toast } from '../util/ui.js';

const ENTRA_APPS = 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps';
const ENTRA_LIST = `${ENTRA_APPS}/ApplicationsListBlade`;
const ENTRA_NEW = `${ENTRA_APPS}/CreateApplicationBlade/quickStartType~/null/isMSAApp~/false`;

const GOOGLE_SERVICE_ACCOUNTS = 'https://console.cloud.google.com/iam-admin/serviceaccounts';
const GOOGLE_GMAIL_API = 'https://console.cloud.google.com/apis/library/gmail.googleapis.com';
const GOOGLE_DELEGATION = 'https://admin.google.com/ac/owl/domainwidedelegation';

/** A console menu path, e.g. path('API permissions', 'Add a permission'), shown with arrows. */
function path(...parts) {
  const out = [];
  parts.forEach((p, i) => {
    if (i) out.push(h('span', { class: 'ui-path-sep', 'aria-label': 'then' }, ' → '));
    out.push(h('span', { class: 'ui-path-part' }, p));
  });
  return h('span', { class: 'ui-path' }, out);
}

async function open(url) {
  try {
    await openLink(url);
  } catch (err) {
    toast(errorText(err), 'error');
  }
}

function guide({ id, title, intro, steps, note }) {
  return h('aside', { class: 'guide', id, 'aria-labelledby': `${id}-title` },
    h('h2', { class: 'guide-title', id: `${id}-title` }, title),
    intro ? h('p', { class: 'guide-intro' }, intro) : null,
    h('ol', { class: 'guide-steps' }, steps.map((s, i) =>
      h('li', { class: 'guide-step', dataset: { step: String(i + 1) } },
        h('span', { class: 'guide-num', 'aria-hidden': 'true' }, String(i + 1)),
        h('div', { class: 'guide-step-body' },
          h('h3', { class: 'guide-step-title' }, s.title),
          h('p', { class: 'guide-step-text' }, s.body),
          s.action ? h('button', {
            type: 'button',
            class: 'btn btn-small btn-link-out',
            dataset: { guideLink: String(i + 1) },
            on: { click: () => open(s.action.url()) },
          }, s.action.label, h('span', { class: 'icon icon-external', 'aria-hidden': 'true' }),
          h('span', { class: 'visually-hidden' }, ' (opens in your browser)')) : null)))),
    note ? h('p', { class: 'guide-note' }, note) : null);
}

/**
 * @param ctx getter returning {clientId: string|null} — a client ID the core judged well-formed, so the
 *            app-specific pages can be deep-linked; otherwise the steps link to the app list.
 */
export function microsoftGuide(ctx) {
  const app = (blade) => () => {
    const { clientId } = ctx();
    return clientId ? `${ENTRA_APPS}/ApplicationMenuBlade/~/${blade}/appId/${encodeURIComponent(clientId)}/isMSAApp~/false` : ENTRA_LIST;
  };
  return guide({
    id: 'guide-microsoft',
    title: 'Set up in Microsoft Entra',
    intro: 'Mailwire needs an app registration that is allowed to send mail on its own. It takes about five minutes; step 3 needs an administrator.',
    steps: [
      {
        title: 'Register the app',
        body: ['In the Entra admin center open ', path('App registrations', 'New registration'),
          '. Any name will do, such as “Mailwire”. Keep “single tenant” and leave the redirect URI empty.'],
        action: { label: 'Open App registrations', url: () => ENTRA_LIST },
      },
      {
        title: 'Add the Mail.Send permission',
        body: ['In the app open ', path('API permissions', 'Add a permission', 'Microsoft Graph', 'Application permissions'),
          ', tick ', h('strong', null, 'Mail.Send'), ' and add it. A Delegated permission will not work here.'],
        action: { label: 'Open API permissions', url: app('CallAnAPI') },
      },
      {
        title: 'Grant admin consent',
        body: ['On the same page choose ', path('Grant admin consent'),
          ' and confirm. The status of Mail.Send turns into a green “Granted”.'],
        action: { label: 'Open API permissions', url: app('CallAnAPI') },
      },
      {
        title: 'Create a client secret, or upload a certificate',
        body: ['Open ', path('Certificates & secrets', 'New client secret'), ' and copy its ',
          h('strong', null, 'Value'), ' right away: it is shown only once. The Secret ID beside it is not the secret. ',
          'With a certificate instead, let Mailwire create one, save it, and upload it under ',
          path('Certificates', 'Upload certificate'), '.'],
        action: { label: 'Open Certificates & secrets', url: app('Credentials') },
      },
      {
        title: 'Copy the two IDs',
        body: ['On the app’s ', path('Overview'), ' copy the ', h('strong', null, 'Directory (tenant) ID'),
          ' and the ', h('strong', null, 'Application (client) ID'), ' into this form.'],
        action: { label: 'Open Overview', url: app('Overview') },
      },
    ],
    note: 'By default the app may send as any mailbox in the organisation. To limit it to a few, an Exchange administrator can scope it with RBAC for Applications or an application access policy.',
  });
}

/**
 * @param ctx getter returning {projectId, gmailApiUrl, delegationUrl} from the imported key, each
 *            possibly null before a key is chosen.
 */
export function googleGuide(ctx) {
  return guide({
    id: 'guide-google',
    title: 'Set up in Google Cloud and the Admin Console',
    intro: 'A service account with domain-wide delegation sends as a user of your domain. Step 4 needs a super administrator.',
    steps: [
      {
        title: 'Create a service account and a JSON key',
        body: ['In the Google Cloud console pick or create a project, then open ',
          path('IAM & Admin', 'Service accounts', 'Create service account'),
          '. It needs no roles. Open it and choose ', path('Keys', 'Add key', 'Create new key', 'JSON'),
          '. The file downloads once; keep it safe.'],
        action: {
          label: 'Open Service accounts',
          url: () => {
            const { projectId } = ctx();
            return projectId ? `${GOOGLE_SERVICE_ACCOUNTS}?project=${encodeURIComponent(projectId)}` : GOOGLE_SERVICE_ACCOUNTS;
          },
        },
      },
      {
        title: 'Choose the key file here',
        body: ['Use ', path('Choose key file…'), ' or drop the file onto this window. Mailwire keeps the private key in the system keychain and shows the Client ID you need in step 4.'],
      },
      {
        title: 'Enable the Gmail API',
        body: ['In the same project open ', path('APIs & Services', 'Library', 'Gmail API'), ' and choose ', path('Enable'), '.'],
        action: { label: 'Enable the Gmail API', url: () => ctx().gmailApiUrl || GOOGLE_GMAIL_API },
      },
      {
        title: 'Authorize domain-wide delegation',
        body: ['In the Admin Console go to ',
          path('Security', 'Access and data control', 'API controls', 'Manage domain-wide delegation', 'Add new'),
          '. Paste the Client ID and the scope, then choose ', path('Authorize'), '.'],
        action: { label: 'Open delegation page', url: () => ctx().delegationUrl || GOOGLE_DELEGATION },
      },
    ],
    note: 'A new delegation usually works within minutes, but Google says it can take up to 24 hours.',
  });
}
