import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { PrismaClient } from '../../generated/prisma/client';

export interface PrismaClientOptions {
  /** pg pool size. Default: pg's 10. */
  poolMax?: number;
}

/** The pg pool under each client createPrismaClient made (queryRawRows reads through it). */
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
  // Our pool, so that queryRawRows can use it; Prisma still ends it on $disconnect, as it would its own.
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(client, pool);
  return client;
}

/**
 * The rows of one read statement whose result is large and used at once (an export page), as `$queryRawUnsafe`
 * would return them for the column types pg and Prisma read alike (text, int4, bool, json as text).
 *
 * Through pg's callback API on the client's own pool, not through Prisma: a result awaited through pg's promise
 * API, which Prisma's adapter uses, stayed reachable through two young-generation collections, so V8 promoted
 * every page an export read into the old generation, which only a full collection frees. Measured reading
 * 1,000 export pages (117 MB of JSON text) in a loop: 95 MB promoted through the promise API, 5 MB through the
 * callback API. An export's heap (and RSS) then grew with the number of findings, not with the page size.
 * A client made elsewhere (a test's own PrismaClient) is read through Prisma.
 */
export function queryRawRows<T extends object>(prisma: PrismaClient, sql: string, params: unknown[]): Promise<T[]> {
  const pool = pools.get(prisma);
  if (!pool) return prisma.$queryRawUnsafe<T[]>(sql, ...params);
  return new Promise((resolve, reject) => {
    pool.query<T>({ text: sql, values: params }, (err, result) => (err ? reject(err) : resolve(result.rows)));
  });
}
