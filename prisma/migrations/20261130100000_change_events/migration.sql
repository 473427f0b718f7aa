-- The change log: every finding transition (opened, resolved, reopened, excepted, unexcepted) and every scan and
-- remediation outcome, appended in the same transaction as the scan or action that caused it. It is the outbox
-- for webhooks and Security Hub and the source of findingChanges: a rolled-back scan leaves no event, a committed
-- one is never lost.
--
-- Readers page by (txid, seq), never by seq alone: a sequence value is taken when a row is inserted, not when its
-- transaction commits, so a reader paging by seq could pass an event of a transaction still open and never see
-- it. A reader sees only rows whose txid is below pg_snapshot_xmin(pg_current_snapshot()): every transaction
-- with a smaller id has ended, so no row can appear behind its cursor.
CREATE TABLE change_event (
  seq                   BIGSERIAL    PRIMARY KEY,
  txid                  xid8         NOT NULL DEFAULT pg_current_xact_id(),
  occurred_at           TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  account_id            TEXT         NOT NULL,
  -- finding.opened | finding.resolved | finding.reopened | finding.excepted | finding.unexcepted
  -- scan.completed | scan.failed | remediation.completed
  type                  TEXT         NOT NULL,
  finding_id            UUID,
  scan_id               UUID,
  remediation_action_id UUID,
  -- What a consumer needs without another read: the finding's state, status, resolution and reasons after the
  -- transition, or the scan's or action's outcome.
  payload               JSONB        NOT NULL DEFAULT '{}'
);

CREATE INDEX change_event_by_txid ON change_event (txid, seq);
CREATE INDEX change_event_by_account ON change_event (account_id, txid, seq);
CREATE INDEX change_event_by_finding ON change_event (finding_id, seq) WHERE finding_id IS NOT NULL;
CREATE INDEX change_event_by_scan ON change_event (scan_id, type) WHERE scan_id IS NOT NULL;
