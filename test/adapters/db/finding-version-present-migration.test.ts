import { createScratchDatabase, dropScratchDatabase, migrationSql, migrationsBefore, withClient } from '../../support/migration-database';

/**
 * Migration 20261130500000_finding_version_present on rows as the code before it stored them: a finding whose key or
 * user is gone (present false) had its last version closed at that scan and none after. The migration gives it a
 * version from then on, present false, with the finding row's content (what the current read shows); where
 * retention deleted every version, from the latest scan at or before the horizon. Present findings, and gone ones
 * that already have a current version, get none. The migrations before it are applied as plain SQL to a database
 * of its own, rows inserted, then this one.
 */
const THIS = '20261130500000_finding_version_present';
const db = `kw_version_present_${process.pid}`;
const ACCOUNT = '111122223333';

const t = (day: number) => new Date(Date.UTC(2026, 10, day));

describe(`migration ${THIS}`, () => {
  beforeAll(async () => {
    await createScratchDatabase(db);
  });
  afterAll(() => dropScratchDatabase(db));

  it('gives each gone finding without a current version one, present false, from its disappearance; leaves the others as they were', async () => {
    const before = migrationsBefore(THIS);
    expect(before.at(-1)).toBe('20261130400000_change_event_prune_index');
    const rows = await withClient(db, async (c) => {
      for (const name of before) await c.query(migrationSql(name));
      const scan = async (day: number) =>
        (await c.query(
          `INSERT INTO scan (id, account_id, status, source, started_at, observed_at) VALUES (gen_random_uuid(), $1, 'COMPLETED', 'CREDENTIAL_REPORT', $2, $2) RETURNING id`,
          [ACCOUNT, t(day)],
        )).rows[0].id as string;
      const scans = { 1: await scan(1), 2: await scan(2), 3: await scan(3), 5: await scan(5) };
      // Retention ran with a cutoff on day 4: the versions that ended before it are gone.
      await c.query(`INSERT INTO history_horizon (account_id, pruned_before) VALUES ($1, $2)`, [ACCOUNT, t(4)]);
      // name, status, state, resolution, present, last scan (day), versions ([from, to) in days; to null: current).
      const cases: [string, string, string, string | null, boolean, 1 | 2 | 3 | 5, [number, number | null][]][] = [
        ['key-deleted', 'FAIL', 'RESOLVED', 'KEY_DELETED', false, 3, [[1, 3], [3, 5]]],
        ['user-deleted-never-failed', 'PASS', 'NEVER_FAILED', null, false, 3, [[1, 5]]],
        ['pruned-user-deleted', 'FAIL', 'RESOLVED', 'USER_DELETED', false, 1, []],
        ['present', 'FAIL', 'OPEN', null, true, 5, [[1, null]]],
        ['gone-with-current-version', 'FAIL', 'RESOLVED', 'KEY_DELETED', false, 2, [[2, null]]],
      ];
      for (const [name, status, state, resolution, present, last, versions] of cases) {
        const id = (await c.query(
          `INSERT INTO finding (id, identity, account_id, control_id, user_name, user_arn, status, reasons, evidence, state, present,
             resolved_at, resolution, reopen_count, first_seen_at, last_seen_at, last_scan_id)
           VALUES (gen_random_uuid(), $1, $2, 'c', $1, 'arn:' || $1, $3, '{NEVER_USED}', '{"e": 1}', $4, $5, $6, $7, 1, $8, $9, $10) RETURNING id`,
          [name, ACCOUNT, status, state, present, resolution ? t(2) : null, resolution, t(1), t(last), scans[last]],
        )).rows[0].id;
        for (const [from, to] of versions) {
          await c.query(
            `INSERT INTO finding_version (id, finding_id, account_id, user_name, user_arn, status, reasons, evidence, state, content_hash,
               valid_from, valid_to, first_scan_id)
             VALUES (gen_random_uuid(), $1, $2, $3, 'old-arn', 'PASS', '{}', '{}', 'OPEN', 'h', $4, $5, $6)`,
            [id, ACCOUNT, name, t(from), to === null ? null : t(to), scans[from as 1]],
          );
        }
      }
      await c.query(migrationSql(THIS));
      return (await c.query(
        `SELECT f.identity, v.valid_from, v.valid_to, v.present, v.user_arn, v.status::text, v.reasons, v.evidence, v.state::text,
           v.resolution::text, v.resolved_at, v.reopen_count, v.first_scan_id::text = f.last_scan_id::text AS from_last_scan
         FROM finding f JOIN finding_version v ON v.finding_id = f.id ORDER BY f.identity, v.valid_from`,
      )).rows;
    });
    const versions = (identity: string) => rows.filter((r) => r.identity === identity).map((r) => [r.valid_from, r.valid_to, r.present]);
    // A gone version from the end of the last one, with the finding row's content and lifecycle.
    expect(versions('key-deleted')).toEqual([[t(1), t(3), true], [t(3), t(5), true], [t(5), null, false]]);
    expect(rows.find((r) => r.identity === 'key-deleted' && !r.present)).toMatchObject({
      user_arn: 'arn:key-deleted', status: 'FAIL', reasons: ['NEVER_USED'], evidence: { e: 1 }, state: 'RESOLVED',
      resolution: 'KEY_DELETED', resolved_at: t(2), reopen_count: 1, from_last_scan: true,
    });
    expect(versions('user-deleted-never-failed')).toEqual([[t(1), t(5), true], [t(5), null, false]]);
    expect(rows.find((r) => r.identity === 'user-deleted-never-failed' && !r.present)).toMatchObject({ state: 'NEVER_FAILED', resolution: null });
    // Every version pruned: from the scan that answers an asOf at the horizon (day 3), not from the horizon itself.
    expect(versions('pruned-user-deleted')).toEqual([[t(3), null, false]]);
    expect(versions('present')).toEqual([[t(1), null, true]]);
    expect(versions('gone-with-current-version')).toEqual([[t(2), null, true]]);
  });
});
