import fs from 'node:fs';
import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const tmp = process.env.KEYWARDEN_TEST_TMP;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  const name = process.env.KEYWARDEN_TEST_DATABASE;
  if (!name) return;
  const client = new Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
