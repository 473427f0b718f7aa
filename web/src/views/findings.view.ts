// Failing findings, filtered by account and by reason (both the API's filter: the count and the pages are of the
// matching findings only), paged with the API's cursors.
import type { Gql } from '../api';
import { h, replace, statusLine } from '../dom';
import { age, reason, when } from '../format';
import { FAIL_REASONS, FAILING_FINDINGS, type FindingRow } from '../queries';

const PAGE = 25;

interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: FindingRow[];
}

export class FindingsView {
  private accountId: string | null = null;
  private reasonFilter = '';
  /** The `after` cursor of each page seen: previous pages are asked again with their own cursor. */
  private cursors: (string | null)[] = [null];
  private readonly accountSelect = h('select', { id: 'findings-account', onchange: () => this.setAccount(this.accountSelect.value || null) });
  private readonly reasonSelect = h('select', { id: 'findings-reason', onchange: () => this.setReason(this.reasonSelect.value) },
    h('option', { value: '' }, 'Any reason'), ...FAIL_REASONS.map((r) => h('option', { value: r }, reason(r))));
  private readonly body = h('div');
  /** Only the latest request renders: a page or filter answering late is dropped. */
  private latest = 0;

  constructor(
    private readonly gql: Gql,
    root: HTMLElement,
    private readonly onOpen: (findingId: string) => void,
  ) {
    root.append(
      h('form', { class: 'filters', onsubmit: (e: Event) => e.preventDefault() },
        h('label', { for: 'findings-account' }, 'Account'), this.accountSelect,
        h('label', { for: 'findings-reason' }, 'Reason'), this.reasonSelect),
      this.body,
    );
  }

  setAccounts(accountIds: string[]): void {
    replace(this.accountSelect, h('option', { value: '' }, 'All accounts'), ...accountIds.map((id) => h('option', { value: id }, id)));
    this.accountSelect.value = this.accountId ?? '';
  }

  setAccount(accountId: string | null): void {
    this.accountId = accountId;
    this.accountSelect.value = accountId ?? '';
    this.cursors = [null];
    void this.load();
  }

  setReason(reasonCode: string): void {
    this.reasonFilter = reasonCode;
    this.cursors = [null]; // another filter, another list: its first page
    void this.load();
  }

  async load(): Promise<void> {
    const after = this.cursors[this.cursors.length - 1];
    const request = ++this.latest;
    replace(this.body, statusLine('Loading findings…'));
    try {
      const data = await this.gql<{ findings: Page }>(FAILING_FINDINGS, {
        first: PAGE, after, accountIds: this.accountId ? [this.accountId] : null, reasons: this.reasonFilter ? [this.reasonFilter] : null,
      });
      if (request === this.latest) this.render(data.findings);
    } catch (err) {
      if (request === this.latest) replace(this.body, statusLine(`Findings could not be loaded: ${(err as Error).message}`, 'error'));
    }
  }

  private render(page: Page): void {
    const rows = page.nodes;
    const pageNo = this.cursors.length;
    const pages = Math.max(1, Math.ceil(page.totalCount / PAGE));
    replace(
      this.body,
      statusLine(`${page.totalCount} failing findings${this.accountId ? ` in ${this.accountId}` : ''}${this.reasonFilter ? ` with reason "${reason(this.reasonFilter)}"` : ''}; page ${pageNo} of ${pages}.`),
      rows.length === 0 ? null : h(
        'div',
        { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Failing findings' },
        h(
          'table',
          { id: 'findings-table', class: 'stack' },
          h('thead', {}, h('tr', {}, ...['User', 'Account', 'Access key', 'Reasons', 'Failing since', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...rows.map((f) => h(
            'tr',
            { 'data-finding-id': f.id },
            h('th', { scope: 'row' }, f.userName),
            h('td', { 'data-label': 'Account' }, h('code', {}, f.accountId)),
            h('td', { 'data-label': 'Key' }, f.accessKeyId ? h('code', {}, f.accessKeyId) : '—'),
            h('td', { 'data-label': 'Reasons' }, f.reasons.map(reason).join(', ')),
            h('td', { 'data-label': 'Failing since' }, h('time', { datetime: f.firstSeenAt, title: when(f.firstSeenAt) }, age(f.firstSeenAt))),
            h('td', {}, h('button', { type: 'button', class: 'link', 'aria-label': `Evidence for ${f.userName} ${f.accessKeyId ?? ''}`.trim(), onclick: () => this.onOpen(f.id) }, 'Evidence')),
          ))),
        ),
      ),
      h('nav', { class: 'pager', 'aria-label': 'Findings pages' },
        h('button', { type: 'button', disabled: pageNo === 1, onclick: () => { this.cursors.pop(); void this.load(); } }, 'Previous page'),
        h('button', { type: 'button', disabled: !page.pageInfo.hasNextPage, onclick: () => { this.cursors.push(page.pageInfo.endCursor); void this.load(); } }, 'Next page')),
    );
  }
}
