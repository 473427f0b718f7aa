-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ScanStatus" AS ENUM ('RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED');

-- CreateEnum
CREATE TYPE "ScanSource" AS ENUM ('CREDENTIAL_REPORT', 'PER_USER_API');

-- CreateEnum
CREATE TYPE "ComplianceStatus" AS ENUM ('PASS', 'FAIL', 'NOT_APPLICABLE', 'ERROR');

-- CreateTable
CREATE TABLE "scan" (
    "id" UUID NOT NULL,
    "account_id" TEXT,
    "status" "ScanStatus" NOT NULL,
    "source" "ScanSource" NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),
    "report_generated_at" TIMESTAMPTZ(3),
    "pass_count" INTEGER NOT NULL DEFAULT 0,
    "fail_count" INTEGER NOT NULL DEFAULT 0,
    "not_applicable_count" INTEGER NOT NULL DEFAULT 0,
    "error_count" INTEGER NOT NULL DEFAULT 0,
    "errors" JSONB NOT NULL DEFAULT '[]',
    "iam_calls" JSONB NOT NULL DEFAULT '{}',
    "settings" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "scan_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "iam_user_snapshot" (
    "id" UUID NOT NULL,
    "scan_id" UUID NOT NULL,
    "account_id" TEXT NOT NULL,
    "user_name" TEXT NOT NULL,
    "user_id" TEXT,
    "arn" TEXT NOT NULL,
    "path" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "has_console_password" BOOLEAN,
    "password_last_used_at" TIMESTAMPTZ(3),
    "mfa_active" BOOLEAN,
    "tags" JSONB,
    "read_error" TEXT,

    CONSTRAINT "iam_user_snapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "access_key_snapshot" (
    "id" UUID NOT NULL,
    "user_snapshot_id" UUID NOT NULL,
    "access_key_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "last_used_at" TIMESTAMPTZ(3),
    "last_used_service" TEXT,
    "last_used_region" TEXT,

    CONSTRAINT "access_key_snapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "finding" (
    "id" UUID NOT NULL,
    "identity" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "control_id" TEXT NOT NULL,
    "user_name" TEXT NOT NULL,
    "user_arn" TEXT NOT NULL,
    "access_key_id" TEXT,
    "status" "ComplianceStatus" NOT NULL,
    "reasons" TEXT[],
    "evidence" JSONB NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_scan_id" UUID NOT NULL,

    CONSTRAINT "finding_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "finding_result" (
    "id" UUID NOT NULL,
    "scan_id" UUID NOT NULL,
    "finding_id" UUID NOT NULL,
    "status" "ComplianceStatus" NOT NULL,
    "reasons" TEXT[],
    "evidence" JSONB NOT NULL,

    CONSTRAINT "finding_result_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "scan_account_id_started_at_idx" ON "scan"("account_id", "started_at" DESC);

-- CreateIndex
CREATE INDEX "scan_started_at_idx" ON "scan"("started_at" DESC);

-- CreateIndex
CREATE INDEX "iam_user_snapshot_account_id_user_name_idx" ON "iam_user_snapshot"("account_id", "user_name");

-- CreateIndex
CREATE UNIQUE INDEX "iam_user_snapshot_scan_id_user_name_key" ON "iam_user_snapshot"("scan_id", "user_name");

-- CreateIndex
CREATE INDEX "access_key_snapshot_access_key_id_idx" ON "access_key_snapshot"("access_key_id");

-- CreateIndex
CREATE UNIQUE INDEX "access_key_snapshot_user_snapshot_id_access_key_id_key" ON "access_key_snapshot"("user_snapshot_id", "access_key_id");

-- CreateIndex
CREATE UNIQUE INDEX "finding_identity_key" ON "finding"("identity");

-- CreateIndex
CREATE INDEX "finding_account_id_status_idx" ON "finding"("account_id", "status");

-- CreateIndex
CREATE INDEX "finding_account_id_user_name_idx" ON "finding"("account_id", "user_name");

-- CreateIndex
CREATE INDEX "finding_result_finding_id_idx" ON "finding_result"("finding_id");

-- CreateIndex
CREATE UNIQUE INDEX "finding_result_scan_id_finding_id_key" ON "finding_result"("scan_id", "finding_id");

-- AddForeignKey
ALTER TABLE "iam_user_snapshot" ADD CONSTRAINT "iam_user_snapshot_scan_id_fkey" FOREIGN KEY ("scan_id") REFERENCES "scan"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "access_key_snapshot" ADD CONSTRAINT "access_key_snapshot_user_snapshot_id_fkey" FOREIGN KEY ("user_snapshot_id") REFERENCES "iam_user_snapshot"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "finding" ADD CONSTRAINT "finding_last_scan_id_fkey" FOREIGN KEY ("last_scan_id") REFERENCES "scan"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "finding_result" ADD CONSTRAINT "finding_result_scan_id_fkey" FOREIGN KEY ("scan_id") REFERENCES "scan"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "finding_result" ADD CONSTRAINT "finding_result_finding_id_fkey" FOREIGN KEY ("finding_id") REFERENCES "finding"("id") ON DELETE CASCADE ON UPDATE CASCADE;

