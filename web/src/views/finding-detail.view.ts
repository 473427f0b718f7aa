// One finding: its evidence (key created vs user created, last use, data source and its age), its history
// (the finding as of each of the account's recent scans), and for remediation:write tokens the deactivation,
// always dry run first, with a reason.
import { ApiError, type Gql } from '../api';
import { h, replace, statusLine } from '../dom';
import { age, duration, keyStatus, reason, when } from '../format';
import {
  ACCOUNT_SCANS, COMPLIANCE_STATUS, DEACTIVATE_KEY, FINDING_DETAIL, findingHistory, FORBIDDEN, KEY_STATUS, REMEDIATION_STATUS, SCAN_STATUS,
  type FindingDetail, type HistoryEntry, type RemediationResult,
} from '../queries';

const HISTORY_SCANS = 6;

export class FindingDetailView {
  private readonly body = h('div');
  private readonly heading = h('h2', { id: 'detail-heading', tabindex: -1 }, 'Finding');

  constructor(
    private readonly gql: Gql,
    private readonly root: HTMLElement,
    private readonly onChanged: () => void,
  ) {
    root.append(this.heading, this.body);
  }

  async open(findingId: string): Promise<void> {
    this.root.hidden = false;
    replace(this.body, statusLine('Loading the finding…'));
    this.heading.focus();
    try {
      const { node: f } = await this.gql<{ node: FindingDetail | null }>(FINDING_DETAIL, { id: findingId });
      if (!f) return replace(this.body, statusLine('This finding no longer exists.', 'error'));
      this.heading.textContent = `${f.userName}${f.accessKeyId ? ` · ${f.accessKeyId}` : ''} (${f.accountId})`;
      const history = h('div', {}, statusLine('Loading its history…'));
      replace(
        this.body,
        h('p', {}, h('span', { class: `badge badge-${f.status.toLowerCase()}` }, f.status), ' ', f.reasons.map(reason).join(', '), ` · ${reason(f.state)}`),
        h('h3', {}, 'Evidence'),
        evidence(f),
        h('h3', {}, 'History'),
        history,
        f.accessKeyId && f.status === COMPLIANCE_STATUS.FAIL && f.evidence.accessKeyStatus === KEY_STATUS.ACTIVE ? this.deactivation(f) : null,
        h('p', {}, h('button', { type: 'button', onclick: () => { this.root.hidden = true; } }, 'Close')),
      );
      await this.history(f, history);
    } catch (err) {
      replace(this.body, statusLine(`The finding could not be loaded: ${(err as Error).message}`, 'error'));
    }
  }

