import { z } from 'zod';
import type { IamErrorCode } from './errors';

/** The IAM actions the sandbox implements. */
export const SANDBOX_OPERATIONS = [
  'ListUsers',
  'GetUser',
  'ListUserTags',
  'GetLoginProfile',
  'ListAccessKeys',
  'GetAccessKeyLastUsed',
  'GenerateCredentialReport',
  'GetCredentialReport',
  'UpdateAccessKey',
  'DeleteAccessKey',
] as const;

export type SandboxOperation = (typeof SANDBOX_OPERATIONS)[number];

/** The STS actions the sandbox implements (Query protocol, Version 2011-06-15). */
export const STS_OPERATIONS = ['AssumeRole', 'GetCallerIdentity'] as const;
export type StsOperation = (typeof STS_OPERATIONS)[number];

/** The Organizations operations the sandbox implements (awsJson1_1, X-Amz-Target AWSOrganizationsV20161128.<Op>). */
export const ORGANIZATIONS_OPERATIONS = [
  'DescribeOrganization',
  'DescribeAccount',
  'DescribeOrganizationalUnit',
  'ListAccounts',
  'ListAccountsForParent',
  'ListOrganizationalUnitsForParent',
  'ListParents',
  'ListRoots',
] as const;
export type OrganizationsOperation = (typeof ORGANIZATIONS_OPERATIONS)[number];

/** The Security Hub operations the sandbox implements (REST-JSON: POST /findings/import, PATCH /findings/batchupdate, POST /findings). */
export const SECURITYHUB_OPERATIONS = ['BatchImportFindings', 'BatchUpdateFindings', 'GetFindings'] as const;
export type SecurityHubOperation = (typeof SECURITYHUB_OPERATIONS)[number];

export type SandboxService = 'iam' | 'sts' | 'organizations' | 'securityhub';

export const SERVICE_OPERATIONS: Readonly<Record<SandboxService, readonly string[]>> = {
  iam: SANDBOX_OPERATIONS,
  sts: STS_OPERATIONS,
  organizations: ORGANIZATIONS_OPERATIONS,
  securityhub: SECURITYHUB_OPERATIONS,
};

export const serviceOfOperation = (operation: string): SandboxService | undefined =>
  (Object.keys(SERVICE_OPERATIONS) as SandboxService[]).find((s) => SERVICE_OPERATIONS[s].includes(operation));

/** IAM codes a fault rule may force (protocol-level ones such as InvalidAction are left out). */
const IAM_FAULT_CODES = [
  'AccessDenied',
  'NoSuchEntity',
  'ServiceFailure',
  'ServiceUnavailable',
  'LimitExceeded',
  'Throttling',
  'InvalidInput',
  'ValidationError',
  'ReportNotPresent',
  'ReportExpired',
  'ReportInProgress',
] as const satisfies readonly IamErrorCode[];

/** Codes that only the Organizations API answers. */
export const ORGANIZATIONS_FAULT_CODES = [
  'AWSOrganizationsNotInUseException',
  'AccessDeniedException',
  'AccountNotFoundException',
  'ChildNotFoundException',
  'OrganizationalUnitNotFoundException',
  'ParentNotFoundException',
  'TooManyRequestsException',
  'ServiceException',
] as const;

/**
 * Codes a fault rule may force. AccessDenied, Throttling, ServiceFailure, ServiceUnavailable, ExpiredToken and
 * InvalidClientTokenId mean the same thing in every service and are answered in each service's own words
 * (e.g. TooManyRequestsException from Organizations); the others belong to one service.
 */
export const FAULT_ERROR_CODES = [
  ...IAM_FAULT_CODES,
  'ExpiredToken',
  'InvalidClientTokenId',
  'RegionDisabledException',
  ...ORGANIZATIONS_FAULT_CODES,
] as const;

export type FaultErrorCode = (typeof FAULT_ERROR_CODES)[number];

const SHARED_FAULT_CODES: readonly FaultErrorCode[] = ['AccessDenied', 'Throttling', 'ServiceFailure', 'ServiceUnavailable', 'ExpiredToken', 'InvalidClientTokenId'];

