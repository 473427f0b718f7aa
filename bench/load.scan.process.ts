// bench:load's background scans: one 10,000-user account after another, each a fresh account (a first, full
// ingest), read from the IAM sandbox over HTTP through the credential report and stored, until told to stop.
import 'reflect-metadata';
import { createIamClient } from '../src/adapters/iam/iam-client';
import { createPrismaClient } from '../src/adapters/db/prisma';
import { createScanService } from '../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../src/controls/no-access-keys-at-setup/control';
import { buildLargeFixture } from '../src/sandbox/fixture-builder';
import { startIamSandbox } from '../src/sandbox/iam-sandbox.server';

let stopping = false;
process.once('disconnect', () => (stopping = true));

process.once('message', async (msg: { databaseUrl: string; users: number }) => {
  const prisma = createPrismaClient(msg.databaseUrl);
  for (let i = 0; !stopping; i++) {
    const accountId = `6${String(process.pid % 100_000).padStart(5, '0')}${String(i).padStart(6, '0')}`;
    const sandbox = await startIamSandbox({ fixture: buildLargeFixture({ users: msg.users, seed: 7 + i, accountId }) });
    const iam = createIamClient({ endpoint: sandbox.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIABENCHLOADBENCH00', secretAccessKey: 'bench' } });
    const summary = await createScanService(prisma, iam).run({ collect: { mode: 'CREDENTIAL_REPORT', concurrency: 16 }, control: DEFAULT_CONTROL_SETTINGS });
    iam.client.destroy();
    await sandbox.close();
    if (process.connected) process.send!({ status: summary.status, users: summary.users, durationMs: summary.durationMs });
  }
  await prisma.$disconnect();
  process.exit(0);
});
