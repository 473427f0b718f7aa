import { createHash } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client';
import type { AccountInventory, InventoryAccessKey, InventorySource, InventoryUser, LiveReads, ScanError } from '../../domain/inventory';
import { findingIdentity, subjectIdentity, type ComplianceStatus, type EvaluatedFinding, type FindingEvidence, type StatusCounts } from '../../domain/finding';
import type { AccessExceptionRule } from '../../domain/exceptions';
import { ROOT_USER_NAME } from '../../controls/no-access-keys-at-setup/control';
import { disappear, observe, type FindingEvent, type FindingState, type Lifecycle, type Resolution, type Transition } from '../../domain/lifecycle';
import { appendChanges, appendFindingChanges } from './change-log';

export type ScanOutcome = 'COMPLETED' | 'PARTIAL';

export interface CompletedScan {
  scanId: string;
  inventory: AccountInventory;
  findings: EvaluatedFinding[];
  status: ScanOutcome;
  iamCalls: unknown;
  finishedAt: Date;
  /**
   * A targeted scan reads only these users (after a remediation): everyone else is carried over,
   * and nobody outside it is taken for deleted.
   */
  scope?: ReadonlySet<string>;
  /** Why findings this scan resolves are resolved: PASSED after a scan, REMEDIATED after a remediation. */
  resolution?: Resolution;
}

export interface IngestResult {
  /** The account's state after this scan: findings read now plus those of users it could not read. */
  counts: StatusCounts;
  opened: number;
  resolved: number;
  versionsWritten: number;
}

/** Another scan of the account, which read IAM later, was stored first: this one's older state cannot be. */
export class ScanSupersededError extends Error {
  override name = 'ScanSupersededError';
}

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

// One JSON parameter per batch through jsonb_to_recordset: far less time and memory than createMany.
const BATCH = 1000;

interface CurrentUser {
  id: string;
  user_id: string | null;
  user_name: string;
  has_console_password: boolean | null;
  password_last_used_at: Date | null;
  tags: Record<string, string> | null;
  mfa_active: boolean | null;
  read_error: string | null;
  hash: string;
}

interface CurrentKey {
  id: string;
  user_name: string;
  access_key_id: string;
  status: string;
  created_at: Date;
  last_used_at: Date | null;
  last_used_service: string | null;
  last_used_region: string | null;
  hash: string;
}

interface CurrentFinding {
  id: string;
  identity: string;
  control_id: string;
  user_id: string | null;
  user_name: string;
  user_arn: string;
  access_key_id: string | null;
  last_scan_id: string;
  status: ComplianceStatus;
  state: FindingState;
  opened_at: Date | null;
  resolved_at: Date | null;
  resolution: Resolution | null;
  reopen_count: number;
  present: boolean;
  version_id: string | null;
  hash: string | null;
}

/**
 * Persists scans as history that grows with change: users, keys and findings are stored as versions
 * valid over [validFrom, validTo), where the bounds are the instants scans read IAM. A rescan of an
 * unchanged account writes no version, only the scan's summary and each finding's lastSeenAt.
 * A scan and everything it changed are written in one transaction, one account at a time.
 */
export class ScanStore {
  constructor(private readonly prisma: PrismaClient) {}

  async startScan(source: InventorySource, startedAt: Date, settings: object): Promise<string> {
    try {
      const scan = await this.prisma.scan.create({ data: { status: 'RUNNING', source, startedAt, settings } });
      return scan.id;
    } catch (err) {
      throw new DatabaseUnavailableError(`cannot record the scan in the database: ${firstLine(err)}`);
    }
  }

  /** QUEUED → RUNNING for the worker that took it; false when it is no longer QUEUED (cancelled). */
  async beginQueuedScan(scanId: string, startedAt: Date, settings: object): Promise<boolean> {
    const { count } = await this.prisma.scan.updateMany({ where: { id: scanId, status: 'QUEUED' }, data: { status: 'RUNNING', startedAt, settings } });
    return count === 1;
  }

