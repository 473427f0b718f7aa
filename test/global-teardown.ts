import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
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
