import { createHash, randomUUID } from 'node:crypto';
import {
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
  type AccessKeyMetadata,
} from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import { errorCode, type CountingIamClient } from '../adapters/iam/iam-client';
import { appendChanges, type NewChange } from '../adapters/store/change-log';
import {
  decide,
  invalidIdempotencyKey,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  quoted,
  REMEDIATIONS,
  validateKeyAction,
  type KeyActionInput,
  type LiveKeyState,
  type RemediationErrorCode,
  type RemediationKind,
  type UserErrorData,
} from '../domain/remediation';
import type { Prisma, PrismaClient, RemediationAction } from '../generated/prisma/client';
import { iamUserError as iamError, type AccountAccess, type AccountGuard } from './account-guard';
import type { ScanRequest, ScanService } from './scan.service';

export interface RemediationResult {
  action: RemediationAction | null;
  userErrors: UserErrorData[];
}

export interface BulkInput {
  /**
   * One spelling per finding (the API passes each finding's local UUID, lower-case): repeats are refused, the
   * request is fingerprinted and each finding's action keyed on these strings.
   */
  findingIds: string[];
  action: 'DEACTIVATE' | 'DELETE';
  reason: string;
  dryRun?: boolean | null;
  idempotencyKey: string;
}

export interface BulkItem {
  findingId: string;
  action: RemediationAction | null;
  userErrors: UserErrorData[];
}

export interface BulkResult {
  action: null;
  results: BulkItem[];
  userErrors: UserErrorData[];
}

export const MAX_BULK_FINDINGS = 500;

// Each finding's action is keyed `<bulk key>/<finding id>`; a finding's global id is 59 characters.
const BULK_ITEM_KEY_LENGTH = MAX_IDEMPOTENCY_KEY_LENGTH + 1 + 64;