  async setProgress(scanId: string, progress: object): Promise<void> {
    await this.prisma.scan.updateMany({ where: { id: scanId, status: 'RUNNING' }, data: { progress } });
  }

  /**
   * RUNNING → FAILED, with its scan.failed event in the same transaction. Only a RUNNING scan: when the database
   * connection dropped as a scan's transaction committed, the scan is stored (COMPLETED) though its writer saw an
   * error, and must stay so; a scan already FAILED keeps its one event.
   */
  async failScan(scanId: string, errors: ScanError[], iamCalls: unknown, accountId: string | null, finishedAt: Date): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.scan.updateMany({
        where: { id: scanId, status: 'RUNNING' },
        data: { status: 'FAILED', finishedAt, errors: errors as object[], iamCalls: iamCalls as object, accountId },
      });
      if (count === 1 && accountId) await appendChanges(tx, [scanFailedChange(scanId, accountId, errors.length, finishedAt)]);
    });
  }

  /** Exceptions of an account, for evaluation (the domain decides which are in force). */
  async exceptionsOf(accountId: string): Promise<AccessExceptionRule[]> {
    return this.prisma.accessException.findMany({
      where: { accountId, revokedAt: null },
      select: { id: true, userName: true, accessKeyId: true, expiresAt: true, revokedAt: true },
    });
  }

  /**
   * Users that stored scans read live (per-user API) at or after `since`: a credential report generated then is
   * older than what they stored. A full per-user scan (chosen, or a report scan's fallback) read every user; a
   * targeted re-scan (settings.scope) read its users. Report scans are not counted: the users they read live
   * follow from the same report (created near or since it), or from a scan counted here. Bounded by the report's
   * age (IAM reuses one for at most 4 hours) through the (account_id, observed_at) index.
   */
  async liveReadsSince(accountId: string, since: Date): Promise<LiveReads> {
    const scans = await this.prisma.scan.findMany({
      where: { accountId, status: { in: ['COMPLETED', 'PARTIAL'] }, source: 'PER_USER_API', observedAt: { gte: since } },
      select: { observedAt: true, settings: true },
      orderBy: { observedAt: 'desc' },
    });
    const userNames = new Set<string>();
    for (const scan of scans) {
      const scope = (scan.settings as { scope?: unknown } | null)?.scope;
      if (!Array.isArray(scope)) return { allUsers: true, allUsersAt: scan.observedAt, userNames };
      for (const name of scope) if (typeof name === 'string') userNames.add(name);
    }
    return { allUsers: false, allUsersAt: null, userNames };
  }

  async completeScan(s: CompletedScan): Promise<IngestResult> {
    const { inventory } = s;
    const at = inventory.collectedAt;
    return this.prisma.$transaction(
      async (tx) => {
        // Two scans of one account never interleave their writes: the second waits here.
        await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', inventory.accountId);
        const [{ latest }] = await tx.$queryRawUnsafe<{ latest: Date | null }[]>(
          `SELECT max(observed_at) AS latest FROM scan WHERE account_id = $1 AND status IN ('COMPLETED', 'PARTIAL')`,
          inventory.accountId,
        );
        if (latest && latest.getTime() >= at.getTime()) {
          throw new ScanSupersededError(
            `a scan of account ${inventory.accountId} that read IAM at ${latest.toISOString()} was stored first; ` +
              `this scan read it at ${at.toISOString()} and is not recorded`,
          );
        }
        const plan = await planChanges(tx as unknown as PrismaClient, s);
        await applyPlan(tx as unknown as PrismaClient, s, plan);
        // The change log, in this transaction: a scan rolled back leaves no event, a committed one never loses one.
        await appendFindingChanges(tx, { accountId: inventory.accountId, scanId: s.scanId, at }, plan.events);
        await appendChanges(tx, [{
          accountId: inventory.accountId, type: 'scan.completed', occurredAt: at, scanId: s.scanId,
          payload: { status: s.status, counts: plan.counts, opened: plan.opened, resolved: plan.resolved, observedAt: at.toISOString(), errors: inventory.errors.length },
        }]);
        // Last: the row's update fires the organization rollup's trigger (migration 20261130000000), which takes one
        // lock for every account until commit. Taken here, it is held for this statement and the commit only, not
        // while this account's versions and events are written.
        await tx.scan.update({
          where: { id: s.scanId },
          data: {
            status: s.status,
            // The report path falls back to the per-user API when the report is unavailable.
            source: inventory.source,
            accountId: inventory.accountId,
            finishedAt: s.finishedAt,
            observedAt: at,
            reportGeneratedAt: inventory.reportGeneratedAt,
            passCount: plan.counts.pass,
            failCount: plan.counts.fail,
            notApplicableCount: plan.counts.notApplicable,
            errorCount: plan.counts.error,
            exceptedCount: plan.counts.excepted,
            openedCount: plan.opened,
            resolvedCount: plan.resolved,
            resolveSecondsTotal: plan.resolveSeconds,
            versionsWritten: plan.versionsWritten,
            carriedIdentities: plan.carried,
            errors: inventory.errors as object[],
            iamCalls: s.iamCalls as object,
          },
        });
        return { counts: plan.counts, opened: plan.opened, resolved: plan.resolved, versionsWritten: plan.versionsWritten };
      },
      // A first scan of a 10,000-user account writes tens of thousands of rows: far beyond Prisma's 5 s default.
      { timeout: 300_000, maxWait: 600_000 },
    );
  }
}

