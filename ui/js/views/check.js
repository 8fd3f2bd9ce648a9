// Connection detail and check run. Steps stream in through the `check-progress` event while
// `runCheck` is pending; when it resolves, the returned report is drawn again as the source of truth
// so a missed event can never leave a row spinning.
import {
  getProfile, runCheck, cancelCheck, getLastReport, exportReport, saveReport, onCheckProgress, openLink,
} from '../api.js';
import { h, mount, providerLogo, providerName } from '../util/dom.js';
import { relativeTime, absoluteTime, duration, errorText, linkLabel } from '../util/format.js';
import { copyText } from '../util/clipboard.js';
import { toast } from '../util/ui.js';

const STATUS_TEXT = { running: 'Running', pass: 'Passed', fail: 'Failed', warn: 'Warning', skipped: 'Skipped' };
const STATUS_ICON = { pass: '✓', fail: '✗', warn: '!', skipped: '–' };

export async function render(root, params, nav) {
  const id = params.id;
  let running = false;
  let unlisten = null;
  let profile;

  const view = h('section', { id: 'connection-detail', class: 'view view-check', 'aria-labelledby': 'detail-title', dataset: { id } });
  root.append(view);

  try {
    profile = await getProfile(id);
  } catch (err) {
    mount(view, h('div', { class: 'error-panel', role: 'alert' }, h('p', null, errorText(err)),
      h('button', { type: 'button', class: 'btn', on: { click: () => nav.go('list') } }, 'Back to connections')));
    return undefined;
  }
  document.title = `${profile.name} — Mailwire`;

  // ---- static parts -------------------------------------------------------------------------
  const runBtn = h('button', { type: 'button', id: 'run-checks', class: 'btn btn-primary', 'aria-describedby': 'run-hint' },
    h('span', { class: 'icon icon-play', 'aria-hidden': 'true' }), 'Run checks');
  const sendBtn = h('button', { type: 'button', id: 'send-test', class: 'btn', 'aria-describedby': 'send-hint' },
    h('span', { class: 'icon icon-send', 'aria-hidden': 'true' }), 'Send test email');
  const cancelBtn = h('button', { type: 'button', id: 'cancel-check', class: 'btn', hidden: true }, 'Cancel');
  const steps = h('ol', { id: 'steps', class: 'steps', 'aria-label': 'Check steps' });
  const summary = h('div', { id: 'check-summary', class: 'summary', role: 'status', 'aria-live': 'polite', hidden: true });
  const intro = h('div', { class: 'check-intro' },
    h('span', { class: 'icon icon-pulse icon-xl', 'aria-hidden': 'true' }),
    h('p', { class: 'check-intro-title' }, 'Not checked yet'),
    h('p', { class: 'check-intro-text' },
      h('strong', null, 'Run checks'), ' signs in, confirms the permission and looks at the mailbox without sending anything. ',
      h('strong', null, 'Send test email'), ' does the same and then sends one short message.'));

  const formatSel = h('select', { id: 'report-format', class: 'input input-small' },
    h('option', { value: 'markdown' }, 'Markdown'), h('option', { value: 'json' }, 'JSON'));
  const copyBtn = h('button', { type: 'button', id: 'copy-report', class: 'btn btn-small' },
    h('span', { class: 'icon icon-copy', 'aria-hidden': 'true' }), 'Copy report');
  const saveBtn = h('button', { type: 'button', id: 'save-report', class: 'btn btn-small' },
    h('span', { class: 'icon icon-download', 'aria-hidden': 'true' }), 'Save report…');
  const reportBar = h('div', { class: 'report-bar', hidden: true },
    h('p', { class: 'report-bar-note' }, 'Reports leave out secrets and keep the trace IDs support asks for.'),
    h('div', { class: 'report-bar-actions' },
      copyBtn,
      h('label', { class: 'inline-label', for: 'report-format' }, 'Save as'),
      formatSel,
      saveBtn));

  const recipient = profile.recipient || profile.sender;
  mount(view,
    h('header', { class: 'view-header' },
      h('div', { class: 'view-header-lead' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-back', id: 'back-to-list', on: { click: () => nav.go('list') } },
          h('span', { class: 'icon icon-chevron-left', 'aria-hidden': 'true' }), 'Connections'),
        h('div', { class: 'detail-identity' },
          providerLogo(profile.provider, 'lg'),
          h('div', { class: 'view-header-text' },
            h('h1', { id: 'detail-title' }, profile.name,
              profile.sandbox ? h('span', { class: 'badge badge-sandbox' }, 'Sandbox') : null),
            h('p', { class: 'view-subtitle' },
              h('span', null, providerName(profile.provider)),
              h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'),
              h('span', { class: 'detail-sender' }, profile.sender))))),
      h('div', { class: 'view-header-actions' },
        h('button', { type: 'button', id: 'edit-connection', class: 'btn', on: { click: () => nav.go('form', { id }) } },
          h('span', { class: 'icon icon-edit', 'aria-hidden': 'true' }), 'Edit'))),
    h('div', { class: 'check-toolbar' },
      h('div', { class: 'check-actions' }, runBtn, sendBtn, cancelBtn),
      h('p', { class: 'check-hints' },
        h('span', { id: 'run-hint' }, 'Checks do not send mail.'), ' ',
        h('span', { id: 'send-hint' }, recipient ? `The test email goes to ${recipient}.` : ''))),
    summary,
    intro,
    steps,
    reportBar);

  // ---- live progress ------------------------------------------------------------------------
  try {
    unlisten = await onCheckProgress((p) => {
      if (!p || p.profileId !== id || !p.step) return;
      if (p.phase === 'start') upsertStep(p.step, 'running');
      else if (p.phase === 'done') upsertStep(p.step, p.step.status);
    });
  } catch (_) {
    /* no live events: the final report still fills the list */
  }

  runBtn.addEventListener('click', () => run(false));
  sendBtn.addEventListener('click', () => run(true));
  cancelBtn.addEventListener('click', async () => {
    cancelBtn.disabled = true;
    cancelBtn.textContent = 'Cancelling…';
    try { await cancelCheck(id); } catch (err) { toast(errorText(err), 'error'); }
  });
  copyBtn.addEventListener('click', copyReport);
  saveBtn.addEventListener('click', saveReportFile);

  try {
    const last = await getLastReport(id);
    if (last) drawReport(last, true);
  } catch (_) {
    /* no previous report to show */
  }
  if (params.autorun) run(false);

  return () => {
    if (unlisten) unlisten();
    // Leaving mid-run: stop the work rather than let it finish unseen.
    if (running) cancelCheck(id).catch(() => {});
  };

  // ---- behaviour ----------------------------------------------------------------------------

  async function run(send) {
    if (running) return;
    running = true;
    setRunning(true, send);
    steps.replaceChildren();
    intro.hidden = true;
    // Clear the previous verdict so nothing (person or test) can mistake it for this run's.
    summary.hidden = true;
    delete summary.dataset.ok;
    delete summary.dataset.state;
    summary.replaceChildren();
    reportBar.hidden = true;
    try {
      const report = await runCheck(id, { send });
      drawReport(report, false);
      const focusTarget = summary.querySelector('.summary-title');
      if (focusTarget) { focusTarget.tabIndex = -1; focusTarget.focus({ preventScroll: false }); }
    } catch (err) {
      // Leave finished rows as they are; mark whatever was still running as not finished.
      steps.querySelectorAll('.step[data-status="running"]').forEach((row) => setRowStatus(row, 'skipped'));
      const cancelled = err && err.kind === 'cancelled';
      drawSummary({
        ok: false,
        state: cancelled ? 'cancelled' : 'error',
        title: cancelled ? 'Check cancelled' : 'The check could not run',
        text: cancelled ? 'Nothing more was tried. Run the checks again when you are ready.' : errorText(err),
      });
      if (!steps.children.length) intro.hidden = false;
    } finally {
      running = false;
      setRunning(false);
    }
  }

  function setRunning(on, send) {
    runBtn.disabled = on;
    sendBtn.disabled = on;
    cancelBtn.hidden = !on;
    cancelBtn.disabled = false;
    cancelBtn.textContent = 'Cancel';
    steps.setAttribute('aria-busy', on ? 'true' : 'false');
    view.dataset.running = on ? '1' : '0';
    const active = send ? sendBtn : runBtn;
    if (on) {
      active.classList.add('is-busy');
      cancelBtn.focus();
    } else {
      runBtn.classList.remove('is-busy');
      sendBtn.classList.remove('is-busy');
      if (document.activeElement === cancelBtn || document.activeElement === document.body) runBtn.focus();
    }
  }

  function drawReport(report, fromHistory) {
    intro.hidden = true;
    steps.replaceChildren();
    (report.steps || []).forEach((s) => upsertStep(s, s.status));
    const list = report.steps || [];
    const failedIdx = list.findIndex((s) => s.status === 'fail');
    const warns = list.filter((s) => s.status === 'warn').length;
    const when = report.startedAt ? relativeTime(report.startedAt) : '';
    let title, text, state;
    if (report.ok && !warns) {
      state = 'pass';
      title = 'All checks passed';
      text = `${list.filter((s) => s.status === 'pass').length} of ${list.length} steps passed${skippedNote(list)}.`;
    } else if (report.ok) {
      state = 'warn';
      title = `Passed with ${warns === 1 ? 'a warning' : `${warns} warnings`}`;
      text = 'Mail can be sent, but look at the steps marked with “!”.';
    } else if (failedIdx >= 0) {
      state = 'fail';
      const f = list[failedIdx];
      title = `Failed at step ${failedIdx + 1}: ${f.title}`;
      text = f.code ? null : 'See “How to fix” below.';
    } else {
      // Not ok but nothing failed: the run was stopped part-way (cancelled or interrupted).
      state = 'cancelled';
      title = 'The check stopped before it finished';
      text = 'Not every step ran. Run the checks again to get a full result.';
    }
    drawSummary({
      ok: Boolean(report.ok), state, title, text,
      code: !report.ok && failedIdx >= 0 ? list[failedIdx].code : null,
      when: report.startedAt ? { iso: report.startedAt, label: fromHistory ? `Last run ${when}` : `Finished ${when}` } : null,
    });
    reportBar.hidden = false;
  }

  function skippedNote(list) {
    const n = list.filter((s) => s.status === 'skipped').length;
    return n ? `, ${n} skipped` : '';
  }

  function drawSummary({ ok, state, title, text, code, when }) {
    summary.dataset.ok = ok ? 'true' : 'false';
    summary.dataset.state = state;
    mount(summary,
      h('span', { class: 'summary-icon', 'aria-hidden': 'true' }, state === 'pass' ? '✓' : state === 'warn' ? '!' : state === 'cancelled' ? '–' : '✗'),
      h('div', { class: 'summary-body' },
        h('p', { class: 'summary-title' }, title),
        text || code ? h('p', { class: 'summary-text' },
          code ? h('code', { class: 'summary-code' }, code) : null,
          code ? ' ' : null,
          text || (code ? 'See “How to fix” below.' : null)) : null),
      when ? h('time', { class: 'summary-when', datetime: when.iso, title: absoluteTime(when.iso) }, when.label) : null);
    summary.hidden = false;
    // The steps scrolled the view down while they ran; bring the verdict back into sight.
    summary.scrollIntoView({ block: 'nearest' });
  }

  function upsertStep(step, status) {
    const key = String(step.id);
    let row = steps.querySelector(`.step[data-step-id="${CSS.escape(key)}"]`);
    const fresh = stepRow(step, status, (row ? [...steps.children].indexOf(row) : steps.children.length) + 1);
    if (row) row.replaceWith(fresh);
    else steps.append(fresh);
    if (status === 'running') fresh.scrollIntoView({ block: 'nearest' });
  }

  function setRowStatus(row, status) {
    row.dataset.status = status;
    const icon = row.querySelector('.step-icon');
    if (icon) mount(icon, STATUS_ICON[status] || '');
    const sr = row.querySelector('.step-status-text');
    if (sr) sr.textContent = STATUS_TEXT[status] || status;
  }

  function stepRow(step, status, n) {
    const hasFix = (status === 'fail' || status === 'warn') &&
      ((step.fix && step.fix.length) || step.code || (step.links && step.links.length));
    return h('li', { class: 'step', dataset: { stepId: String(step.id), status } },
      h('span', { class: 'step-icon', 'aria-hidden': 'true' },
        status === 'running' ? h('span', { class: 'spinner spinner-small' }) : STATUS_ICON[status] || ''),
      h('div', { class: 'step-body' },
        h('div', { class: 'step-head' },
          h('span', { class: 'step-num', 'aria-hidden': 'true' }, `${n}.`),
          h('span', { class: 'step-title' }, step.title),
          h('span', { class: 'visually-hidden' }, ': '),
          h('span', { class: 'step-status-text visually-hidden' }, STATUS_TEXT[status] || status),
          status !== 'running' && status !== 'skipped' && typeof step.duration_ms === 'number'
            ? h('span', { class: 'step-duration' }, duration(step.duration_ms)) : null),
        status !== 'running' && step.detail ? h('p', { class: 'step-detail' }, step.detail) : null,
        hasFix ? fixBox(step) : null));
  }

  function fixBox(step) {
    const headId = `fix-${step.id}-title`;
    return h('div', { class: 'fix-box', role: 'group', 'aria-labelledby': headId },
      h('div', { class: 'fix-head' },
        h('p', { class: 'fix-title', id: headId }, 'How to fix'),
        step.code ? h('code', { class: 'fix-code', title: 'Provider error code' }, step.code) : null),
      step.fix && step.fix.length ? h('ol', { class: 'fix-steps' }, step.fix.map((t) => h('li', null, t))) : null,
      step.links && step.links.length ? h('div', { class: 'fix-links' }, step.links.map((url) =>
        h('button', { type: 'button', class: 'btn btn-small btn-link-out', title: url, dataset: { url },
          on: { click: () => openLink(url).catch((err) => toast(errorText(err), 'error')) } },
        `Open ${linkLabel(url)}`, h('span', { class: 'icon icon-external', 'aria-hidden': 'true' }),
        h('span', { class: 'visually-hidden' }, ' (opens in your browser)')))) : null);
  }

  async function copyReport() {
    try {
      const text = await exportReport(id, 'markdown');
      toast(await copyText(text) ? 'Report copied as Markdown' : 'Could not reach the clipboard. Use “Save report…” instead.', 'info');
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  async function saveReportFile() {
    try {
      const path = await saveReport(id, formatSel.value);
      if (path) toast(`Report saved to ${path}`);
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }
}
