-- The rollup of the accounts' states that the organization-wide trend reads instead of every scan summary. One row
-- per UTC hour with a COMPLETED or PARTIAL scan of any account, holding that hour's scans in observed order and, after
-- each, the organization's running totals: the accounts' states summed (each account's state after its last scan so
-- far, carried forward) and the scans, opened, resolved and resolve seconds since the first scan. A trend bucket's
-- figures are then the totals at its end, minus those at its start for the sums: one index probe and one binary
-- search per bucket edge (width_bucket on observed_at), wherever the edge falls. A 90-day DAY trend over 200
-- accounts scanned every 6 hours read 72,000 scan rows. Rows are per hour, not per day, because a reader takes a
-- row's arrays whole: a day of that organization is 800 scans (about 60 kB, out of line), an hour at most 200.
--
-- Element k of observed_at is the hour's k-th scan (ties ordered by scan id), and row k of totals holds the running
-- totals after it: [scans, known (accounts with a scan so far), pass, fail, not_applicable, error, opened, resolved],
-- and element k of resolve_seconds the running sum of resolve seconds. before and before_resolve_seconds are the
-- totals at the start of the hour, as a one-row totals. The totals are one 2-D array so that a reader takes one row
-- of them with one detoast. Stored uncompressed (EXTERNAL) when too long to stay in line: read at each edge and
-- rewritten at each scan.
CREATE TABLE org_hour (
  hour                   TIMESTAMPTZ        PRIMARY KEY,
  observed_at            TIMESTAMPTZ(3)[]   NOT NULL,
  totals                 INTEGER[]          NOT NULL,
  resolve_seconds        DOUBLE PRECISION[] NOT NULL,
  before                 INTEGER[]          NOT NULL,
  before_resolve_seconds DOUBLE PRECISION   NOT NULL,
  CONSTRAINT org_hour_one_row_per_scan CHECK (cardinality(observed_at) > 0 AND array_ndims(totals) = 2
    AND array_length(totals, 1) = cardinality(observed_at) AND array_length(totals, 2) = 8
    AND cardinality(resolve_seconds) = cardinality(observed_at) AND array_ndims(before) = 2 AND cardinality(before) = 8)
);
ALTER TABLE org_hour ALTER COLUMN observed_at SET STORAGE EXTERNAL, ALTER COLUMN totals SET STORAGE EXTERNAL,
  ALTER COLUMN resolve_seconds SET STORAGE EXTERNAL;

-- The scans of an hour and after, for the recompute below.
CREATE INDEX scan_summary_by_observed_at ON scan (observed_at) WHERE status IN ('COMPLETED', 'PARTIAL');

