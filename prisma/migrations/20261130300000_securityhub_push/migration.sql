-- AWS Security Hub push (README, "Security Hub"): per account, where in the change log the last successful push
-- ended. A push reads change_event after this cursor with readChanges, imports the latest state of each finding
-- that changed, and moves the cursor to the page's end only once BatchImportFindings accepted the findings or
-- their failures are recorded in securityhub_pending below. A push that fails leaves the cursor where it was.
CREATE TABLE securityhub_push (
  account_id       TEXT           PRIMARY KEY,
  -- readChanges' endCursor (opaque, (txid, seq)). Null: nothing pushed yet, start from the oldest event kept.
  cursor           TEXT,
  pushed_at        TIMESTAMPTZ(3),
  attempted_at     TIMESTAMPTZ(3),
  -- The last push's failure (a message of the SDK, never a credential), null once a push succeeds.
  last_error       TEXT,
  imported_total   BIGINT         NOT NULL DEFAULT 0
);

-- Findings Security Hub refused (FailedFindings) after the bounded retries of one push: the cursor moved past their
-- events, so they are kept here and sent again by every later push until accepted.
CREATE TABLE securityhub_pending (
  finding_id       UUID           PRIMARY KEY,
  account_id       TEXT           NOT NULL,
  error_code       TEXT,
  error_message    TEXT,
  attempts         INTEGER        NOT NULL DEFAULT 1,
  first_failed_at  TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  last_failed_at   TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

CREATE INDEX securityhub_pending_by_account ON securityhub_pending (account_id);
