/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. BatchImportFindings allows 10 requests
 * a second with bursts of 30 (Security Hub's service quotas); one bucket per process paces every push under it.
 * A few lines rather than a dependency: p-limit bounds concurrency, not a rate.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly clock: () => number = () => Date.now(),
  ) {
    this.tokens = burst;
    this.last = clock();
  }

  /** Resolves when a token is taken; callers are served in order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.wait());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(): Promise<void> {
    for (;;) {
      const now = this.clock();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000)));
    }
  }
}

/** Security Hub's BatchImportFindings quota: 10 requests a second, bursts of 30. */
export const BATCH_IMPORT_RATE = { ratePerSecond: 10, burst: 30 } as const;