interface Plan {
  closeUsers: string[];
  newUsers: { row: UserColumns; hash: string }[];
  closeKeys: string[];
  newKeys: { userName: string; row: KeyColumns; hash: string }[];
  closeFindingVersions: string[];
  /**
   * Findings inserted or whose row changes (result or lifecycle), each with a new version whose content hash rides
   * along. Those that disappeared (present false) keep their last content, now resolved, in a version of their own:
   * answers as of this scan list them among the resolved ones, as the current read does.
   */
  upsertFindings: (FindingRow & { content_hash: string })[];
  newFindingVersions: number;
  /** Findings seen again unchanged: only lastSeenAt moves. */
  touchFindings: string[];
  /** Findings this scan kept as they were without reading them (a user or key it could not read, root unseen). */
  carried: string[];
  /**
   * Carried findings of a user renamed (or moved to another path) since: the same version under the user's name and
   * ARN now, so the old name, free for another user, does not keep them.
   */
  renamedCarried: { id: string; version_id: string; user_name: string; user_arn: string; last_scan_id: string }[];
  /** Lifecycle transitions, for the change log. */
  events: { identity: string; type: FindingEvent; previousState: FindingState | null }[];
  counts: StatusCounts;
  opened: number;
  resolved: number;
  resolveSeconds: number;
  versionsWritten: number;
}

interface FindingRow {
  identity: string;
  control_id: string;
  user_id: string | null;
  user_name: string;
  user_arn: string;
  access_key_id: string | null;
  status: ComplianceStatus;
  reasons: string[];
  evidence: FindingEvidence | object;
  present: boolean;
  state: Lifecycle['state'];
  opened_at: Date | null;
  resolved_at: Date | null;
  resolution: Resolution | null;
  reopen_count: number;
}

/** Users are followed by IAM's user id; the name is an attribute, so a rename is a new version of the same user. */
const userKey = (userId: string | null, userName: string) => userId ?? `name:${userName}`;

