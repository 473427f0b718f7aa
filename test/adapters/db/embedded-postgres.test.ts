import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../../src/adapters/db/embedded-postgres';
import { migrateDatabase, migrationStatus } from '../../../src/adapters/db/migrate';
import { createPrismaClient } from '../../../src/adapters/db/prisma';
import { COMMITTED_MIGRATIONS } from '../../support/migrations';

jest.setTimeout(60_000);

const timings: Record<string, number> = {};
async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[label] = Date.now() - t0;
  }
}

describe('embedded PostgreSQL (PGlite over the wire protocol)', () => {
  let root: string;
  let dataDir: string;
  let pg: EmbeddedPostgres | undefined;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-embedded-'));
    dataDir = path.join(root, 'pgdata'); // absent: start must create it
  });

  afterAll(async () => {
    await pg?.stop();
    fs.rmSync(root, { recursive: true, force: true });
    // Shown with --verbose runs; the numbers are what the db adapter notes quote.
    console.log(`embedded PostgreSQL timings (ms): ${JSON.stringify(timings)}`);
  });

  it('starts on a new data dir, migrates, and keeps a Scan row across a restart', async () => {
    pg = await timed('cold start (initdb)', () => startEmbeddedPostgres({ dataDir }));
    expect(pg.url).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);

    const migrated = await timed('migrate deploy', () => migrateDatabase(pg!.url));
    expect(migrated.applied).toEqual(COMMITTED_MIGRATIONS);
    expect((await migrationStatus(pg.url)).upToDate).toBe(true);

    const prisma = createPrismaClient(pg.url, { poolMax: 1 });
    let id: string;
    try {
      const scan = await prisma.scan.create({
        data: { status: 'COMPLETED', source: 'CREDENTIAL_REPORT', accountId: '111122223333', startedAt: new Date('2026-11-01T10:00:00Z'), passCount: 3 },
      });
      id = scan.id;
    } finally {
      await prisma.$disconnect();
    }
    await timed('stop', () => pg!.stop());
    expect(fs.existsSync(path.join(dataDir, 'keywarden.lock'))).toBe(false);

    pg = await timed('warm start', () => startEmbeddedPostgres({ dataDir }));
    expect((await timed('migrate deploy, nothing pending', () => migrateDatabase(pg!.url))).applied).toEqual([]);
    const again = createPrismaClient(pg.url, { poolMax: 1 });
    try {
      const row = await again.scan.findUniqueOrThrow({ where: { id } });
      expect(row).toMatchObject({ accountId: '111122223333', status: 'COMPLETED', passCount: 3 });
      expect(row.startedAt!.toISOString()).toBe('2026-11-01T10:00:00.000Z');
    } finally {
      await again.$disconnect();
    }
  });

  it('refuses a second start on the same data dir while the first runs', async () => {
    expect(pg).toBeDefined();
    const err = await startEmbeddedPostgres({ dataDir }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      `embedded PostgreSQL data directory ${dataDir} is in use by this process (pid ${process.pid}) (lock file ${path.join(dataDir, 'keywarden.lock')})`,
    );
  });

  it('lets a client connect right after another disconnected (pool end() resolves before the server sees the close)', async () => {
    for (let i = 0; i < 3; i++) {
      const prisma = createPrismaClient(pg!.url, { poolMax: 1 });
      expect(await prisma.scan.count()).toBe(1);
      await prisma.$disconnect();
    }
  });

  it('serves connections one statement at a time on one shared session, and drops those beyond maxConnections', async () => {
    const { port } = new URL(pg!.url);
    const connect = async (): Promise<Client> => {
      const client = new Client({ host: '127.0.0.1', port: Number(port), user: 'postgres', database: 'postgres' });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    };
    const clients = [await connect(), await connect(), await connect(), await connect()];
    try {
      await expect(connect()).rejects.toThrow(/Connection terminated unexpectedly/);

      const [a, b] = clients;
      await a.query(`SET application_name = 'from-a'`);
      expect((await b.query('SHOW application_name')).rows).toEqual([{ application_name: 'from-a' }]);

      // An open transaction on one connection holds every other connection's statements.
      await a.query('BEGIN');
      let bDone = false;
      const bQuery = b.query('SELECT 1').then(() => (bDone = true));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(bDone).toBe(false);
      await a.query('COMMIT');
      await bQuery;
      expect(bDone).toBe(true);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('names another live process that holds the data dir, and replaces a lock left by a dead one', async () => {
    await pg!.stop();
    pg = undefined;
    const lockPath = path.join(dataDir, 'keywarden.lock');

    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(lockPath, `${holder.pid}\n`);
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(`is in use by process ${holder.pid} (lock file ${lockPath})`);
    } finally {
      holder.kill();
    }

    const dead = spawnSync(process.execPath, ['-e', '']).pid; // exited: its pid is free
    fs.writeFileSync(lockPath, `${dead}\n`);
    pg = await startEmbeddedPostgres({ dataDir });
    expect(fs.readFileSync(lockPath, 'utf8').trim()).toBe(String(process.pid));
  });
});