-- Recomputes every row from p_from (an hour's start) on, from the scan table: the totals carry forward from the last row
-- before it, each scan adds its counts minus its account's previous scan's (the first scan of an account adds its
-- counts and one known account). A scan stored in order changes only its own hour (and the next, when it read
-- IAM just before the hour turned and was stored after). One statement, no semicolon: the migration runner splits scripts
-- on every semicolon, dollar quotes included.
CREATE FUNCTION org_hour_refresh(p_from TIMESTAMPTZ) RETURNS INTEGER LANGUAGE sql VOLATILE AS $$
  WITH lo AS (SELECT p_from AS at),
  prior AS (
    SELECT COALESCE(max(t[1]), 0)::bigint AS scans, COALESCE(max(t[2]), 0) AS known, COALESCE(max(t[3]), 0) AS pass, COALESCE(max(t[4]), 0) AS fail,
      COALESCE(max(t[5]), 0) AS not_applicable, COALESCE(max(t[6]), 0) AS error, COALESCE(max(t[7]), 0) AS opened,
      COALESCE(max(t[8]), 0) AS resolved, COALESCE(max(rs), 0) AS resolve_seconds
    FROM (
      SELECT array(SELECT unnest(d.totals[array_length(d.totals, 1):array_length(d.totals, 1)])) AS t, d.resolve_seconds[cardinality(d.resolve_seconds)] AS rs
      FROM org_hour d WHERE d.hour < p_from ORDER BY d.hour DESC LIMIT 1) p),
  s AS (
    SELECT s.id, s.account_id, s.observed_at, s.pass_count, s.fail_count, s.not_applicable_count, s.error_count,
      s.opened_count, s.resolved_count, s.resolve_seconds_total,
      lag(ARRAY[s.pass_count, s.fail_count, s.not_applicable_count, s.error_count]) OVER (PARTITION BY s.account_id ORDER BY s.observed_at, s.id) AS prev
    FROM scan s, lo
    WHERE s.status IN ('COMPLETED', 'PARTIAL') AND s.observed_at >= lo.at AND s.account_id IS NOT NULL),
  earlier AS (
    SELECT a.account_id, e.state FROM (SELECT DISTINCT account_id FROM s) a
    CROSS JOIN lo
    LEFT JOIN LATERAL (
      SELECT ARRAY[q.pass_count, q.fail_count, q.not_applicable_count, q.error_count] AS state FROM scan q
      WHERE q.account_id = a.account_id AND q.status IN ('COMPLETED', 'PARTIAL') AND q.observed_at < lo.at
      ORDER BY q.observed_at DESC, q.id DESC LIMIT 1) e ON true),
  deltas AS (
    SELECT s.id, s.observed_at, date_bin('1 hour', s.observed_at, TIMESTAMPTZ 'epoch') AS hour,
      s.pass_count - COALESCE(s.prev[1], e.state[1], 0) AS pass, s.fail_count - COALESCE(s.prev[2], e.state[2], 0) AS fail,
      s.not_applicable_count - COALESCE(s.prev[3], e.state[3], 0) AS not_applicable, s.error_count - COALESCE(s.prev[4], e.state[4], 0) AS error,
      (s.prev IS NULL AND e.state IS NULL)::int AS known, s.opened_count AS opened, s.resolved_count AS resolved, s.resolve_seconds_total AS resolve_seconds
    FROM s JOIN earlier e ON e.account_id = s.account_id),
  running AS (
    SELECT d.hour, d.observed_at, d.id, d.pass, d.fail, d.not_applicable, d.error, d.known, d.opened, d.resolved, d.resolve_seconds,
      p.scans + count(*) OVER w AS c_scans, p.known + sum(d.known) OVER w AS c_known, p.pass + sum(d.pass) OVER w AS c_pass,
      p.fail + sum(d.fail) OVER w AS c_fail, p.not_applicable + sum(d.not_applicable) OVER w AS c_not_applicable,
      p.error + sum(d.error) OVER w AS c_error, p.opened + sum(d.opened) OVER w AS c_opened, p.resolved + sum(d.resolved) OVER w AS c_resolved,
      p.resolve_seconds + sum(d.resolve_seconds) OVER w AS c_resolve_seconds
    FROM deltas d CROSS JOIN prior p
    WINDOW w AS (ORDER BY d.observed_at, d.id ROWS UNBOUNDED PRECEDING)),
  fresh AS (
    SELECT hour, array_agg(observed_at ORDER BY observed_at, id) AS observed_at,
      array_agg(ARRAY[c_scans, c_known, c_pass, c_fail, c_not_applicable, c_error, c_opened, c_resolved] ORDER BY observed_at, id) AS totals,
      array_agg(c_resolve_seconds ORDER BY observed_at, id) AS resolve_seconds,
      -- The totals before the hour's first scan: its running totals minus what it added.
      (array_agg(ARRAY[c_scans - 1, c_known - known, c_pass - pass, c_fail - fail, c_not_applicable - not_applicable, c_error - error,
        c_opened - opened, c_resolved - resolved] ORDER BY observed_at, id))[1:1] AS before,
      (array_agg(c_resolve_seconds - resolve_seconds ORDER BY observed_at, id))[1] AS before_resolve_seconds
    FROM running GROUP BY hour),
  upserted AS (
    INSERT INTO org_hour (hour, observed_at, totals, resolve_seconds, before, before_resolve_seconds)
    SELECT hour, observed_at, totals::int[], resolve_seconds, before, before_resolve_seconds FROM fresh
    ON CONFLICT (hour) DO UPDATE SET observed_at = EXCLUDED.observed_at, totals = EXCLUDED.totals, resolve_seconds = EXCLUDED.resolve_seconds,
      before = EXCLUDED.before, before_resolve_seconds = EXCLUDED.before_resolve_seconds
    RETURNING 1),
  emptied AS (
    DELETE FROM org_hour d WHERE d.hour >= p_from AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.hour = d.hour)
    RETURNING 1)
  SELECT ((SELECT count(*) FROM upserted) + (SELECT count(*) FROM emptied))::int
