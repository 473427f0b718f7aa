import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { PrismaClient } from '../../generated/prisma/client';
import type { Statement } from './statement';

export interface PrismaClientOptions {
  /** pg pool size. Default: pg's 10. */
  poolMax?: number;
}

/** The pg pool under each client createPrismaClient made (readRows reads through it). */
const pools = new WeakMap<PrismaClient, pg.Pool>();

/**
 * A PrismaClient over @prisma/adapter-pg (no native query engine). The URL is split into discrete
 * fields, as prisma.config.ts does for Migrate, so both connect the same way.
 * Like prisma.config.ts, it ignores `?schema=` (Migrate creates the tables in `public`, so the client
 * must look there too) and the SSL parameters.
 */
export function createPrismaClient(databaseUrl: string, { poolMax }: PrismaClientOptions = {}): PrismaClient {
  const c = parse(databaseUrl);
  const pool = new pg.Pool({
    host: c.host || '127.0.0.1',
    port: c.port ? Number(c.port) : 5432,
    user: c.user || undefined,
    password: c.password || undefined,
    database: c.database || undefined,
    ...(poolMax !== undefined ? { max: poolMax } : {}),
  });
  // An idle connection the server closed is dropped by the pool; without a listener it would end the process.
  pool.on('error', () => undefined);
  // Our pool, so that readRows can use it; Prisma still ends it on $disconnect, as it would its own.
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(client, pool);
  return client;
}

/**
 * Runs a read statement on the client's own pool, without Prisma, for the hot and the large reads (a findings page,
 * an export page, the instants of a read):
 * - Prisma's raw queries convert every value of every row: half the CPU of a 50-finding page (1.0 ms of Prisma
 *   against 0.47 ms of pg for its statements).
 * - Through pg's callback API: a result awaited through pg's promise API (which Prisma's adapter uses) stayed
 *   reachable through two young-generation collections, so V8 promoted every page an export read into the old
 *   generation, which only a full collection frees (reading 1,000 export pages, 117 MB of JSON text: 95 MB promoted
 *   through the promise API, 5 MB through the callback API), and an export's RSS grew with its size.
 * Values arrive as pg parses them: timestamptz as Date (±infinity as ±Infinity), json as objects, int8 and numeric
 * as strings. A client made elsewhere (a test's own PrismaClient), or already disconnected, reads through Prisma.
 */
export function readRows<T>(prisma: PrismaClient, { sql, params }: Statement): Promise<T[]> {
  const pool = pools.get(prisma);
  if (!pool || pool.ended) return prisma.$queryRawUnsafe<T[]>(sql, ...params);
  return new Promise((resolve, reject) => {
    pool.query({ text: sql, values: params }, (err: Error | undefined, result: pg.QueryResult) => (err ? reject(err) : resolve(result.rows as T[])));
  });
}
