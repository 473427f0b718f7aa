import type { PrismaClient } from '../src/generated/prisma/client';

/**
 * Adds `count` findings to an account by copying its scanned findings round-robin (their status, lifecycle and
 * evidence), each under a new user id, user name and key id, so identities stay unique and realistic. Written in
 * one INSERT … SELECT: the fastest honest way to a store of 100,000 findings the export reads as it reads any.
 * The copies have no history versions, so they answer current reads only (not asOf).
 */
export async function cloneFindings(prisma: PrismaClient, accountId: string, count: number): Promise<number> {
  // Numbered on from the copies already made; only scanned findings are copied.
  const [{ n }] = await prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM finding WHERE account_id = $1 AND user_id LIKE 'AIDACLONE%'`, accountId);
  return prisma.$executeRawUnsafe(
    `INSERT INTO finding (id, identity, account_id, control_id, user_id, user_name, user_arn, access_key_id, status, reasons, evidence,
       state, present, opened_at, resolved_at, resolution, reopen_count, first_seen_at, last_seen_at, last_scan_id)
     SELECT gen_random_uuid(),
       f.account_id || '/' || f.control_id || '/AIDACLONE' || lpad(g::text, 12, '0') || '/' || CASE WHEN f.access_key_id IS NULL THEN '-' ELSE 'AKIACLONE' || lpad(g::text, 11, '0') END,
       f.account_id, f.control_id, 'AIDACLONE' || lpad(g::text, 12, '0'), 'clone-' || g, 'arn:aws:iam::' || f.account_id || ':user/clone-' || g,
       CASE WHEN f.access_key_id IS NULL THEN NULL ELSE 'AKIACLONE' || lpad(g::text, 11, '0') END,
       f.status, f.reasons, f.evidence, f.state, f.present, f.opened_at, f.resolved_at, f.resolution, f.reopen_count, f.first_seen_at, f.last_seen_at, f.last_scan_id
     FROM (SELECT *, row_number() OVER (ORDER BY identity) - 1 AS n, count(*) OVER () AS c FROM finding WHERE account_id = $1 AND present AND (user_id IS NULL OR user_id NOT LIKE 'AIDACLONE%')) f
     JOIN generate_series($3::int + 1, $3::int + $2::int) g ON g % f.c = f.n`,
    accountId,
    count,
    n,
  );
}
