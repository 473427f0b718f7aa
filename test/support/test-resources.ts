import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * What a test run creates outside itself, named so that it can be found and removed:
 * - databases: `$KEYWARDEN_TEST_DATABASE_PREFIX` (default `keywarden_test`) + a suffix. Several checkouts or CI
 *   jobs sharing one PostgreSQL set different prefixes, and a crashed run's leftovers are found by it.
 * - temporary folders: all inside one folder per run (`$TMPDIR/keywarden-test-<pid>-…`), which
 *   test/global-teardown.ts removes whole, so a test that forgets its own cleanup leaves nothing behind.
 */
export function testDatabasePrefix(env: NodeJS.ProcessEnv = process.env): string {
  const prefix = env.KEYWARDEN_TEST_DATABASE_PREFIX ?? 'keywarden_test';
  // Used unquoted in CREATE/DROP DATABASE: an identifier PostgreSQL folds to itself, room left for the suffix.
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(prefix)) {
    throw new Error(`KEYWARDEN_TEST_DATABASE_PREFIX=${JSON.stringify(prefix)}: use 1-40 characters of a-z, 0-9 and _, not starting with a digit`);
  }
  return prefix;
}

/** A database name for this run: the prefix, then `suffix`. */
export function testDatabaseName(suffix: string): string {
  return `${testDatabasePrefix()}_${suffix}`;
}

/** The run's temporary root (made by test/global-setup.ts; made here when a file runs without it). */
export function testTempRoot(): string {
  let root = process.env.KEYWARDEN_TEST_TMP;
  if (!root || !fs.existsSync(root)) {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `keywarden-test-${process.pid}-`));
    // As root, the embedded PostgreSQL runs as the postgres user, which must get through every folder above its data.
    fs.chmodSync(root, 0o755);
    process.env.KEYWARDEN_TEST_TMP = root;
  }
  return root;
}

/** A new empty folder inside the run's temporary root (mode 0700, as mkdtemp makes it). */
export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(testTempRoot(), prefix));
}
