import { Client } from 'pg';
import { migrateDatabase } from '../src/adapters/db/migrate';
import { testDatabaseName, testTempRoot } from './support/test-resources';

/**
 * Each test run gets its own database on the real PostgreSQL (127.0.0.1:5432 unless
 * TEST_DATABASE_ADMIN_URL says otherwise), named with KEYWARDEN_TEST_DATABASE_PREFIX, migrated from the
 * committed migrations; and one temporary folder that the teardown removes whole.
 */
export default async function globalSetup(): Promise<void> {
  testTempRoot();
  const admin = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const name = testDatabaseName(`${process.pid}_${Date.now()}`);
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
