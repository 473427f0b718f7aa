// Recent scans: queued and running ones with their progress, finished ones with their outcome.
// Polls every 3 s while a scan is queued or running.
import { ApiError, type Gql } from '../api';
import { h, replace, statusLine } from '../dom';
import { age, when } from '../format';
import { ACTIVE_SCAN_STATUSES, FORBIDDEN, SCAN_ERROR_SEVERITY, SCAN_STATUS, SCANS, START_SCAN_ALL, type ScanRow, type StartScanResult } from '../queries';

const POLL_MS = 3000;

export class ScansView {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly body = h('div');
  private readonly notice = h('div', { 'aria-live': 'polite' });

  constructor(
    private readonly gql: Gql,
    root: HTMLElement,
  ) {
    root.append(
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'scan-all', onclick: () => void this.scanAll() }, 'Scan all accounts now'),
        h('button', { type: 'button', id: 'scans-refresh', onclick: () => void this.load() }, 'Refresh')),
      this.notice,
      this.body,
    );
  }

  /** startScan(allAccounts): one QUEUED scan per scannable account (or the one already waiting). Needs scans:write. */
  private async scanAll(): Promise<void> {
    try {
      const { startScan } = await this.gql<{ startScan: StartScanResult }>(START_SCAN_ALL, { idempotencyKey: null });
      await this.load(); // the list shows the queued scans before the notice says so
      replace(
        this.notice,
        startScan.userErrors.length
          ? statusLine(startScan.userErrors.map((u) => `${u.code}: ${u.message}`).join('; '), 'error')
          : statusLine(`${startScan.scans.length} scans queued${startScan.skipped.length ? `; not scanned: ${startScan.skipped.map((k) => `${k.accountId} (${k.reason})`).join(', ')}` : ''}.`),
      );
    } catch (err) {
      const forbidden = err instanceof ApiError && err.code === FORBIDDEN;
      replace(this.notice, statusLine(forbidden ? 'This token cannot start scans: it needs the scans:write scope.' : `The scan could not be started: ${(err as Error).message}`, 'error'));
    }
  }

  async load(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    try {
      const data = await this.gql<{ scans: { nodes: ScanRow[] } }>(SCANS, { first: 10 });
      this.render(data.scans.nodes);
      if (this.timer) clearTimeout(this.timer); // a refresh and a poll may both have been under way: one timer
      if (data.scans.nodes.some((s) => ACTIVE_SCAN_STATUSES.includes(s.status))) this.timer = setTimeout(() => void this.load(), POLL_MS);
    } catch (err) {
      replace(this.body, statusLine(`Scans could not be loaded: ${(err as Error).message}`, 'error'));
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private render(scans: ScanRow[]): void {
    if (scans.length === 0) return replace(this.body, statusLine('No scan yet.'));
    replace(
      this.body,
      h(
        'div',
        { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Recent scans' },
        h(
          'table',
          { id: 'scans-table', class: 'stack' },
          h('thead', {}, h('tr', {}, ...['Account', 'Status', 'Progress or outcome', 'When'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...scans.map((s) => h(
            'tr',
            {},
            h('th', { scope: 'row' }, s.accountId ? h('code', {}, s.accountId) : '—'),
            h('td', { 'data-label': 'Status' }, h('span', { class: `badge badge-${s.status.toLowerCase()}` }, s.status)),
            h('td', { 'data-label': 'Outcome' }, outcome(s)),
            h('td', { 'data-label': 'When' }, instant(s)),
          ))),
        ),
      ),
    );
  }
}

/** When it read IAM (what its figures describe); until then, when it was queued. */
function instant(s: ScanRow): Node {
  const at = s.observedAt ?? s.startedAt ?? s.queuedAt;
  const what = s.observedAt ? 'read IAM' : s.startedAt ? 'started' : 'queued';
  return h('time', { datetime: at, title: `${what} ${when(at)}` }, `${what} ${age(at)}`);
}

function outcome(s: ScanRow): Node | string {
  if (s.status === SCAN_STATUS.QUEUED) return 'waiting for a worker';
  if (s.status === SCAN_STATUS.RUNNING) {
    const p = s.progress;
    if (!p) return 'starting';
    const label = `${p.phase.toLowerCase().replace(/_/g, ' ')}: ${p.usersDone}${p.usersTotal != null ? ` of ${p.usersTotal}` : ''} users`;
    return h('span', {}, h('progress', { max: p.usersTotal ?? 1, value: p.usersTotal ? p.usersDone : 0, 'aria-label': label }), ' ', label);
  }
  if (s.status === SCAN_STATUS.FAILED || s.status === SCAN_STATUS.CANCELLED) return s.errors.map((e) => e.code).join(', ') || s.status.toLowerCase();
  const problems = s.errors.filter((e) => e.severity === SCAN_ERROR_SEVERITY.ERROR).length;
  return `${s.counts.fail} FAIL, ${s.counts.error} ERROR, ${s.counts.pass} PASS; ${s.opened} opened, ${s.resolved} resolved${problems ? `; ${problems} read errors` : ''}`;
}
