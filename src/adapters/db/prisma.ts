import { PrismaPg } from '@prisma/adapter-pg';
import { parse } from 'pg-connection-string';
import { PrismaClient } from '../../generated/prisma/client';

export interface PrismaClientOptions {
  /** pg pool size. Default: pg's 10. */
  poolMax?: number;
}

/**
 * A PrismaClient over @prisma/adapter-pg (no native query engine). The URL is split into discrete
 * fields, as prisma.config.ts does for Migrate, so both connect the same way.
 * Like prisma.config.ts, it ignores `?schema=` (Migrate creates the tables in `public`, so the client
 * must look there too) and the SSL parameters.
 */
export function createPrismaClient(databaseUrl: string, { poolMax }: PrismaClientOptions = {}): PrismaClient {
  const c = parse(databaseUrl);
  const adapter = new PrismaPg({
    host: c.host || '127.0.0.1',
    port: c.port ? Number(c.port) : 5432,
    user: c.user || undefined,
    password: c.password || undefined,
    database: c.database || undefined,
    ...(poolMax !== undefined ? { max: poolMax } : {}),
  });
  return new PrismaClient({ adapter });
}