/** The fault codes each service can answer. */
export const SERVICE_FAULT_CODES: Readonly<Record<SandboxService, readonly FaultErrorCode[]>> = {
  iam: [...IAM_FAULT_CODES, 'ExpiredToken', 'InvalidClientTokenId'],
  sts: [...SHARED_FAULT_CODES, 'ValidationError', 'RegionDisabledException'],
  organizations: [...SHARED_FAULT_CODES, 'InvalidInput', ...ORGANIZATIONS_FAULT_CODES],
  // Throttling is answered as LimitExceededException (429), ServiceFailure/ServiceUnavailable as InternalException.
  securityhub: [...SHARED_FAULT_CODES, 'AccessDeniedException'],
};

const ALL_OPERATIONS = [...SANDBOX_OPERATIONS, ...STS_OPERATIONS, ...ORGANIZATIONS_OPERATIONS, ...SECURITYHUB_OPERATIONS] as const;

export const FaultRuleSchema = z
  .strictObject({
    /** An operation name, or `*` for all (of `service` when given). */
    operation: z.union([z.literal('*'), z.enum(ALL_OPERATIONS)]),
    /** Only calls to this service; `{ service: 'iam', operation: '*' }` is every IAM call. */
    service: z.enum(['iam', 'sts', 'organizations', 'securityhub']).optional(),
    /**
     * Only calls acting in this account: the credentials' account for IAM, GetCallerIdentity and Organizations,
     * the role's account for AssumeRole.
     */
    accountId: z.string().regex(/^\d{12}$/, { message: 'account id must be 12 digits' }).optional(),
    /** Only calls about this user (UserName parameter, or the owner of AccessKeyId); case-insensitive like IAM names. */
    userName: z.string().min(1).optional(),
    latencyMs: z.number().int().min(0).max(120_000).optional(),
    /** Probability (0..1) of answering Throttling (400). */
    throttleRate: z.number().min(0).max(1).optional(),
    /** Probability (0..1) of answering ServiceFailure (500). */
    errorRate: z.number().min(0).max(1).optional(),
    /** Always answer this error code. */
    error: z.enum(FAULT_ERROR_CODES).optional(),
    /** Message for `error` (default: IAM-like text). */
    message: z.string().optional(),
    /** Apply the rule only to the first N matching calls. */
    times: z.number().int().min(1).optional(),
  })
  .refine(
    (r) => r.latencyMs !== undefined || r.throttleRate !== undefined || r.errorRate !== undefined || r.error !== undefined,
    { message: 'a fault rule needs at least one of latencyMs, throttleRate, errorRate, error' },
  )
  .superRefine((r, ctx) => {
    const opService = r.operation === '*' ? undefined : serviceOfOperation(r.operation);
    if (opService !== undefined && r.service !== undefined && opService !== r.service) {
      ctx.addIssue({ code: 'custom', path: ['operation'], message: `${r.operation} is not an operation of ${r.service}` });
    }
    // A rule about one service must use an error that service has; a `*` rule's error applies where it exists.
    const service = opService ?? r.service;
    if (service !== undefined && r.error !== undefined && !SERVICE_FAULT_CODES[service].includes(r.error)) {
      ctx.addIssue({
        code: 'custom',
        path: ['error'],
        message: `${r.error} is not an error of ${service}: use one of ${SERVICE_FAULT_CODES[service].join(', ')}`,
      });
    }
  });

export const FaultRulesSchema = z.array(FaultRuleSchema);

export type FaultRuleInput = z.input<typeof FaultRuleSchema>;
export type FaultRule = z.output<typeof FaultRuleSchema>;

/** mulberry32: tiny, seedable, good enough for fault sampling. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a call is, for matching fault rules. */
export interface FaultCall {
  service: SandboxService;
  operation: string;
  /** The account the call acts in (see FaultRuleSchema.accountId). */
  accountId?: string | undefined;
  /** The IAM user the call is about. */
  userName?: string | undefined;
}

/** Turns a fault code into the service's own error, or undefined when the service has no such error. */
export type FaultErrorFactory<E> = (code: FaultErrorCode, message: string | undefined) => E | undefined;

export interface FaultDecision<E> {
  latencyMs: number;
  error?: E;
}