async function planChanges(db: PrismaClient, s: CompletedScan): Promise<Plan> {
  const { inventory } = s;
  const at = inventory.collectedAt;
  const account = inventory.accountId;
  const [users, keys, findings] = await Promise.all([
    db.$queryRawUnsafe<CurrentUser[]>(
      `SELECT id::text, user_id, user_name, has_console_password, password_last_used_at, tags, mfa_active, read_error,
         content_hash AS hash
       FROM iam_user_version WHERE account_id = $1 AND valid_to IS NULL`,
      account,
    ),
    db.$queryRawUnsafe<CurrentKey[]>(
      `SELECT id::text, user_name, access_key_id, status, created_at, last_used_at, last_used_service, last_used_region,
         content_hash AS hash
       FROM access_key_version WHERE account_id = $1 AND valid_to IS NULL`,
      account,
    ),
    db.$queryRawUnsafe<CurrentFinding[]>(
      `SELECT f.id::text, f.identity, f.control_id, f.user_id, f.user_name, f.user_arn, f.access_key_id, f.last_scan_id::text, f.status::text AS status, f.state::text AS state,
         f.opened_at, f.resolved_at, f.resolution::text AS resolution, f.reopen_count, f.present,
         v.id::text AS version_id, v.content_hash AS hash
       FROM finding f LEFT JOIN finding_version v ON v.finding_id = f.id AND v.valid_to IS NULL
       WHERE f.account_id = $1`,
      account,
    ),
  ]);
  const plan: Plan = {
    closeUsers: [], newUsers: [], closeKeys: [], newKeys: [], closeFindingVersions: [], upsertFindings: [],
    newFindingVersions: 0, touchFindings: [], carried: [], renamedCarried: [], events: [], counts: { pass: 0, fail: 0, notApplicable: 0, error: 0, excepted: 0 },
    opened: 0, resolved: 0, resolveSeconds: 0, versionsWritten: 0,
  };

  // Users: a user this scan could not read keeps its last known version (a PARTIAL scan changes only what it read).
  const currentUsers = new Map(users.map((u) => [userKey(u.user_id, u.user_name), u]));
  const seenUsers = new Map(inventory.users.map((u) => [userKey(u.userId, u.userName), u]));
  const unread = new Set(inventory.users.filter((u) => u.readError).map((u) => userKey(u.userId, u.userName)));
  const inScope = (userName: string) => !s.scope || s.scope.has(userName);
  for (const user of inventory.users) {
    const id = userKey(user.userId, user.userName);
    const current = currentUsers.get(id);
    // What this collection mode does not read (tags without --with-tags, MFA through the per-user API) is
    // carried over, so a change of mode is not a change of the user. A user that could not be read keeps its
    // last known state, under the name, path and ARN that ListUsers gives it now (a rename frees its old name).
    const row: UserColumns = current && unread.has(id)
      ? {
          ...userColumns(user),
          has_console_password: current.has_console_password, password_last_used_at: current.password_last_used_at,
          mfa_active: current.mfa_active, tags: canonicalTags(current.tags), read_error: current.read_error,
        }
      : { ...userColumns(user), tags: canonicalTags(user.tags ?? current?.tags ?? null), mfa_active: user.mfaActive ?? current?.mfa_active ?? null };
    const hash = hashOf(row);
    if (current?.hash === hash) continue;
    if (current) plan.closeUsers.push(current.id);
    plan.newUsers.push({ row, hash });
  }
  for (const current of users) if (!seenUsers.has(userKey(current.user_id, current.user_name)) && inScope(current.user_name)) plan.closeUsers.push(current.id);

  // Keys of users whose keys were listed. What was read is stored even when another read of the key failed:
  // a key whose last use could not be read keeps its last known last use, with its live status.
  const currentKeys = new Map(keys.map((k) => [k.access_key_id, k]));
  const listedKeys = new Set<string>();
  for (const user of inventory.users) {
    for (const key of user.accessKeys ?? []) {
      listedKeys.add(key.accessKeyId);
      const current = currentKeys.get(key.accessKeyId);
      // Keys of users without a console password are outside the control, and the credential report cannot
      // name them: they are not kept (only those kept from when the user had a password go on), so both
      // collection modes store the same history.
      if (user.hasConsolePassword === false && !current) continue;
      const row: KeyColumns = key.readError && current
        ? { ...keyColumns(key), last_used_at: current.last_used_at, last_used_service: current.last_used_service, last_used_region: current.last_used_region }
        : keyColumns(key);
      const hash = hashOf([user.userName, row]);
      if (current?.hash === hash) continue;
      if (current) plan.closeKeys.push(current.id);
      plan.newKeys.push({ userName: user.userName, row, hash });
    }
  }
  const ownerOf = new Map(users.map((u) => [u.user_name, userKey(u.user_id, u.user_name)]));
  for (const current of keys) {
    if (listedKeys.has(current.access_key_id) || !inScope(current.user_name)) continue;
    const owner = ownerOf.get(current.user_name);
    const seen = owner === undefined ? undefined : seenUsers.get(owner);
    // Gone when its user is gone, or when the user's keys were listed without it; otherwise (keys not listed) kept,
    // under its user's name now: a key follows its user through a rename.
    if (!seen || seen.accessKeys != null) plan.closeKeys.push(current.id);
    else if (seen.userName !== current.user_name) {
      const row: KeyColumns = {
        access_key_id: current.access_key_id, status: current.status as InventoryAccessKey['status'], created_at: current.created_at,
        last_used_at: current.last_used_at, last_used_service: current.last_used_service, last_used_region: current.last_used_region,
      };
      plan.closeKeys.push(current.id);
      plan.newKeys.push({ userName: seen.userName, row, hash: hashOf([seen.userName, row]) });
    }
  }

  // Findings: observe each evaluated one, then resolve those whose key or user is gone.
  const currentFindings = new Map(findings.map((f) => [f.identity, f]));
  const count = (status: ComplianceStatus) => {
    if (status === 'PASS') plan.counts.pass++;
    else if (status === 'FAIL') plan.counts.fail++;
    else if (status === 'NOT_APPLICABLE') plan.counts.notApplicable++;
    else if (status === 'EXCEPTED') plan.counts.excepted++;
    else plan.counts.error++;
  };
  const tally = (t: Transition) => {
    if (t.opened) plan.opened++;
    if (t.resolved) {
      plan.resolved++;
      plan.resolveSeconds += t.resolveSeconds ?? 0;
    }
  };
  // What this scan could not read: a user's read error keeps all the user's results, a key's that key's result.
  const unreadSubjects = new Set(
    s.findings.filter((f) => f.status === 'ERROR').map((f) => subjectIdentity(account, f.controlId, f.userId ?? f.userName, f.accessKeyId)),
  );
  const evaluated = new Set<string>();
  for (const f of s.findings) {
    const identity = findingIdentity(account, f);
    evaluated.add(identity);
    count(f.status);
    const current = currentFindings.get(identity);
    const transition = observe(current ? lifecycleOf(current) : null, f.status, at, s.resolution);
    tally(transition);
    if (transition.event) plan.events.push({ identity, type: transition.event, previousState: current?.state ?? null });
    const row: FindingRow = {
      identity, control_id: f.controlId, user_id: f.userId, user_name: f.userName, user_arn: f.userArn, access_key_id: f.accessKeyId,
      status: f.status, reasons: f.reasons, evidence: f.evidence, present: true, ...lifecycleRow(transition.lifecycle),
    };
    const hash = findingHash(row);
    if (current && current.present && current.hash === hash) {
      plan.touchFindings.push(current.id);
      continue;
    }
    if (current?.version_id) plan.closeFindingVersions.push(current.version_id);
    plan.upsertFindings.push({ ...row, content_hash: hash });
    plan.newFindingVersions++;
  }
  for (const current of findings) {
    if (!current.present || evaluated.has(current.identity)) continue;
    const isRoot = current.user_name === ROOT_USER_NAME;
    const owner = userKey(current.user_id, current.user_name);
    const subject = current.user_id ?? current.user_name;
    const notRead =
      (isRoot && inventory.root === null) || // only the credential report shows root
      unreadSubjects.has(subjectIdentity(account, current.control_id, subject, null)) ||
      (current.access_key_id !== null && unreadSubjects.has(subjectIdentity(account, current.control_id, subject, current.access_key_id)));
    if (!inScope(current.user_name) || notRead) {
      count(current.status); // carried over: this scan could not read it
      if (notRead) plan.carried.push(current.identity);
      const user = current.user_id === null ? undefined : seenUsers.get(owner);
      if (notRead && user && current.version_id && (user.userName !== current.user_name || user.arn !== current.user_arn)) {
        plan.closeFindingVersions.push(current.version_id);
        plan.renamedCarried.push({ id: current.id, version_id: current.version_id, user_name: user.userName, user_arn: user.arn, last_scan_id: current.last_scan_id });
      }
      continue;
    }
    const user = seenUsers.get(owner);
    const userGone = !user && !isRoot;
    const keyGone = current.access_key_id !== null && (userGone || (user?.accessKeys != null && !listedKeys.has(current.access_key_id)));
    const resolution: Resolution = s.resolution === 'REMEDIATED' && keyGone ? 'REMEDIATED' : userGone ? 'USER_DELETED' : keyGone ? 'KEY_DELETED' : 'NO_LONGER_APPLICABLE';
    const transition = disappear(lifecycleOf(current), resolution, at);
    tally(transition);
    if (transition.event) plan.events.push({ identity: current.identity, type: transition.event, previousState: current.state });
    if (current.version_id) plan.closeFindingVersions.push(current.version_id);
    plan.upsertFindings.push({
      identity: current.identity, control_id: '', user_id: current.user_id, user_name: current.user_name, user_arn: '', access_key_id: current.access_key_id,
      status: current.status, reasons: [], evidence: {}, present: false, ...lifecycleRow(transition.lifecycle), content_hash: GONE_HASH,
    });
    plan.newFindingVersions++;
  }
  plan.versionsWritten = plan.newUsers.length + plan.newKeys.length + plan.newFindingVersions + plan.renamedCarried.length;
  return plan;
}

