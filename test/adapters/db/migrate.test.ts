import { Client } from 'pg';
import { migrateDatabase, migrationStatus } from '../../../src/adapters/db/migrate';
import { createPrismaClient } from '../../../src/adapters/db/prisma';
import { COMMITTED_MIGRATIONS } from '../../support/migrations';
import { testDatabaseName } from '../../support/test-resources';

jest.setTimeout(30_000);

/** The real PostgreSQL of the developer and CI machines (trust auth). */
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string, database?: string): Promise<void> {
  const url = new URL(ADMIN_URL);
  if (database) url.pathname = `/${database}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

describe('migrateDatabase on PostgreSQL', () => {
  const db = testDatabaseName(`migrate_${process.pid}`);
  const broken = testDatabaseName(`migrate_${process.pid}_broken`);

  beforeAll(async () => {
    for (const name of [db, broken]) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${db}`);
    await admin(`CREATE DATABASE ${broken}`);
  });

  afterAll(async () => {
    for (const name of [db, broken]) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it('applies the migrations once, then has nothing pending; the client reads the tables', async () => {
    expect(await migrationStatus(urlFor(db))).toMatchObject({ upToDate: false, pending: COMMITTED_MIGRATIONS, failed: [] });

    const t0 = Date.now();
    const first = await migrateDatabase(urlFor(db));
    console.log(`migrate deploy on PostgreSQL: ${Date.now() - t0} ms`);
    expect(first.applied).toEqual(COMMITTED_MIGRATIONS);
    expect(first.output).toContain('All migrations have been successfully applied.');

    expect((await migrateDatabase(urlFor(db))).applied).toEqual([]);
    expect(await migrationStatus(urlFor(db))).toMatchObject({ upToDate: true, pending: [], failed: [] });

    const prisma = createPrismaClient(`${urlFor(db)}?schema=ignored`);
    try {
      expect(await prisma.scan.count()).toBe(0);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('fails with one line when the database cannot be reached', async () => {
    const err = await migrateDatabase('postgresql://postgres@127.0.0.1:1/nowhere').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^migration failed: Can't reach database server at `127\.0\.0\.1:1`/);
    expect((err as Error).message).not.toContain('\n');
    await expect(migrationStatus('postgresql://postgres@127.0.0.1:1/nowhere')).rejects.toThrow(/^migration status failed: Can't reach/);
  });

  it('fails with one line naming the migration and the database error when a migration fails', async () => {
    // A type the first migration creates: its CREATE TYPE then fails.
    await admin(`CREATE TYPE "ComplianceStatus" AS ENUM ('X')`, broken);
    const err = await migrateDatabase(urlFor(broken)).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      'migration failed: 20261127000000_init: Error querying the database: ERROR: type "ComplianceStatus" already exists.',
    );
    // Prisma recorded it as failed: the database is not up to date, and later deploys refuse until it is resolved.
    // (`migrate status` lists the later migrations as pending before it mentions the failed one.)
    expect((await migrationStatus(urlFor(broken))).upToDate).toBe(false);
    await expect(migrateDatabase(urlFor(broken))).rejects.toThrow(/^migration failed: migrate found failed migrations in the target database.*\(P3009\)$/);
  });
});
