import type { ScanSummary } from './scan.service';

interface Line {
  current: Promise<ScanSummary>;
  /** The scan everyone who asked while `current` ran will share; it starts when `current` ends. */
  next: Promise<ScanSummary> | null;
}

const settled = (p: Promise<unknown>) => p.then(
  () => undefined,
  () => undefined,
);

/**
 * Full scans of one account run one at a time, in this process. A request that arrives while a scan of the
 * account runs waits for it, then shares the next scan with everyone else who waited: that scan starts after
 * all of them asked, so each gets an answer read after its request, and a burst of requests makes at most two
 * scans instead of one each, all reading IAM at once. (Across processes, the store's per-account lock orders
 * the writes.)
 */
export class ScanQueue {
  private readonly lines = new Map<string, Line>();

  run(account: string, scan: () => Promise<ScanSummary>): Promise<ScanSummary> {
    const line = this.lines.get(account);
    if (!line) return this.start(account, scan);
    line.next ??= settled(line.current).then(() => this.start(account, scan));
    return line.next;
  }

  private start(account: string, scan: () => Promise<ScanSummary>): Promise<ScanSummary> {
    const line: Line = { current: scan(), next: null };
    this.lines.set(account, line);
    // Registered before any waiter's continuation, so it runs first: with waiters, their scan replaces the line.
    void settled(line.current).then(() => {
      if (this.lines.get(account) === line && line.next === null) this.lines.delete(account);
    });
    return line.current;
  }
}
