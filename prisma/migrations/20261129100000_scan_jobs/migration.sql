-- Scans become queued jobs (issue #9): a scan is QUEUED when asked for, RUNNING on a worker, and can be
-- CANCELLED before it runs. queued_at orders the history (started_at is null while queued), and existing scans
-- were queued when they started. run_id groups the scans of one request, and job_id names the queue's job.

ALTER TYPE "ScanStatus" ADD VALUE 'QUEUED' BEFORE 'RUNNING';
ALTER TYPE "ScanStatus" ADD VALUE 'CANCELLED';

ALTER TABLE "scan" ADD COLUMN     "job_id" UUID,
ADD COLUMN     "progress" JSONB,
ADD COLUMN     "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "requested_by" TEXT,
ADD COLUMN     "run_id" UUID,
ALTER COLUMN "started_at" DROP NOT NULL;

UPDATE "scan" SET "queued_at" = "started_at" WHERE "started_at" IS NOT NULL;

CREATE INDEX "scan_queued_at_idx" ON "scan"("queued_at" DESC);
CREATE INDEX "scan_job_id_idx" ON "scan"("job_id");
CREATE INDEX "scan_run_id_idx" ON "scan"("run_id");
