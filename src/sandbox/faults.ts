import { z } from 'zod';
import { IamError, type IamErrorCode } from './errors';

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

/** Codes a fault rule may force (protocol-level ones such as InvalidAction are left out). */
export const FAULT_ERROR_CODES = [
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

export type FaultErrorCode = (typeof FAULT_ERROR_CODES)[number];

export const FaultRuleSchema = z
  .strictObject({
    /** An operation name, or `*` for all. */
    operation: z.union([z.literal('*'), z.enum(SANDBOX_OPERATIONS)]),
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
  );

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

export interface FaultDecision {
  latencyMs: number;
  error?: IamError;
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

  evaluate(operation: string, subjectUser: string | undefined, errorMessage: (code: FaultErrorCode) => string | undefined): FaultDecision {
    let latencyMs = 0;
    let error: IamError | undefined;
    const subject = subjectUser?.toLowerCase();
    this.rules.forEach((rule, i) => {
      if (rule.operation !== '*' && rule.operation !== operation) return;
      if (rule.userName !== undefined && rule.userName.toLowerCase() !== subject) return;
      if (rule.times !== undefined && this.matched[i]! >= rule.times) return;
      this.matched[i]! += 1;
      latencyMs += rule.latencyMs ?? 0;
      if (error) return;
      if (rule.error) {
        error = new IamError(rule.error, rule.message ?? errorMessage(rule.error));
      } else if (rule.throttleRate !== undefined && this.random() < rule.throttleRate) {
        error = new IamError('Throttling', rule.message ?? 'Rate exceeded');
      } else if (rule.errorRate !== undefined && this.random() < rule.errorRate) {
        error = new IamError('ServiceFailure', rule.message);
      }
    });
    return error ? { latencyMs, error } : { latencyMs };
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