async function applyPlan(db: PrismaClient, s: CompletedScan, plan: Plan): Promise<void> {
  const { inventory, scanId } = s;
  const at = inventory.collectedAt;
  const account = inventory.accountId;
  const close = async (table: string, ids: string[]) => {
    for (const batch of chunks(ids, 5 * BATCH)) {
      await db.$executeRawUnsafe(`UPDATE ${table} SET valid_to = $1 WHERE id = ANY($2::uuid[])`, at, batch);
    }
  };
  await close('iam_user_version', plan.closeUsers);
  await close('access_key_version', plan.closeKeys);
  await close('finding_version', plan.closeFindingVersions);

  for (const batch of chunks(plan.newUsers, BATCH)) {
    await db.$executeRawUnsafe(
      `INSERT INTO iam_user_version (id, account_id, user_name, user_id, arn, path, created_at, has_console_password,
         password_last_used_at, mfa_active, tags, read_error, content_hash, valid_from, first_scan_id)
       SELECT gen_random_uuid(), $2, user_name, user_id, arn, path, created_at, has_console_password,
         password_last_used_at, mfa_active, tags, read_error, content_hash, $3, $4::uuid
       FROM jsonb_to_recordset($1::jsonb) AS x(user_name text, user_id text, arn text, path text, created_at timestamptz,
         has_console_password boolean, password_last_used_at timestamptz, mfa_active boolean, tags jsonb, read_error text,
         content_hash text)`,
      JSON.stringify(batch.map(({ row, hash }) => ({ ...row, content_hash: hash }))),
      account, at, scanId,
    );
  }
  for (const batch of chunks(plan.newKeys, BATCH)) {
    await db.$executeRawUnsafe(
      `INSERT INTO access_key_version (id, account_id, user_name, access_key_id, status, created_at, last_used_at,
         last_used_service, last_used_region, content_hash, valid_from, first_scan_id)
       SELECT gen_random_uuid(), $2, user_name, access_key_id, status, created_at, last_used_at, last_used_service,
         last_used_region, content_hash, $3, $4::uuid
       FROM jsonb_to_recordset($1::jsonb) AS x(user_name text, access_key_id text, status text, created_at timestamptz,
         last_used_at timestamptz, last_used_service text, last_used_region text, content_hash text)`,
      JSON.stringify(batch.map(({ userName, row, hash }) => ({ user_name: userName, ...row, content_hash: hash }))),
      account, at, scanId,
    );
  }

  // Findings: upsert the changed ones by identity and, in the same statement, open a version of each, copied from
  // the row just written (its evidence is not sent twice). A disappeared one keeps its content, user name and last
  // scan: its version comes from the scan that last read it, as the current read's lastSeenAt and scan do.
  for (const batch of chunks(plan.upsertFindings, BATCH)) {
    await db.$executeRawUnsafe(
      `WITH x AS MATERIALIZED (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(identity text, control_id text, user_id text, user_name text, user_arn text,
           access_key_id text, status text, reasons text[], evidence jsonb, state text, present boolean, opened_at timestamptz,
           resolved_at timestamptz, resolution text, reopen_count int, content_hash text)),
       upserted AS (
         INSERT INTO finding (id, identity, account_id, control_id, user_id, user_name, user_arn, access_key_id, status, reasons,
           evidence, state, present, opened_at, resolved_at, resolution, reopen_count, first_seen_at, last_seen_at, last_scan_id)
         SELECT gen_random_uuid(), identity, $2, control_id, user_id, user_name, user_arn, access_key_id, status::"ComplianceStatus",
           reasons, evidence, state::"FindingState", present, opened_at, resolved_at, resolution::"Resolution", reopen_count,
           $3, $3, $4::uuid
         FROM x
         ON CONFLICT (identity) DO UPDATE SET
           status = EXCLUDED.status, state = EXCLUDED.state, present = EXCLUDED.present, opened_at = EXCLUDED.opened_at,
           resolved_at = EXCLUDED.resolved_at, resolution = EXCLUDED.resolution, reopen_count = EXCLUDED.reopen_count,
           reasons = CASE WHEN EXCLUDED.present THEN EXCLUDED.reasons ELSE finding.reasons END,
           evidence = CASE WHEN EXCLUDED.present THEN EXCLUDED.evidence ELSE finding.evidence END,
           user_id = CASE WHEN EXCLUDED.present THEN EXCLUDED.user_id ELSE finding.user_id END,
           user_name = CASE WHEN EXCLUDED.present THEN EXCLUDED.user_name ELSE finding.user_name END,
           user_arn = CASE WHEN EXCLUDED.present THEN EXCLUDED.user_arn ELSE finding.user_arn END,
           last_seen_at = CASE WHEN EXCLUDED.present THEN EXCLUDED.last_seen_at ELSE finding.last_seen_at END,
           last_scan_id = CASE WHEN EXCLUDED.present THEN EXCLUDED.last_scan_id ELSE finding.last_scan_id END
         RETURNING id, identity, present, user_name, user_arn, status, reasons, evidence, state, resolved_at, resolution, reopen_count,
           last_scan_id)
       INSERT INTO finding_version (id, finding_id, account_id, user_name, user_arn, status, reasons, evidence, state, resolved_at,
         resolution, reopen_count, content_hash, valid_from, first_scan_id, present)
       SELECT gen_random_uuid(), u.id, $2, u.user_name, u.user_arn, u.status, u.reasons, u.evidence, u.state, u.resolved_at,
         u.resolution, u.reopen_count, x.content_hash, $3, u.last_scan_id, u.present
       FROM upserted u JOIN x ON x.identity = u.identity`,
      JSON.stringify(batch),
      account, at, scanId,
    );
  }
  // Renamed while unreadable: the last known version again, under the name and ARN now. It was last read by the
  // finding's last scan, not this one (first_scan_id is the scan whose reads a version's content comes from).
  for (const batch of chunks(plan.renamedCarried, BATCH)) {
    await db.$executeRawUnsafe(
      `WITH x AS MATERIALIZED (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, version_id uuid, user_name text, user_arn text, last_scan_id uuid)),
       renamed AS (UPDATE finding f SET user_name = x.user_name, user_arn = x.user_arn FROM x WHERE f.id = x.id RETURNING f.id)
       INSERT INTO finding_version (id, finding_id, account_id, user_name, user_arn, status, reasons, evidence, state, resolved_at,
         resolution, reopen_count, content_hash, valid_from, first_scan_id)
       SELECT gen_random_uuid(), v.finding_id, v.account_id, x.user_name, x.user_arn, v.status, v.reasons, v.evidence, v.state,
         v.resolved_at, v.resolution, v.reopen_count, v.content_hash, $2, x.last_scan_id
       FROM x JOIN finding_version v ON v.id = x.version_id`,
      JSON.stringify(batch),
      at,
    );
  }
  for (const batch of chunks(plan.touchFindings, 5 * BATCH)) {
    await db.$executeRawUnsafe('UPDATE finding SET last_seen_at = $1, last_scan_id = $2::uuid WHERE id = ANY($3::uuid[])', at, scanId, batch);
  }
}

