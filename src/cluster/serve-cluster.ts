import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/**
 * `keywarden serve --processes N`: N API processes behind one port (node:cluster; the primary accepts and hands
 * connections round-robin). They share nothing but PostgreSQL: the primary owns the database (and the embedded
 * one's life), runs migrations, reconciliation and any scan worker, and passes the URL on; each API process
 * has its own pool, caches and rate-limit buckets (see README, "Holding up").
 */
const LISTENING = 'keywarden:listening';
const SHUTDOWN = 'keywarden:shutdown';

export interface ApiCluster {
  /** The API's URL, as the first process reported it. */
  url: string;
  pids(): number[];
  /** Asks every API process to drain and stop; kills those still running after `deadlineMs`. */
  stop(deadlineMs: number): Promise<void>;
}

/** Forks `processes` API processes with `env` added, and resolves once each of them listens. */
export async function startApiCluster({ processes, env, logger }: { processes: number; env: Record<string, string>; logger: Logger }): Promise<ApiCluster> {
  let stopping = false;
  let url = '';
  const fork = () => cluster.fork(env);
  const listening = new Set<Worker>();
  const ready = new Promise<void>((resolve, reject) => {
    cluster.on('message', (worker, message: { type?: string; url?: string }) => {
      if (message?.type !== LISTENING) return;
      url ||= message.url!;
      listening.add(worker);
      if (listening.size >= processes) resolve();
    });
    cluster.on('exit', (worker, code, signal) => {
      const wasListening = listening.delete(worker);
      if (stopping) return;
      // One that never listened failed at start (a bad port, the database): forking again would only loop.
      if (!wasListening) {
        logger.error({ pid: worker.process.pid, code, signal }, 'an API process exited before listening: not started again');
        return reject(new Error(`an API process exited before listening (code ${code}${signal ? `, ${signal}` : ''})`));
      }
      logger.warn({ pid: worker.process.pid, code, signal }, 'an API process exited: starting another');
      fork();
    });
  });
  for (let i = 0; i < processes; i++) fork();
  await ready;
  return {
    url,
    pids: () => Object.values(cluster.workers ?? {}).map((w) => w!.process.pid!),
    stop: async (deadlineMs) => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                logger.warn({ pid: w.process.pid }, 'an API process did not stop in time: killed');
                w.process.kill('SIGKILL');
              }, deadlineMs);
              w.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              if (w.isConnected()) w.send({ type: SHUTDOWN });
            }),
        ),
      );
    },
  };
}

/** In an API process: tells the primary where it listens. */
export function reportListening(url: string): void {
  process.send?.({ type: LISTENING, url });
}

/**
 * Resolves at the first SIGINT, SIGTERM or shutdown message from the primary. Later signals are ignored: Ctrl-C
 * reaches every process of the group and the primary asks again, and a second signal must not cut the drain short.
 */
export function untilStopRequested(): Promise<NodeJS.Signals | 'shutdown message'> {
  return new Promise((resolve) => {
    process.on('SIGINT', () => resolve('SIGINT'));
    process.on('SIGTERM', () => resolve('SIGTERM'));
    process.on('message', (m: { type?: string }) => {
      if (m?.type === SHUTDOWN) resolve('shutdown message');
    });
  });
}
