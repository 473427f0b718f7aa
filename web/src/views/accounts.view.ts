// Accounts ranked by failing findings (worst first), with their latest scan's time and status.
import type { Gql } from '../api';
import { h, replace, statusLine } from '../dom';
import { age, when } from '../format';
import { ACCOUNTS_RANKED, type RankedAccount } from '../queries';

export class AccountsView {
  accounts: RankedAccount[] = [];
  private readonly body = h('div');

  constructor(
    private readonly gql: Gql,
    root: HTMLElement,
    private readonly onSelect: (accountId: string) => void,
  ) {
    root.append(this.body);
  }

  async load(): Promise<RankedAccount[]> {
    replace(this.body, statusLine('Loading accounts…'));
    try {
      const data = await this.gql<{ accounts: { totalCount: number; nodes: RankedAccount[] } }>(ACCOUNTS_RANKED, { first: 100 });
      this.accounts = data.accounts.nodes;
      this.render(data.accounts.totalCount);
    } catch (err) {
      replace(this.body, statusLine(`Accounts could not be loaded: ${(err as Error).message}`, 'error'));
    }
    return this.accounts;
  }

  private render(total: number): void {
    const header = ['#', 'Account', 'Name', 'FAIL', 'ERROR', 'PASS', 'Last scan', 'Status', 'Select'];
    replace(
      this.body,
      total > this.accounts.length ? statusLine(`The ${this.accounts.length} worst of ${total} accounts.`) : null,
      h(
        'div',
        { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Accounts ranked by failing findings' },
        h(
          'table',
          { id: 'accounts-table' },
          h('caption', { class: 'visually-hidden' }, 'Accounts ranked by failing findings, worst first'),
          h('thead', {}, h('tr', {}, ...header.map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            {},
            ...this.accounts.map((a, i) => {
              const c = a.complianceSummary?.counts;
              const scanned = a.lastScan?.observedAt ?? a.lastScan?.finishedAt ?? a.lastScan?.queuedAt ?? null;
              return h(
                'tr',
                { 'data-account-id': a.accountId },
                h('td', {}, i + 1),
                h('th', { scope: 'row' }, h('code', {}, a.accountId)),
                h('td', {}, a.name ?? '—'),
                h('td', { class: c?.fail ? 'num bad' : 'num' }, c?.fail ?? '—'),
                h('td', { class: 'num' }, c?.error ?? '—'),
                h('td', { class: 'num' }, c?.pass ?? '—'),
                h('td', {}, h('time', { datetime: scanned ?? '', title: when(scanned) }, scanned ? age(scanned) : 'never')),
                h('td', {}, a.lastScan ? h('span', { class: `badge badge-${a.lastScan.status.toLowerCase()}` }, a.lastScan.status) : '—'),
                h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => this.onSelect(a.accountId), 'aria-label': `Show account ${a.accountId}` }, 'Show')),
              );
            }),
          ),
        ),
      ),
    );
  }
}