/** A scan.failed event: a FAILED scan recorded nothing, so it carries no counts. */
export function scanFailedChange(scanId: string, accountId: string, errors: number, at: Date) {
  return {
    accountId, type: 'scan.failed' as const, occurredAt: at, scanId,
    payload: { status: 'FAILED', counts: null, opened: 0, resolved: 0, observedAt: null, errors },
  };
}

function lifecycleOf(f: CurrentFinding): Lifecycle {
  return { state: f.state, openedAt: f.opened_at, resolvedAt: f.resolved_at, resolution: f.resolution, reopenCount: f.reopen_count };
}

function lifecycleRow(l: Lifecycle) {
  return { state: l.state, opened_at: l.openedAt, resolved_at: l.resolvedAt, resolution: l.resolution, reopen_count: l.reopenCount };
}

type UserColumns = ReturnType<typeof userColumns>;

/** Tags in one key order: jsonb gives them back in its own, and the content hash must not see a change. */
function canonicalTags(tags: Record<string, string> | null): Record<string, string> | null {
  return tags && Object.fromEntries(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
type KeyColumns = ReturnType<typeof keyColumns>;

function userColumns(u: InventoryUser) {
  return {
    user_name: u.userName,
    user_id: u.userId,
    arn: u.arn,
    path: u.path,
    created_at: u.createdAt,
    has_console_password: u.hasConsolePassword,
    password_last_used_at: u.passwordLastUsedAt,
    mfa_active: u.mfaActive,
    tags: canonicalTags(u.tags),
    read_error: u.readError ? `${u.readError.operation}: ${u.readError.code}: ${u.readError.message}` : null,
  };
}

function keyColumns(k: InventoryAccessKey) {
  return {
    access_key_id: k.accessKeyId,
    status: k.status,
    created_at: k.createdAt,
    last_used_at: k.lastUsed?.date ?? null,
    last_used_service: k.lastUsed?.serviceName ?? null,
    last_used_region: k.lastUsed?.region ?? null,
  };
}

/**
 * The content hash of a disappeared finding's version. Never compared: a finding seen again always opens a version
 * (present again), whatever its content. Migration 20261130500000 gave the versions it added the same.
 */
const GONE_HASH = 'gone';

const hashOf = (value: unknown) => createHash('sha1').update(JSON.stringify(value)).digest('base64url');

/**
 * What makes a new finding version: the result, its evidence from IAM, and the lifecycle. When it was
 * evaluated and how fresh the source was change every scan and are not a change of the finding.
 */
function findingHash(row: FindingRow): string {
  const { evaluatedAt: _e, dataSourceAsOf: _a, dataSource: _d, ...evidence } = row.evidence as FindingEvidence;
  // NEVER_FAILED hashes as RESOLVED, the state such findings were stored with before it existed: the backfill
  // (migration 20261130110000) renamed their state without a new version, and an unchanged finding still hashes
  // the same. No transition goes between those two states, so no change is missed.
  const state = row.state === 'NEVER_FAILED' ? 'RESOLVED' : row.state;
  return hashOf([row.status, row.reasons, evidence, state, row.resolved_at, row.resolution, row.reopen_count, row.user_arn]);
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.trim().split('\n').filter(Boolean).at(-1) ?? message;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
