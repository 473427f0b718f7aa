-- Accounts Keywarden may read (issue #9): listed by `keywarden accounts sync`, added with `keywarden accounts add`,
-- or the account of the base credentials themselves. Authored with prisma migrate diff, then the CHECKs below, which Prisma schemas cannot express.

-- CreateEnum
CREATE TYPE "AccountStatus" AS ENUM ('ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE', 'CLOSED', 'PENDING_ACTIVATION');

-- CreateEnum
CREATE TYPE "AccountSource" AS ENUM ('ORGANIZATION', 'CONFIGURED', 'CREDENTIALS');

-- CreateTable
CREATE TABLE "account" (
    "account_id" TEXT NOT NULL,
    "name" TEXT,
    "email" TEXT,
    "organizational_unit_path" TEXT,
    "status" "AccountStatus" NOT NULL DEFAULT 'ACTIVE',
    "source" "AccountSource" NOT NULL,
    "role_arn" TEXT,
    "external_id" TEXT,
    "in_organization" BOOLEAN NOT NULL DEFAULT false,
    "synced_at" TIMESTAMPTZ(3),
    "left_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "account_pkey" PRIMARY KEY ("account_id")
);

-- What the API and the CLI refuse is refused by the database too: an account id is 12 digits, and a role ARN is a
-- role of that very account (assuming a role elsewhere would read another account under the id of this one).
-- PostgreSQL regexes repeat at most 255 times: the length of the name is bounded by IAM's 2048 for a whole ARN.
ALTER TABLE "account" ADD CONSTRAINT "account_id_is_12_digits" CHECK ("account_id" ~ '^[0-9]{12}$');
ALTER TABLE "account" ADD CONSTRAINT "account_role_arn_in_account"
  CHECK ("role_arn" IS NULL OR ("role_arn" ~ ('^arn:aws[-a-z]*:iam::' || "account_id" || ':role/[A-Za-z0-9_+=,.@/-]+$') AND char_length("role_arn") <= 2048));
-- A configured account is read only through the role it was added with.
ALTER TABLE "account" ADD CONSTRAINT "account_configured_has_role" CHECK ("source" <> 'CONFIGURED' OR "role_arn" IS NOT NULL);
