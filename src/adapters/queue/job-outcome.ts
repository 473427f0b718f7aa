import { createRequire } from 'node:module';

/*
 * pg-boss 10.4 records a job's outcome after its handler with `this.complete(...)` / `this.fail(...)` and does not
 * await them (src/manager.js, watch()). With the database away at that moment (a restart, a network cut), their
 * rejection is unhandled and ends the worker process; the outage test (test/cli/worker-db-outage.e2e.test.ts)
 * showed it. pg-boss keeps its Manager private, so its prototype's two methods are wrapped, once per process:
 * the outcome is retried with backoff until the database answers (about 5 minutes at most), then given up to the
 * queue's own recovery (the job stays active until it expires, and runs again). Failures go to the boss's 'error'
 * event like its other database errors. The version is pinned exactly; the test fails if this stops holding.
 */
const RETRY_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000];

type Outcome = (this: ManagerLike, ...args: unknown[]) => Promise<unknown>;
interface ManagerLike {
  emit(event: string, value: unknown): boolean;
}

let settled = false;

export function settleJobOutcomes(): void {
  if (settled) return;
  settled = true;
  const Manager = createRequire(require.resolve('pg-boss'))('./manager') as { prototype: Record<'complete' | 'fail', Outcome> };
  for (const method of ['complete', 'fail'] as const) {
    const original = Manager.prototype[method];
    Manager.prototype[method] = async function (this: ManagerLike, ...args: unknown[]) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await original.apply(this, args);
        } catch (err) {
          const delay = RETRY_DELAYS_MS[attempt];
          const message = `could not record a job's outcome (${method}): ${err instanceof Error ? err.message : String(err)}`;
          this.emit('error', Object.assign(new Error(delay === undefined ? `${message}; giving up, the job runs again when it expires` : `${message}; retrying`), { queue: args[0] }));
          if (delay === undefined) return undefined;
          await new Promise((r) => setTimeout(r, delay).unref());
        }
      }
    };
  }
}