function validateBulk(input: BulkInput): UserErrorData[] {
  const errors: UserErrorData[] = [];
  const bad = (code: RemediationErrorCode, field: string, message: string) => errors.push({ code, field, message });
  if (!input.findingIds?.length) bad('INVALID_INPUT', 'findingIds', 'findingIds must name at least one finding');
  else if (input.findingIds.length > MAX_BULK_FINDINGS) bad('TOO_MANY_FINDINGS', 'findingIds', `at most ${MAX_BULK_FINDINGS} findings per call; got ${input.findingIds.length}: split the request`);
  else if (new Set(input.findingIds).size !== input.findingIds.length) bad('INVALID_INPUT', 'findingIds', 'findingIds must not repeat a finding');
  if (!input.reason?.trim()) bad('INVALID_INPUT', 'reason', 'reason must not be empty: say why, for the audit trail');
  if (!input.idempotencyKey?.trim()) bad('IDEMPOTENCY_KEY_REQUIRED', 'idempotencyKey', 'remediateFindings needs an idempotencyKey so a retry never acts twice');
  else if (invalidIdempotencyKey(input.idempotencyKey)) bad('INVALID_INPUT', 'idempotencyKey', `idempotencyKey must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  return errors;
}

export interface FindingTarget {
  localId: string;
  accountId: string;
  userName: string;
  accessKeyId: string | null;
  state: 'OPEN' | 'RESOLVED' | 'NEVER_FAILED';
  resolution: string | null;
}

export interface RemediationDeps {
  prisma: PrismaClient;
  /** Resolves finding ids (as given by the caller) to their targets; null for an unknown id. */
  findings: (ids: string[]) => Promise<(FindingTarget | null)[]>;
  /** IAM in the finding's account (the base credentials, or the account's role), proven before any call. */
  guard: AccountGuard;
  scans: ScanService;
  scanRequest: ScanRequest;
  recentUseDays: number;
  now?: () => Date;
  /** Fault injection for tests: runs after the PENDING row is committed, before the IAM write. */
  afterPending?: (actionId: string) => Promise<void>;
}

// Refusals of the request itself; other failures to reach the account (a role STS refused, IAM errors) are FAILED.
const REFUSED_CODES = new Set<RemediationErrorCode>(['ACCOUNT_MISMATCH', 'UNKNOWN_ACCOUNT']);

// A concurrent request for the same key waits this long for the one in flight.
const WAIT_FOR_PENDING_MS = 30_000;
const POLL_MS = 50;

/**
 * Remediation that is safe to call from other tools. Every request is audited. A PENDING row is
 * committed before any IAM write and completed after; at most one is in flight per key, so
 * concurrent calls make one write. Live state is re-read first; a replayed idempotency key returns
 * the first answer. After a write, the user is re-evaluated at once.
 */
export class RemediationService {
  private readonly now: () => Date;

  constructor(private readonly deps: RemediationDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * `options.access`: IAM in the account, when the caller already has it (a bulk assumes each account's role once).
   * Otherwise the role session is named after the audit row: `keywarden-remediate-<action id>`.
   */
  async run(
    kind: RemediationKind,
    input: KeyActionInput,
    actor: string,
    options: { findingId?: string; reevaluate?: boolean; access?: (accountId: string) => Promise<AccountAccess> } = {},
  ): Promise<RemediationResult> {
    const contract = REMEDIATIONS[kind];
    const audit = (status: 'REFUSED' | 'FAILED', error: UserErrorData, id?: string) => this.auditOnly(kind, input, actor, status, error, options.findingId, id);
    const invalid = validateKeyAction(contract, input, options.findingId ? BULK_ITEM_KEY_LENGTH : MAX_IDEMPOTENCY_KEY_LENGTH);
    if (invalid.length > 0) return { action: await audit('REFUSED', invalid[0]), userErrors: invalid };

    const key = { operation: contract.mutation, principal: actor, key: input.idempotencyKey ?? null };
    const reused = async (error: UserErrorData) => ({ action: await audit('REFUSED', error), userErrors: [error] });
    return this.idempotent(key, { kind, ...normalize(input) }, async () => {
      const actionId = randomUUID();
      const access = await (options.access ?? ((accountId: string) => this.deps.guard.access(accountId, `keywarden-remediate-${actionId}`)))(input.accountId);
      if (access.refusal) return { action: await audit(REFUSED_CODES.has(access.refusal.code) ? 'REFUSED' : 'FAILED', access.refusal, actionId), userErrors: [access.refusal] };
      try {
        const dryRun = input.dryRun ?? false;
        // One request per key at a time (across processes): the unique PENDING row is the lock.
        const row = dryRun ? await this.insert(actionId, kind, input, actor, 'DRY_RUN', options.findingId) : await this.acquire(actionId, kind, input, actor, options.findingId);
        if (!dryRun && this.deps.afterPending) await this.deps.afterPending(row.id);
        return await this.act(row, input, access.iam, options.reevaluate ?? true);
      } finally {
        // A client made for this action only: its connections are not left for IAM to close.
        if (!options.access) access.iam.client.destroy();
      }
    }, { reused });
  }

  /**
   * Bulk: up to 500 findings, one result per finding, each an ordinary audited, idempotent action on the
   * finding's key. The affected users are re-evaluated once at the end.
   */
  async runForFindings(input: BulkInput, actor: string): Promise<BulkResult> {
    // A refusal of the request as a whole names no key of IAM's: audited with what the request said.
    const refuse = async (errors: UserErrorData[]): Promise<BulkResult> => {
      await this.auditOnly(input.action, { accountId: '', userName: '', accessKeyId: '', reason: input.reason, dryRun: input.dryRun, idempotencyKey: input.idempotencyKey }, actor, 'REFUSED', errors[0]);
      return { action: null, results: [], userErrors: errors };
    };
    const invalid = validateBulk(input);
    if (invalid.length > 0) return refuse(invalid);
    const request = { action: input.action, findingIds: [...input.findingIds].sort(), reason: input.reason, dryRun: input.dryRun ?? false };
    return this.idempotent({ operation: 'remediateFindings', principal: actor, key: input.idempotencyKey }, request, () => this.bulk(input, actor), {
      replay: (stored) => this.replayBulk(stored),
      reused: (error) => refuse([error]),
    });
  }

  private async bulk(input: BulkInput, actor: string): Promise<BulkResult> {
    const findings = await this.deps.findings(input.findingIds);
    const touched = new Map<string, Set<string>>();
    // One role session per account for the whole request, not one AssumeRole per finding.
    const session = `keywarden-remediate-bulk-${randomUUID()}`;
    const accesses = new Map<string, Promise<AccountAccess>>();
    const access = (accountId: string) => {
      let found = accesses.get(accountId);
      if (!found) accesses.set(accountId, (found = this.deps.guard.access(accountId, session)));
      return found;
    };
    const limit = pLimit(4);
    const results = await Promise.all(input.findingIds.map((findingId, i) => limit(async (): Promise<BulkItem> => {
      const finding = findings[i];
      const fail = (code: RemediationErrorCode, message: string): BulkItem => ({ findingId, action: null, userErrors: [{ code, field: `findingIds[${i}]`, message }] });
      if (!finding) return fail('FINDING_NOT_FOUND', `no finding ${quoted(findingId)}`);
      if (!finding.accessKeyId) return fail('FINDING_HAS_NO_KEY', `finding ${findingId} is about ${finding.userName}, not one access key: nothing to ${input.action.toLowerCase()}`);
      if (finding.state === 'RESOLVED') return fail('FINDING_ALREADY_RESOLVED', `finding ${findingId} is already resolved (${finding.resolution ?? 'PASSED'})`);
      if (finding.state === 'NEVER_FAILED') return fail('FINDING_ALREADY_RESOLVED', `finding ${findingId} has never failed: nothing to ${input.action.toLowerCase()}`);
      const result = await this.run(
        input.action,
        {
          accountId: finding.accountId, userName: finding.userName, accessKeyId: finding.accessKeyId, reason: input.reason,
          dryRun: input.dryRun, force: false, idempotencyKey: `${input.idempotencyKey}/${findingId}`,
        },
        actor,
        { findingId: finding.localId, reevaluate: false, access },
      );
      if (result.action?.status === 'SUCCEEDED') {
        const users = touched.get(finding.accountId) ?? new Set<string>();
        users.add(finding.userName);
        touched.set(finding.accountId, users);
      }
      return { findingId, ...result };
    })));
    try {
      for (const [accountId, users] of touched) {
        const { iam } = await access(accountId);
        if (iam) await this.reevaluate(accountId, [...users], input.action, iam);
      }
    } finally {
      for (const made of accesses.values()) void made.then(({ iam }) => iam?.client.destroy());
    }
    return { action: null, results, userErrors: [] };
  }

  private async replayBulk(stored: StoredAnswer): Promise<BulkResult> {
    const items = ((stored.result as { results?: { findingId: string; actionId: string | null; userErrors: UserErrorData[] }[] } | null)?.results ?? []);
    const ids = items.map((x) => x.actionId).filter((id): id is string => id !== null);
    const rows = new Map((await this.deps.prisma.remediationAction.findMany({ where: { id: { in: ids } } })).map((r) => [r.id, r]));
    return {
      action: null,
      results: items.map((x) => ({ findingId: x.findingId, action: x.actionId ? rows.get(x.actionId) ?? null : null, userErrors: x.userErrors })),
      userErrors: stored.userErrors,
    };
  }

  /** PENDING rows left by a process that stopped mid-action: settle each against live IAM state. */
  async reconcile(olderThanMs = 60_000): Promise<RemediationAction[]> {
    const stale = await this.deps.prisma.remediationAction.findMany({
      where: { status: 'PENDING', dryRun: false, createdAt: { lt: new Date(this.now().getTime() - olderThanMs) } },
      orderBy: { createdAt: 'asc' },
    });
    const settled: RemediationAction[] = [];
    for (const row of stale) {
      const { iam } = await this.deps.guard.access(row.accountId!, `keywarden-reconcile-${row.id}`);
      try {
        const live = iam ? await this.liveState(iam, row.userName!, row.accessKeyId!).catch(() => null) : null;
        if (live === null) continue; // IAM unreadable now (or the account's role): try again at the next reconcile
        const target = REMEDIATIONS[row.kind].target;
        const applied = target === null ? live.found === 'MISSING' : live.found === 'OWN' && live.status === target;
        settled.push(
          await this.complete(row, {
            status: applied ? 'SUCCEEDED' : 'FAILED',
            stateAfter: stateJson(live),
            errorCode: applied ? null : 'INTERRUPTED',
            errorMessage: applied
              ? 'reconciled: the process stopped after the IAM write took effect'
              : 'reconciled: the process stopped before the IAM write took effect; the key was not changed',
          }),
        );
        if (applied) await this.reevaluate(row.accountId!, [row.userName!], row.kind, iam!);
      } finally {
        iam?.client.destroy();
      }
    }
    return settled;
  }

  private async act(row: RemediationAction, input: KeyActionInput, iam: CountingIamClient, reevaluate: boolean): Promise<RemediationResult> {
    const contract = REMEDIATIONS[row.kind];
    const complete = (data: Prisma.RemediationActionUpdateInput) => this.complete(row, data);
    let live: LiveKeyState;
    try {
      live = await this.liveState(iam, input.userName, input.accessKeyId);
    } catch (err) {
      const error = iamError(err);
      return { action: await complete({ status: row.dryRun ? 'DRY_RUN' : 'FAILED', errorCode: error.code, errorMessage: error.message }), userErrors: [error] };
    }
    const decision = decide(contract, { userName: input.userName, accessKeyId: input.accessKeyId, force: input.force ?? false }, live, this.now(), this.deps.recentUseDays);
    const before = stateJson(live);
    if (decision.outcome === 'REFUSE') {
      return {
        action: await complete({ status: row.dryRun ? 'DRY_RUN' : 'REFUSED', stateBefore: before, errorCode: decision.error.code, errorMessage: decision.error.message }),
        userErrors: [decision.error],
      };
    }
    if (row.dryRun) {
      return { action: await complete({ status: 'DRY_RUN', stateBefore: before, plan: `dry run: would ${decision.outcome === 'WRITE' ? decision.plan : 'change nothing'}` }), userErrors: [] };
    }
    if (decision.outcome === 'NO_CHANGE') {
      return { action: await complete({ status: 'NO_CHANGE', stateBefore: before, stateAfter: before, plan: decision.plan }), userErrors: [] };
    }
    let requestId: string | undefined;
    try {
      const out =
        contract.target === null
          ? await iam.client.send(new DeleteAccessKeyCommand({ UserName: input.userName, AccessKeyId: input.accessKeyId }))
          : await iam.client.send(new UpdateAccessKeyCommand({ UserName: input.userName, AccessKeyId: input.accessKeyId, Status: contract.target }));
      requestId = out.$metadata.requestId;
    } catch (err) {
      const error = iamError(err);
      return { action: await complete({ status: 'FAILED', stateBefore: before, plan: decision.plan, errorCode: error.code, errorMessage: error.message }), userErrors: [error] };
    }
    const after = await this.liveState(iam, input.userName, input.accessKeyId).then(stateJson, () => null);
    const action = await complete({ status: 'SUCCEEDED', stateBefore: before, stateAfter: after ?? undefined, plan: decision.plan, iamRequestId: requestId ?? null });
    if (reevaluate) await this.reevaluate(input.accountId, [input.userName], row.kind, iam);
    return { action, userErrors: [] };
  }

  /**
   * Completes an audited action; a real one (not a dry run) writes remediation.completed in the same
   * transaction, with its outcome. The event names the key and the actor, never anything secret.
   */
  private async complete(row: RemediationAction, data: Prisma.RemediationActionUpdateInput): Promise<RemediationAction> {
    const update = { where: { id: row.id }, data: { ...data, completedAt: this.now() } };
    if (row.dryRun || data.status === 'DRY_RUN' || !row.accountId) return this.deps.prisma.remediationAction.update(update);
    return this.deps.prisma.$transaction(async (tx) => {
      const done = await tx.remediationAction.update(update);
      await appendChanges(tx, [remediationCompleted(done)]);
      return done;
    });
  }

  /** Re-reads the users live, with IAM in their account, so their findings resolve (REMEDIATED) or reopen now, not at the next scan. */
  async reevaluate(accountId: string, userNames: string[], kind: RemediationKind, iam: CountingIamClient): Promise<void> {
    await this.deps.scans.runForUsers(accountId, userNames, this.deps.scanRequest, kind === 'REACTIVATE' ? 'PASSED' : 'REMEDIATED', iam);
  }

  private async liveState(counting: CountingIamClient, userName: string, accessKeyId: string): Promise<LiveKeyState> {
    const iam = counting.client;
    let keys: AccessKeyMetadata[];
    try {
      keys = (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
    } catch (err) {
      if (errorCode(err) !== 'NoSuchEntity') throw err;
      keys = [];
    }
    const own = keys.find((k) => k.AccessKeyId === accessKeyId);
    let lastUsed;
    try {
      lastUsed = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
    } catch (err) {
      // IAM answers AccessDenied for a key id that is not in the account.
      if (!own) return { found: 'MISSING' };
      throw err;
    }
    if (!own) return lastUsed.UserName && lastUsed.UserName !== userName ? { found: 'OTHER_USER', owner: lastUsed.UserName } : { found: 'MISSING' };
    const used = lastUsed.AccessKeyLastUsed;
    return {
      found: 'OWN',
      status: own.Status === 'Active' ? 'Active' : 'Inactive',
      createdAt: own.CreateDate!,
      lastUsed: used?.LastUsedDate ? { date: used.LastUsedDate, serviceName: naToNull(used.ServiceName), region: naToNull(used.Region) } : null,
    };
  }

  private async acquire(id: string, kind: RemediationKind, input: KeyActionInput, actor: string, findingId?: string): Promise<RemediationAction> {
    const deadline = Date.now() + WAIT_FOR_PENDING_MS;
    for (;;) {
      try {
        return await this.insert(id, kind, input, actor, 'PENDING', findingId);
      } catch (err) {
        if (!isUniqueViolation(err) || Date.now() > deadline) throw err;
        await sleep(POLL_MS);
      }
    }
  }

  private insert(id: string, kind: RemediationKind, input: KeyActionInput, actor: string, status: 'PENDING' | 'DRY_RUN', findingId?: string): Promise<RemediationAction> {
    return this.deps.prisma.remediationAction.create({
      data: {
        id, kind, status, actor, accountId: input.accountId, userName: input.userName, accessKeyId: input.accessKeyId,
        reason: input.reason, dryRun: input.dryRun ?? false, force: input.force ?? false, idempotencyKey: input.idempotencyKey ?? null,
        input: normalize(input) as object, findingId: findingId ?? null,
      },
    });
  }

  /**
   * A request refused before it reached IAM: audited all the same, as given but cut to what the columns hold.
   * An 8 kB account id or key id of random text is more than their btree indexes take: the audit insert
   * failed, and the refusal became a masked 500 with no audit row.
   */
  private auditOnly(kind: RemediationKind, input: KeyActionInput, actor: string, status: 'REFUSED' | 'FAILED', error: UserErrorData, findingId?: string, id?: string): Promise<RemediationAction> {
    const asked = normalize(input);
    const create = {
      data: {
        ...(id ? { id } : {}), kind, status, actor, accountId: clip(input.accountId), userName: clip(input.userName), accessKeyId: clip(input.accessKeyId),
        reason: clip(input.reason, AUDITED_REASON) ?? '', dryRun: input.dryRun ?? false, force: input.force ?? false, idempotencyKey: clip(input.idempotencyKey),
        input: { ...asked, accountId: clip(asked.accountId), userName: clip(asked.userName), accessKeyId: clip(asked.accessKeyId), reason: clip(asked.reason, AUDITED_REASON) },
        errorCode: error.code, errorMessage: error.message, findingId: findingId ?? null, completedAt: this.now(),
      },
    };
    // FAILED with an id: a valid request for a known account whose IAM refused or could not be reached (its role,
    // say): an action that ended, so it is in the change log. Malformed or refused requests are audited only.
    if (!id || status !== 'FAILED' || create.data.dryRun) return this.deps.prisma.remediationAction.create(create);
    return this.deps.prisma.$transaction(async (tx) => {
      const done = await tx.remediationAction.create(create);
      await appendChanges(tx, [remediationCompleted(done)]);
      return done;
    });
  }

  /**
   * Same principal, key and request: the first answer, with no second IAM write (a request still running is
   * waited for). Same key, another request: refused, and the refusal audited. Keys are per principal (the
   * actor): another caller's same key is another record, so no one gets, or blocks, another caller's answer.
   */
  async idempotent<T extends { action: { id: string } | null; userErrors: UserErrorData[] }>(
    scope: { operation: string; principal: string; key: string | null },
    request: unknown,
    work: () => Promise<T>,
    answers: { reused: (error: UserErrorData) => Promise<T>; replay?: (stored: StoredAnswer) => Promise<T> },
  ): Promise<T> {
    const { operation, principal, key } = scope;
    if (!key) return work();
    const replay = answers.replay ?? ((stored) => this.replaySingle(stored) as unknown as Promise<T>);
    const requestHash = createHash('sha256').update(JSON.stringify([operation, request])).digest('hex');
    const prisma = this.deps.prisma;
    const id = { principal_key: { principal, key } };
    const created = await prisma.idempotencyRecord.createMany({ data: [{ principal, key, operation, requestHash }], skipDuplicates: true });
    if (created.count === 0) {
      const deadline = Date.now() + WAIT_FOR_PENDING_MS;
      for (;;) {
        const record = await prisma.idempotencyRecord.findUniqueOrThrow({ where: id });
        if (record.requestHash !== requestHash || record.operation !== operation) {
          return answers.reused({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey', message: `idempotencyKey ${key} was already used for a different request; use a new key` });
        }
        if (record.response) return replay(record.response as unknown as StoredAnswer);
        if (Date.now() > deadline) throw new Error(`the request with idempotencyKey ${key} is still running`);
        await sleep(POLL_MS);
      }
    }
    try {
      const result = await work();
      const stored: StoredAnswer = { actionIds: collectActionIds(result), userErrors: result.userErrors, result: serializable(result) };
      await prisma.idempotencyRecord.update({ where: id, data: { response: stored as object, completedAt: this.now() } });
      return result;
    } catch (err) {
      // Nothing to replay: let a retry with the same key run again.
      await prisma.idempotencyRecord.delete({ where: id }).catch(() => undefined);
      throw err;
    }
  }

  private async replaySingle(stored: StoredAnswer): Promise<RemediationResult> {
    const id = stored.actionIds[0];
    const action = id ? await this.deps.prisma.remediationAction.findUnique({ where: { id } }) : null;
    return { action, userErrors: stored.userErrors };
  }
}

export interface StoredAnswer {
  actionIds: string[];
  userErrors: UserErrorData[];
  /** The answer's other data (bulk results), ids instead of rows. */
  result: unknown;
}

/** remediation.completed: the action's outcome, the key and who asked; nothing secret (the request carries none). */
function remediationCompleted(done: RemediationAction): NewChange {
  return {
    accountId: done.accountId!, type: 'remediation.completed', occurredAt: done.completedAt!, remediationActionId: done.id,
    payload: { kind: done.kind, accessKeyId: done.accessKeyId, userName: done.userName, outcome: done.status, errorCode: done.errorCode, actor: done.actor },
  };
}

function collectActionIds(result: { action: { id: string } | null }): string[] {
  return result.action ? [result.action.id] : [];
}

function serializable(result: unknown): unknown {
  const r = result as { results?: { findingId: string; action: { id: string } | null; userErrors: UserErrorData[] }[] };
  return r.results ? { results: r.results.map((x) => ({ findingId: x.findingId, actionId: x.action?.id ?? null, userErrors: x.userErrors })) } : null;
}

// What a refused request's audit row keeps of each field it was given (valid values are far shorter).
const AUDITED_TEXT = MAX_IDEMPOTENCY_KEY_LENGTH;
const AUDITED_REASON = 1000;

function clip(value: string | null | undefined, max = AUDITED_TEXT): string | null {
  if (value == null) return null;
  if (value.length <= max) return value;
  // Never half a surrogate pair: Prisma's engine cannot carry one.
  const end = /[\uD800-\uDBFF]/.test(value[max - 1]) ? max - 1 : max;
  return `${value.slice(0, end)}… (${value.length} characters)`;
}

function normalize(input: KeyActionInput) {
  return {
    accountId: input.accountId,
    userName: input.userName,
    accessKeyId: input.accessKeyId,
    reason: input.reason,
    dryRun: input.dryRun ?? false,
    force: input.force ?? false,
  };
}

function stateJson(live: LiveKeyState): Prisma.InputJsonValue {
  if (live.found !== 'OWN') return { found: live.found, ...(live.found === 'OTHER_USER' ? { owner: live.owner } : {}) };
  return {
    found: 'OWN',
    status: live.status,
    createdAt: live.createdAt.toISOString(),
    lastUsedAt: live.lastUsed?.date.toISOString() ?? null,
    lastUsedService: live.lastUsed?.serviceName ?? null,
    lastUsedRegion: live.lastUsed?.region ?? null,
  };
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; meta?: { code?: string } };
  return e.code === 'P2002' || e.meta?.code === '23505' || /unique constraint|23505/i.test(String((err as Error)?.message));
}

function naToNull(v: string | undefined): string | null {
  return !v || v === 'N/A' ? null : v;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

