-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ScanStatus" AS ENUM ('RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED');

-- CreateEnum
CREATE TYPE "ScanSource" AS ENUM ('CREDENTIAL_REPORT', 'PER_USER_API');

-- CreateEnum
CREATE TYPE "ComplianceStatus" AS ENUM ('PASS', 'FAIL', 'NOT_APPLICABLE', 'ERROR', 'EXCEPTED');

-- CreateEnum
CREATE TYPE "FindingState" AS ENUM ('OPEN', 'RESOLVED');

-- CreateEnum
CREATE TYPE "Resolution" AS ENUM ('PASSED', 'KEY_DELETED', 'USER_DELETED', 'NO_LONGER_APPLICABLE', 'REMEDIATED', 'EXCEPTED');

-- CreateEnum
CREATE TYPE "RemediationKind" AS ENUM ('DEACTIVATE', 'REACTIVATE', 'DELETE');

-- CreateEnum
CREATE TYPE "RemediationStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'NO_CHANGE', 'DRY_RUN', 'REFUSED', 'FAILED');

-- CreateTable
CREATE TABLE "scan" (
    "id" UUID NOT NULL,
    "account_id" TEXT,
    "status" "ScanStatus" NOT NULL,
    "source" "ScanSource" NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),
    "observed_at" TIMESTAMPTZ(3),
    "report_generated_at" TIMESTAMPTZ(3),
    "pass_count" INTEGER NOT NULL DEFAULT 0,
    "fail_count" INTEGER NOT NULL DEFAULT 0,
    "not_applicable_count" INTEGER NOT NULL DEFAULT 0,
    "error_count" INTEGER NOT NULL DEFAULT 0,
    "excepted_count" INTEGER NOT NULL DEFAULT 0,
    "opened_count" INTEGER NOT NULL DEFAULT 0,
    "resolved_count" INTEGER NOT NULL DEFAULT 0,
    "resolve_seconds_total" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "versions_written" INTEGER NOT NULL DEFAULT 0,
    "errors" JSONB NOT NULL DEFAULT '[]',
    "iam_calls" JSONB NOT NULL DEFAULT '{}',
    "settings" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "scan_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "iam_user_version" (
    "id" UUID NOT NULL,
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
    "content_hash" TEXT NOT NULL,
    "valid_from" TIMESTAMPTZ(3) NOT NULL,
    "valid_to" TIMESTAMPTZ(3),
    "first_scan_id" UUID NOT NULL,

    CONSTRAINT "iam_user_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "access_key_version" (
    "id" UUID NOT NULL,
    "account_id" TEXT NOT NULL,
    "user_name" TEXT NOT NULL,
    "access_key_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "last_used_at" TIMESTAMPTZ(3),
    "last_used_service" TEXT,
    "last_used_region" TEXT,
    "content_hash" TEXT NOT NULL,
    "valid_from" TIMESTAMPTZ(3) NOT NULL,
    "valid_to" TIMESTAMPTZ(3),
    "first_scan_id" UUID NOT NULL,

    CONSTRAINT "access_key_version_pkey" PRIMARY KEY ("id")
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
    "state" "FindingState" NOT NULL,
    "present" BOOLEAN NOT NULL DEFAULT true,
    "opened_at" TIMESTAMPTZ(3),
    "resolved_at" TIMESTAMPTZ(3),
    "resolution" "Resolution",
    "reopen_count" INTEGER NOT NULL DEFAULT 0,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_scan_id" UUID NOT NULL,

    CONSTRAINT "finding_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "finding_version" (
    "id" UUID NOT NULL,
    "finding_id" UUID NOT NULL,
    "account_id" TEXT NOT NULL,
    "status" "ComplianceStatus" NOT NULL,
    "reasons" TEXT[],
    "evidence" JSONB NOT NULL,
    "state" "FindingState" NOT NULL,
    "resolved_at" TIMESTAMPTZ(3),
    "resolution" "Resolution",
    "reopen_count" INTEGER NOT NULL DEFAULT 0,
    "content_hash" TEXT NOT NULL,
    "valid_from" TIMESTAMPTZ(3) NOT NULL,
    "valid_to" TIMESTAMPTZ(3),
    "first_scan_id" UUID NOT NULL,

    CONSTRAINT "finding_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "history_horizon" (
    "account_id" TEXT NOT NULL,
    "pruned_before" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "history_horizon_pkey" PRIMARY KEY ("account_id")
);

-- CreateTable
CREATE TABLE "remediation_action" (
    "id" UUID NOT NULL,
    "kind" "RemediationKind" NOT NULL,
    "status" "RemediationStatus" NOT NULL,
    "actor" TEXT NOT NULL,
    "account_id" TEXT,
    "user_name" TEXT,
    "access_key_id" TEXT,
    "reason" TEXT NOT NULL,
    "dry_run" BOOLEAN NOT NULL,
    "force" BOOLEAN NOT NULL DEFAULT false,
    "idempotency_key" TEXT,
    "input" JSONB NOT NULL,
    "state_before" JSONB,
    "state_after" JSONB,
    "plan" TEXT,
    "iam_request_id" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "finding_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "remediation_action_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_record" (
    "key" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "response" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "idempotency_record_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "access_exception" (
    "id" UUID NOT NULL,
    "account_id" TEXT NOT NULL,
    "user_name" TEXT NOT NULL,
    "access_key_id" TEXT,
    "justification" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_by" TEXT,

    CONSTRAINT "access_exception_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_token" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_token_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "scan_account_id_observed_at_idx" ON "scan"("account_id", "observed_at" DESC);

-- CreateIndex
CREATE INDEX "scan_started_at_idx" ON "scan"("started_at" DESC);

-- CreateIndex
CREATE INDEX "iam_user_version_account_id_user_name_valid_from_idx" ON "iam_user_version"("account_id", "user_name", "valid_from");

-- CreateIndex
CREATE INDEX "iam_user_version_account_id_valid_from_valid_to_idx" ON "iam_user_version"("account_id", "valid_from", "valid_to");

-- CreateIndex
CREATE INDEX "access_key_version_account_id_user_name_valid_from_idx" ON "access_key_version"("account_id", "user_name", "valid_from");

-- CreateIndex
CREATE UNIQUE INDEX "finding_identity_key" ON "finding"("identity");

-- CreateIndex
CREATE INDEX "finding_account_id_user_name_idx" ON "finding"("account_id", "user_name");

-- CreateIndex
CREATE INDEX "finding_version_finding_id_valid_from_idx" ON "finding_version"("finding_id", "valid_from");

-- CreateIndex
CREATE INDEX "finding_version_account_id_valid_from_valid_to_idx" ON "finding_version"("account_id", "valid_from", "valid_to");

-- CreateIndex
CREATE INDEX "remediation_action_account_id_created_at_idx" ON "remediation_action"("account_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "remediation_action_access_key_id_created_at_idx" ON "remediation_action"("access_key_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "remediation_action_status_created_at_idx" ON "remediation_action"("status", "created_at");

-- CreateIndex
CREATE INDEX "access_exception_account_id_user_name_idx" ON "access_exception"("account_id", "user_name");

-- CreateIndex
CREATE UNIQUE INDEX "api_token_prefix_key" ON "api_token"("prefix");

-- AddForeignKey
ALTER TABLE "finding_version" ADD CONSTRAINT "finding_version_finding_id_fkey" FOREIGN KEY ("finding_id") REFERENCES "finding"("id") ON DELETE CASCADE ON UPDATE CASCADE;

