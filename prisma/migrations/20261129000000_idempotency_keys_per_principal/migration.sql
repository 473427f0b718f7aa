-- Idempotency keys belong to the principal that sent them (issue #13): another caller sending the same key
-- gets a record of its own, neither the first caller's answer nor a refusal, and cannot reserve keys for others.
-- `principal` is the actor as the audit trail names it. Prisma's diff adds the column NOT NULL with no value;
-- existing rows take the actor of an audit row their answer names (a bulk answer names one per finding), or ''
-- when it names none, which no caller is: such a key is free again, and a replay acts anew (live checks first).
ALTER TABLE "idempotency_record" ADD COLUMN "principal" TEXT NOT NULL DEFAULT '';

UPDATE "idempotency_record" r SET "principal" = a."actor"
  FROM "remediation_action" a
  WHERE a."id" = COALESCE(
    r."response"->'actionIds'->>0,
    (SELECT x->>'actionId' FROM jsonb_array_elements(COALESCE(r."response"->'result'->'results', '[]'::jsonb)) x
      WHERE x->>'actionId' IS NOT NULL LIMIT 1)
  )::uuid;

ALTER TABLE "idempotency_record" ALTER COLUMN "principal" DROP DEFAULT,
  DROP CONSTRAINT "idempotency_record_pkey",
  ADD CONSTRAINT "idempotency_record_pkey" PRIMARY KEY ("principal", "key");
