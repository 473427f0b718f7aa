import { createScratchDatabase, dropScratchDatabase, migrationSql, migrationsBefore, withClient } from '../../support/migration-database';

/**
 * Migration 20261130110000_finding_never_failed on rows as the code before it stored them: a finding (and
 * version) RESOLVED without ever being resolved becomes NEVER_FAILED; one EXCEPTED from its first failure keeps
 * RESOLVED with resolution EXCEPTED; open and really resolved ones are untouched. The migrations before it are
 * applied as plain SQL to a database of its own, rows inserted, then this one.
 */
const THIS = '20261130110000_finding_never_failed';
const db = `kw_never_failed_${process.pid}`;

describe(`migration ${THIS}`, () => {
  beforeAll(async () => {
    await createScratchDatabase(db);
  });
  afterAll(() => dropScratchDatabase(db));

  it('moves findings and versions that never failed to NEVER_FAILED, and leaves the others as they were', async () => {
    const before = migrationsBefore(THIS);
    expect(before.at(-1)).toBe('20261130100000_change_events');
    const rows = await withClient(db, async (c) => {
      for (const name of before) await c.query(migrationSql(name));
      const scan = (await c.query(`INSERT INTO scan (id, account_id, status, source) VALUES (gen_random_uuid(), '111122223333', 'COMPLETED', 'CREDENTIAL_REPORT') RETURNING id`)).rows[0].id;
      // name, status, state, resolved_at, resolution, opened_at, present: as the lifecycle before NEVER_FAILED left them.
      const cases: [string, string, string, string | null, string | null, string | null, boolean][] = [
        ['passing', 'PASS', 'RESOLVED', null, null, null, true],
        ['not-applicable', 'NOT_APPLICABLE', 'RESOLVED', null, null, null, true],
        ['gone-never-failed', 'PASS', 'RESOLVED', null, 'KEY_DELETED', null, false],
        ['excepted-at-once', 'EXCEPTED', 'RESOLVED', null, null, null, true],
        ['open', 'FAIL', 'OPEN', null, null, '2026-11-01T00:00:00Z', true],
        ['fixed', 'PASS', 'RESOLVED', '2026-11-02T00:00:00Z', 'PASSED', '2026-11-01T00:00:00Z', true],
        ['excepted-after-open', 'EXCEPTED', 'RESOLVED', '2026-11-02T00:00:00Z', 'EXCEPTED', '2026-11-01T00:00:00Z', true],
      ];
      for (const [name, status, state, resolvedAt, resolution, openedAt, present] of cases) {
        const id = (await c.query(
          `INSERT INTO finding (id, identity, account_id, control_id, user_name, user_arn, status, reasons, evidence, state, present, opened_at,
             resolved_at, resolution, first_seen_at, last_seen_at, last_scan_id)
           VALUES (gen_random_uuid(), $1, '111122223333', 'c', $1, 'arn', $2, '{}', '{}', $3, $4, $5, $6, $7, now(), now(), $8) RETURNING id`,
          [name, status, state, present, openedAt, resolvedAt, resolution, scan],
        )).rows[0].id;
        await c.query(
          `INSERT INTO finding_version (id, finding_id, account_id, user_name, user_arn, status, reasons, evidence, state, resolved_at, resolution,
             content_hash, valid_from, first_scan_id)
           VALUES (gen_random_uuid(), $1, '111122223333', $2, 'arn', $3, '{}', '{}', $4, $5, $6, 'h', now(), $7)`,
          [id, name, status, state, resolvedAt, resolution === 'KEY_DELETED' ? null : resolution, scan],
        );
      }
      await c.query(migrationSql(THIS));
      return (await c.query(
        `SELECT f.identity, f.state::text, f.resolution::text, v.state::text AS v_state, v.resolution::text AS v_resolution
         FROM finding f JOIN finding_version v ON v.finding_id = f.id ORDER BY f.identity`,
      )).rows;
    });
    expect(Object.fromEntries(rows.map((r) => [r.identity, [r.state, r.resolution, r.v_state, r.v_resolution]]))).toEqual({
      'passing': ['NEVER_FAILED', null, 'NEVER_FAILED', null],
      'not-applicable': ['NEVER_FAILED', null, 'NEVER_FAILED', null],
      'gone-never-failed': ['NEVER_FAILED', null, 'NEVER_FAILED', null],
      'excepted-at-once': ['RESOLVED', 'EXCEPTED', 'RESOLVED', 'EXCEPTED'],
      'open': ['OPEN', null, 'OPEN', null],
      'fixed': ['RESOLVED', 'PASSED', 'RESOLVED', 'PASSED'],
      'excepted-after-open': ['RESOLVED', 'EXCEPTED', 'RESOLVED', 'EXCEPTED'],
    });
  });
});