/** Evaluates fault rules in order. Latencies of all matching rules add up; the first error wins. */
export class FaultEngine {
  private rules: FaultRule[] = [];
  private matched: number[] = [];
  private random: () => number;

  constructor(rules: readonly FaultRule[], seed: number) {
    this.random = seededRandom(seed);
    this.setRules(rules);
  }

  /** Replaces the rules and resets their `times` counters. */
  setRules(rules: readonly FaultRule[]): void {
    this.rules = rules.map((r) => ({ ...r }));
    this.matched = this.rules.map(() => 0);
  }

  getRules(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  evaluate<E>(call: FaultCall, toError: FaultErrorFactory<E>): FaultDecision<E> {
    let latencyMs = 0;
    let error: E | undefined;
    const subject = call.userName?.toLowerCase();
    this.rules.forEach((rule, i) => {
      if (rule.operation !== '*' && rule.operation !== call.operation) return;
      if (rule.service !== undefined && rule.service !== call.service) return;
      if (rule.accountId !== undefined && rule.accountId !== call.accountId) return;
      if (rule.userName !== undefined && rule.userName.toLowerCase() !== subject) return;
      if (rule.times !== undefined && this.matched[i]! >= rule.times) return;
      this.matched[i]! += 1;
      latencyMs += rule.latencyMs ?? 0;
      if (error !== undefined) return;
      if (rule.error) {
        error = toError(rule.error, rule.message);
      } else if (rule.throttleRate !== undefined && this.random() < rule.throttleRate) {
        error = toError('Throttling', rule.message ?? 'Rate exceeded');
      } else if (rule.errorRate !== undefined && this.random() < rule.errorRate) {
        error = toError('ServiceFailure', rule.message);
      }
    });
    return error !== undefined ? { latencyMs, error } : { latencyMs };
  }
}

export interface SandboxCallCounts {
  /** Every API request (POST/GET `/`), whatever its outcome. */
  total: number;
  /** Requests that got an error answer. */
  failed: number;
  /** All requests per Action, including failed and throttled ones. */
  byOperation: Record<string, number>;
  succeededByOperation: Record<string, number>;
  failedByOperation: Record<string, number>;
}

export class CallCounter {
  private counts: SandboxCallCounts = CallCounter.empty();

  private static empty(): SandboxCallCounts {
    return { total: 0, failed: 0, byOperation: {}, succeededByOperation: {}, failedByOperation: {} };
  }

  record(operation: string, ok: boolean): void {
    const c = this.counts;
    c.total += 1;
    c.byOperation[operation] = (c.byOperation[operation] ?? 0) + 1;
    const bucket = ok ? c.succeededByOperation : c.failedByOperation;
    bucket[operation] = (bucket[operation] ?? 0) + 1;
    if (!ok) c.failed += 1;
  }

  snapshot(): SandboxCallCounts {
    const c = this.counts;
    return {
      total: c.total,
      failed: c.failed,
      byOperation: { ...c.byOperation },
      succeededByOperation: { ...c.succeededByOperation },
      failedByOperation: { ...c.failedByOperation },
    };
  }

  reset(): void {
    this.counts = CallCounter.empty();
  }
}

/** Call counts in total and per account (the account a call acts in; see FaultRuleSchema.accountId). */
export class AccountCallCounters {
  private readonly all = new CallCounter();
  private readonly accounts = new Map<string, CallCounter>();

  /** `accountId` undefined: the call was refused before an account was known (e.g. an unknown access key). */
  record(accountId: string | undefined, operation: string, ok: boolean): void {
    this.all.record(operation, ok);
    if (accountId === undefined) return;
    let counter = this.accounts.get(accountId);
    if (!counter) this.accounts.set(accountId, (counter = new CallCounter()));
    counter.record(operation, ok);
  }

  /** All calls, or the calls acting in one account. */
  snapshot(accountId?: string): SandboxCallCounts {
    if (accountId === undefined) return this.all.snapshot();
    return (this.accounts.get(accountId) ?? new CallCounter()).snapshot();
  }

  reset(): void {
    this.all.reset();
    this.accounts.clear();
  }
}