$$;

-- The triggers keep the rollup right for every writer of scan (the scan store, a bulk load, a manual fix), in the
-- writer's own transaction: any statement that writes, changes or deletes a COMPLETED or PARTIAL row recomputes the
-- rollup from that row's hour on. They take one advisory lock first (the two-key form, a space apart from the scan
-- store's per-account locks), so two transactions cannot each recompute an hour without the other's scans, and the
-- recompute runs as a later statement, whose snapshot sees what the lock waited for. A PL/pgSQL body cannot be
-- dollar-quoted here (see above): these are escape strings, with \073 for the semicolon.
CREATE FUNCTION org_hour_after_write() RETURNS trigger LANGUAGE plpgsql AS E'
DECLARE
  first_hour TIMESTAMPTZ\073
BEGIN
  IF TG_OP = ''INSERT'' THEN
    SELECT min(date_bin(''1 hour'', n.observed_at, TIMESTAMPTZ ''epoch'')) INTO first_hour FROM new_rows n
    WHERE n.status IN (''COMPLETED'', ''PARTIAL'') AND n.account_id IS NOT NULL AND n.observed_at IS NOT NULL\073
  ELSIF TG_OP = ''DELETE'' THEN
    SELECT min(date_bin(''1 hour'', o.observed_at, TIMESTAMPTZ ''epoch'')) INTO first_hour FROM old_rows o
    WHERE o.status IN (''COMPLETED'', ''PARTIAL'') AND o.account_id IS NOT NULL AND o.observed_at IS NOT NULL\073
  ELSE
    SELECT min(date_bin(''1 hour'', x.observed_at, TIMESTAMPTZ ''epoch'')) INTO first_hour
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.account_id, o.observed_at, o.status), (n.account_id, n.observed_at, n.status)) x(account_id, observed_at, status)
    WHERE x.status IN (''COMPLETED'', ''PARTIAL'') AND x.account_id IS NOT NULL AND x.observed_at IS NOT NULL
      AND (o.status, o.account_id, o.observed_at, o.pass_count, o.fail_count, o.not_applicable_count, o.error_count, o.opened_count,
           o.resolved_count, o.resolve_seconds_total)
        IS DISTINCT FROM (n.status, n.account_id, n.observed_at, n.pass_count, n.fail_count, n.not_applicable_count, n.error_count,
           n.opened_count, n.resolved_count, n.resolve_seconds_total)\073
  END IF\073
  IF first_hour IS NULL THEN
    RETURN NULL\073
  END IF\073
  PERFORM pg_advisory_xact_lock(hashtext(''keywarden.org_hour''), 0)\073
  PERFORM org_hour_refresh(first_hour)\073
  RETURN NULL\073
END';

CREATE TRIGGER org_hour_after_insert AFTER INSERT ON scan REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION org_hour_after_write();
CREATE TRIGGER org_hour_after_update AFTER UPDATE ON scan REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION org_hour_after_write();
CREATE TRIGGER org_hour_after_delete AFTER DELETE ON scan REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION org_hour_after_write();

-- TRUNCATE fires no row triggers: the rollup of an emptied scan table is empty.
CREATE FUNCTION org_hour_after_truncate() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  TRUNCATE org_hour\073
  RETURN NULL\073
END';
CREATE TRIGGER org_hour_after_truncate AFTER TRUNCATE ON scan FOR EACH STATEMENT EXECUTE FUNCTION org_hour_after_truncate();

-- Backfill: every stored scan.
SELECT org_hour_refresh(min(date_bin('1 hour', observed_at, TIMESTAMPTZ 'epoch'))) FROM scan
WHERE status IN ('COMPLETED', 'PARTIAL') AND account_id IS NOT NULL AND observed_at IS NOT NULL;
