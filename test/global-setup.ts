import { Client } from 'pg';
import { migrateDatabase } from '../src/adapters/db/migrate';

/**
 * Each test run gets its own database on the real PostgreSQL (127.0.0.1:5432 unless
 * TEST_DATABASE_ADMIN_URL says otherwise), migrated from the committed migrations.
 */
export default async function globalSetup(): Promise<void> {
  const admin = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const name = `keywarden_test_${process.pid}_${Date.now()}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  process.env.DATABASE_URL = url.toString();
  process.env.KEYWARDEN_TEST_DATABASE = name;
  await migrateDatabase(process.env.DATABASE_URL);
}
