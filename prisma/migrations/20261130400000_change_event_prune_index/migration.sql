-- Retention deletes an account's change events before a cutoff after every stored scan: without this index that
-- delete read every event of the account (200,000 events over 200 accounts: 1.0 s per prune with nothing to delete).
CREATE INDEX change_event_by_account_time ON change_event (account_id, occurred_at);
