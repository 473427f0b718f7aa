// PASS/FAIL/ERROR over time (lines) and findings opened/resolved per bucket (bars), from complianceTrend.
import uPlot from 'uplot';
import type { Gql } from '../api';
import { h, replace, statusLine } from '../dom';
import { day } from '../format';
import { TREND, TREND_INTERVAL, type TrendPoint } from '../queries';

export const RANGES = {
  '7d': { days: 7, interval: TREND_INTERVAL.DAY },
  '30d': { days: 30, interval: TREND_INTERVAL.DAY },
  '90d': { days: 90, interval: TREND_INTERVAL.DAY },
  '1y': { days: 365, interval: TREND_INTERVAL.WEEK },
} as const;
export type Range = keyof typeof RANGES;
const DAY_MS = 86_400_000;

// Colours checked against the white background for WCAG AA (3:1 for graphics).
const COLOURS = { pass: '#1a7f37', fail: '#cf222e', error: '#9a6700', opened: '#cf222e', resolved: '#1a7f37' };

export class TrendView {
  private charts: uPlot[] = [];
  /** Only the latest request draws: an earlier range or account answering late is dropped. */
  private latest = 0;
  private readonly body = h('div', { class: 'trend-body' });

  constructor(
    private readonly gql: Gql,
    readonly root: HTMLElement,
  ) {
    root.append(this.body);
    window.addEventListener('resize', () => this.resize());
  }

  async show(range: Range, accountId: string | null): Promise<void> {
    const { days, interval } = RANGES[range];
    // Whole UTC days, today included: a 30 d range is the 30 day buckets ending with today's.
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const from = new Date(today - (days - 1) * DAY_MS).toISOString();
    const to = new Date(today + DAY_MS).toISOString();
    const request = ++this.latest;
    replace(this.body, statusLine('Loading the trend…'));
    try {
      const data = await this.gql<{ complianceTrend: TrendPoint[] }>(TREND, { from, to, interval, accountId });
      if (request === this.latest) this.draw(data.complianceTrend, accountId);
    } catch (err) {
      if (request === this.latest) replace(this.body, statusLine(`The trend could not be loaded: ${(err as Error).message}`, 'error'));
    }
  }

  private draw(points: TrendPoint[], accountId: string | null): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    const x = points.map((p) => new Date(p.at).getTime() / 1000);
    const withFigures = points.filter((p) => p.pass != null || p.fail != null || p.error != null);
    const statusChart = h('div', { class: 'chart', id: 'trend-chart', role: 'img', 'data-points': withFigures.length, 'aria-label': `PASS, FAIL and ERROR findings per bucket for ${accountId ?? 'all accounts'}: ${withFigures.length} buckets with figures; the table below lists them` });
    const flowChart = h('div', { class: 'chart chart-small', id: 'flow-chart', role: 'img', 'aria-label': 'Findings opened and resolved per bucket; the table below lists them' });
    replace(
      this.body,
      withFigures.length === 0 ? statusLine('No scan in this range yet.') : null,
      h('h3', {}, 'Findings by status'),
      statusChart,
      h('h3', {}, 'Opened and resolved'),
      flowChart,
      this.table(points),
    );
    const width = this.width();
    this.charts.push(
      new uPlot(
        {
          width, height: 240,
          scales: { x: { time: true } },
          series: [
            {},
            { label: 'PASS', stroke: COLOURS.pass, width: 2, points: { show: true, size: 5 } },
            { label: 'FAIL', stroke: COLOURS.fail, width: 2, points: { show: true, size: 5 } },
            { label: 'ERROR', stroke: COLOURS.error, width: 2, dash: [6, 3], points: { show: true, size: 5 } },
          ],
          axes: [{}, { label: 'findings' }],
        },
        [x, points.map((p) => p.pass), points.map((p) => p.fail), points.map((p) => p.error)],
        statusChart,
      ),
    );
    const bars = uPlot.paths.bars!({ size: [0.35, 24], gap: 1 });
    this.charts.push(
      new uPlot(
        {
          width, height: 160,
          scales: { x: { time: true } },
          series: [
            {},
            { label: 'opened', stroke: COLOURS.opened, fill: COLOURS.opened, paths: bars, points: { show: false } },
            { label: 'resolved', stroke: COLOURS.resolved, fill: COLOURS.resolved, paths: bars, points: { show: false } },
          ],
          axes: [{}, { label: 'findings' }],
        },
        [x, points.map((p) => p.opened), points.map((p) => p.resolved)],
        flowChart,
      ),
    );
    // For npm run bench:page: the instant the first chart is drawn, from navigation start.
    if (performance.getEntriesByName('keywarden:chart').length === 0) performance.mark('keywarden:chart');
  }

  /** The same figures as a table: for screen readers, and for reading exact numbers. */
  private table(points: TrendPoint[]): HTMLElement {
    const rows = points.filter((p) => p.pass != null || p.opened != null);
    return h(
      'details',
      { class: 'trend-table' },
      h('summary', {}, `Figures per bucket (${rows.length} with scans)`),
      h(
        'div',
        { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Trend figures' },
        h(
          'table',
          { id: 'trend-table' },
          h('thead', {}, h('tr', {}, ...['Bucket', 'PASS', 'FAIL', 'ERROR', 'Opened', 'Resolved', 'Scans'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...rows.map((p) => h('tr', {}, h('th', { scope: 'row' }, day(p.at)), ...[p.pass, p.fail, p.error, p.opened, p.resolved, p.scans].map((v) => h('td', {}, v ?? '—'))))),
        ),
      ),
    );
  }

  private width(): number {
    const style = getComputedStyle(this.root);
    const inner = this.root.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return Math.max(240, Math.min(1100, Math.floor(inner)));
  }

  private resize(): void {
    const width = this.width();
    for (const c of this.charts) c.setSize({ width, height: c.height });
  }
}
