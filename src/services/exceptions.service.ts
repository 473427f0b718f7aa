import { randomUUID } from 'node:crypto';
import type { CountingIamClient } from '../adapters/iam/iam-client';
import type { AccessException, PrismaClient } from '../generated/prisma/client';
import { ACCESS_KEY_ID_PATTERN, ACCOUNT_ID_PATTERN, USER_NAME_PATTERN, type UserErrorData } from '../domain/remediation';
import type { AccountGuard } from './account-guard';
import { newestFirstPage, type Page, type PageFrom } from './page';

export interface CreateExceptionInput {
  accountId: string;
  userName: string;
  accessKeyId?: string | null;
  justification: string;
  expiresAt: Date;
}

export interface ExceptionResult {
  exception: AccessException | null;
  userErrors: UserErrorData[];
}

/** Exceptions are time-boxed: a year at most, then they must be approved again. */
export const MAX_EXCEPTION_DAYS = 366;
/** As long as a remediation's reason may be. */
export const MAX_JUSTIFICATION_LENGTH = 1000;

export interface ExceptionsDeps {
  prisma: PrismaClient;
  /** Re-reads the users live (a targeted scan, with IAM in their account) so their findings turn EXCEPTED, or reopen, at once. */
  reevaluate: (accountId: string, userNames: string[], iam: CountingIamClient) => Promise<void>;
  /** Only an account whose IAM Keywarden can prove it reads may get (or lose) an exception: it is re-read at once. */
  guard: AccountGuard;
  now?: () => Date;
}

/**
 * Approved exceptions (the control's "unless specifically required"). Creating or revoking one
 * re-evaluates the user at once, so its findings turn EXCEPTED, or fail again and reopen, without
 * waiting for the next scan. An exception past its expiry stops applying at the next evaluation.
 */
export class ExceptionsService {
  private readonly now: () => Date;

  constructor(private readonly deps: ExceptionsDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async create(input: CreateExceptionInput, actor: string): Promise<ExceptionResult> {
    const userErrors = validate(input, this.now());
    if (userErrors.length > 0) return { exception: null, userErrors };
    // The role session is named after the exception it is for: CloudTrail in the account shows it.
    const id = randomUUID();
    const access = await this.deps.guard.access(input.accountId, `keywarden-exception-${id}`);
    if (access.refusal) return { exception: null, userErrors: [access.refusal] };
    try {
      const exception = await this.deps.prisma.accessException.create({
        data: {
          id, accountId: input.accountId, userName: input.userName, accessKeyId: input.accessKeyId ?? null,
          justification: input.justification.trim(), expiresAt: input.expiresAt, createdBy: actor,
        },
      });
      await this.deps.reevaluate(input.accountId, [input.userName], access.iam);
      return { exception, userErrors: [] };
    } finally {
      access.iam.client.destroy();
    }
  }

  async revoke(id: string, actor: string): Promise<ExceptionResult> {
    const found = await this.deps.prisma.accessException.findUnique({ where: { id } });
    if (!found) return { exception: null, userErrors: [{ code: 'EXCEPTION_NOT_FOUND', field: 'id', message: `no exception ${id}` }] };
    if (found.revokedAt) return { exception: found, userErrors: [] }; // revoking twice changes nothing
    const { iam, refusal } = await this.deps.guard.access(found.accountId, `keywarden-exception-${id}`);
    // The input names the exception, not the account: the error points at `id`.
    if (refusal) return { exception: null, userErrors: [refusal.field === 'accountId' ? { ...refusal, field: 'id', message: `exception ${id} is for account ${found.accountId}: ${refusal.message}` } : refusal] };
    try {
      const exception = await this.deps.prisma.accessException.update({ where: { id }, data: { revokedAt: this.now(), revokedBy: actor } });
      await this.deps.reevaluate(found.accountId, [found.userName], iam);
      return { exception, userErrors: [] };
    } finally {
      iam.client.destroy();
    }
  }

  async list(filter: { accountId?: string | null; accountIds?: readonly string[] | null; userName?: string | null; active?: boolean | null }, first: number, from?: PageFrom, direction: 'ASC' | 'DESC' = 'DESC'): Promise<Page<AccessException>> {
    const now = this.now();
    const where = {
      ...(filter.accountId ? { accountId: filter.accountId } : {}),
      ...(filter.accountIds?.length ? { accountId: { in: [...filter.accountIds] } } : {}),
      ...(filter.userName ? { userName: filter.userName } : {}),
      ...(filter.active === true ? { revokedAt: null, expiresAt: { gt: now } } : {}),
      ...(filter.active === false ? { OR: [{ revokedAt: { not: null } }, { expiresAt: { lte: now } }] } : {}),
    };
    return newestFirstPage('e', this.deps.prisma.accessException, 'createdAt', where, first, from, direction);
  }

  async byIds(ids: readonly string[]): Promise<(AccessException | null)[]> {
    const rows = await this.deps.prisma.accessException.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}

function validate(input: CreateExceptionInput, now: Date): UserErrorData[] {
  const errors: UserErrorData[] = [];
  const bad = (field: string, message: string) => errors.push({ code: 'INVALID_INPUT', field, message });
  if (!ACCOUNT_ID_PATTERN.test(input.accountId ?? '')) bad('accountId', 'accountId must be 12 digits');
  if (!USER_NAME_PATTERN.test(input.userName ?? '') || input.userName === 'root') bad('userName', 'userName must be an IAM user name (not root)');
  if (input.accessKeyId != null && !ACCESS_KEY_ID_PATTERN.test(input.accessKeyId)) bad('accessKeyId', 'accessKeyId must be AKIA followed by 16 upper-case letters or digits');
  if (!input.justification?.trim()) bad('justification', 'justification must not be empty: say why this user needs keys');
  else if (input.justification.length > MAX_JUSTIFICATION_LENGTH) bad('justification', `justification must be at most ${MAX_JUSTIFICATION_LENGTH} characters`);
  if (!(input.expiresAt instanceof Date) || Number.isNaN(input.expiresAt.getTime())) bad('expiresAt', 'expiresAt must be a date');
  else if (input.expiresAt.getTime() <= now.getTime()) bad('expiresAt', `expiresAt ${input.expiresAt.toISOString()} is in the past: an exception must end in the future`);
  else if (input.expiresAt.getTime() > now.getTime() + MAX_EXCEPTION_DAYS * 86_400_000) bad('expiresAt', `an exception lasts at most ${MAX_EXCEPTION_DAYS} days; renew it when it ends`);
  return errors;
}