  private async history(f: FindingDetail, into: HTMLElement): Promise<void> {
    try {
      const { scans } = await this.gql<{ scans: { nodes: { id: string; status: string; observedAt: string | null }[] } }>(ACCOUNT_SCANS, { accountId: f.accountId, first: 20 });
      const instants = scans.nodes.filter((s) => s.observedAt && (s.status === SCAN_STATUS.COMPLETED || s.status === SCAN_STATUS.PARTIAL)).slice(0, HISTORY_SCANS).map((s) => s.observedAt!);
      if (instants.length === 0) return replace(into, statusLine('No completed scan to read history from.'));
      const vars = Object.fromEntries(instants.map((at, i) => [`at${i}`, at]));
      const data = await this.gql<Record<string, { nodes: HistoryEntry[] }>>(findingHistory(instants.length), { accountId: f.accountId, userName: f.userName, ...vars });
      const rows = instants.map((at, i) => ({ at, entry: data[`h${i}`]!.nodes.find((n) => n.id === f.id) ?? null }));
      replace(
        into,
        h('p', {}, `First failed ${when(f.firstSeenAt)}; last seen ${when(f.lastSeenAt)}; reopened ${f.reopenCount} times${f.resolvedAt ? `; last resolved ${when(f.resolvedAt)} (${f.resolution})` : ''}.`),
        h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Finding history' },
          h('table', { id: 'history-table' },
            h('caption', {}, `The finding as of each of the account's last ${instants.length} scans`),
            h('thead', {}, h('tr', {}, ...['As of scan', 'Status', 'State', 'Reasons'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, ...rows.map(({ at, entry }) => h('tr', {},
              h('th', { scope: 'row' }, h('time', { datetime: at }, when(at))),
              h('td', {}, entry?.status ?? 'not seen'),
              h('td', {}, entry ? reason(entry.state) : '—'),
              h('td', {}, entry ? entry.reasons.map(reason).join(', ') : '—')))))),
      );
    } catch (err) {
      replace(into, statusLine(`Its history could not be loaded: ${(err as Error).message}`, 'error'));
    }
  }

  /** Reason first, then the dry run's plan, then (only after a clean dry run) the real deactivation. */
  private deactivation(f: FindingDetail): HTMLElement {
    const reasonField = h('textarea', { id: 'deactivate-reason', required: true, maxlength: 500, rows: 2 });
    const outcome = h('div', { id: 'deactivate-outcome', 'aria-live': 'polite' });
    const input = (dryRun: boolean, idempotencyKey?: string) => ({
      accountId: f.accountId, userName: f.userName, accessKeyId: f.accessKeyId, reason: reasonField.value.trim(), dryRun, idempotencyKey,
    });
    const run = async (dryRun: boolean): Promise<RemediationResult | null> => {
      try {
        const data = await this.gql<{ deactivateAccessKey: RemediationResult }>(DEACTIVATE_KEY, { input: input(dryRun, dryRun ? undefined : crypto.randomUUID()) });
        return data.deactivateAccessKey;
      } catch (err) {
        const forbidden = err instanceof ApiError && err.code === FORBIDDEN;
        replace(outcome, statusLine(forbidden ? 'This token cannot remediate: it needs the remediation:write scope.' : `The request failed: ${(err as Error).message}`, 'error'));
        return null;
      }
    };
    const dryRunButton = h('button', { type: 'submit', id: 'deactivate-dry-run' }, 'Dry run');
    const form = h(
      'form',
      {
        class: 'remediate',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          if (!reasonField.value.trim()) return replace(outcome, statusLine('Give a reason: it goes to the audit trail.', 'error'));
          replace(outcome, statusLine('Dry run…'));
          const plan = await run(true);
          if (!plan) return;
          const ok = plan.action?.status === REMEDIATION_STATUS.DRY_RUN && plan.userErrors.length === 0;
          replace(
            outcome,
            h('p', { class: 'plan', id: 'deactivate-plan' }, h('strong', {}, `Dry run: ${plan.action?.status ?? 'refused'}. `), plan.action?.plan ?? ''),
            ...plan.userErrors.map((u) => statusLine(userError(u), 'error')),
            ok ? h('button', {
              type: 'button', id: 'deactivate-confirm', class: 'danger',
              onclick: async (ev: Event) => {
                (ev.currentTarget as HTMLButtonElement).disabled = true;
                const done = await run(false);
                if (!done) return;
                const after = done.action?.stateAfter?.status;
                replace(
                  outcome,
                  statusLine(done.userErrors.length
                    ? done.userErrors.map(userError).join('; ')
                    : `${done.action?.status}: the key is now ${after ? keyStatus(after) : 'unknown'} (reactivateAccessKey undoes it). Done: ${done.action?.plan ?? '—'}`, done.userErrors.length ? 'error' : 'info'),
                );
                this.onChanged();
              },
            }, `Deactivate ${f.accessKeyId} now`) : null,
          );
        },
      },
      h('h3', {}, 'Deactivate this key'),
      h('p', { class: 'hint' }, 'Sets the key Inactive (reactivateAccessKey undoes it). Needs a token with remediation:write. A dry run shows the plan first.'),
      h('label', { for: 'deactivate-reason' }, 'Reason, for the audit trail'),
      reasonField,
      h('div', {}, dryRunButton),
      outcome,
    );
    return form;
  }
}

/** "KEY_NOT_FOUND (input.accessKeyId): …": the input field at fault, when one is. */
function userError(u: RemediationResult['userErrors'][number]): string {
  return `${u.code}${u.field?.length ? ` (${u.field.join('.')})` : ''}: ${u.message}`;
}

function evidence(f: FindingDetail): HTMLElement {
  const e = f.evidence;
  const setup = e.secondsFromUserCreationToKey;
  const items: [string, Node | string][] = [
    ['User created', when(e.userCreatedAt)],
    ['Key created', when(e.accessKeyCreatedAt)],
    ['Key created after the user', setup == null ? '—' : `${duration(Math.abs(setup))}${Math.abs(setup) <= e.setupWindowSeconds ? ` (within the ${duration(e.setupWindowSeconds)} setup window)` : ''}`],
    ['Key status', keyStatus(e.accessKeyStatus)],
    ['Key last used', e.accessKeyLastUsedAt ? `${when(e.accessKeyLastUsedAt)} (${age(e.accessKeyLastUsedAt)}${e.accessKeyLastUsedService ? `, ${e.accessKeyLastUsedService}` : ''}${e.accessKeyLastUsedRegion ? ` in ${e.accessKeyLastUsedRegion}` : ''})` : 'never'],
    ['Console password', e.passwordEnabled == null ? 'unknown' : e.passwordEnabled ? `yes, last used ${age(e.passwordLastUsedAt)}` : 'no'],
    ['Data source', `${e.dataSource}, as of ${when(e.dataSourceAsOf)} (${age(e.dataSourceAsOf)})`],
    ['Evaluated', when(e.evaluatedAt)],
  ];
  if (e.error) items.push(['Read error', e.error]);
  return h('dl', { class: 'evidence', id: 'evidence' }, ...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}
