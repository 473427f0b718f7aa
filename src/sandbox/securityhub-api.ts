/**
 * Security Hub in the sandbox (REST-JSON, 2018-10-26): BatchImportFindings (POST /findings/import) and
 * GetFindings (POST /findings), enough for the push and its tests. Findings are kept per account by Id and a
 * re-import updates one in place, as Security Hub does. Each finding is checked against the JSON Schema derived
 * from the Security Hub service model (test/data/securityhub-asff.schema.json, scripts/asff-json-schema.mjs) and
 * against the rule for the default product: the caller's account must be the finding's AwsAccountId and own its
 * ProductArn. An invalid finding is answered in FailedFindings with an ErrorCode and ErrorMessage, as the service
 * does; the others are imported.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';

import { SECURITYHUB_OPERATIONS, type SecurityHubOperation } from './faults';

export { SECURITYHUB_OPERATIONS, type SecurityHubOperation };

/** The routes of the REST-JSON protocol, by `METHOD path`, as the SDK sends them. */
export const SECURITYHUB_ROUTES: Readonly<Record<string, SecurityHubOperation>> = {
  'POST /findings/import': 'BatchImportFindings',
  'PATCH /findings/batchupdate': 'BatchUpdateFindings',
  'POST /findings': 'GetFindings',
};

const MAX_IMPORT = 100;

/** Security Hub's modeled errors, with their HTTP status. */
const STATUS = {
  InternalException: 500,
  InvalidAccessException: 401,
  InvalidInputException: 400,
  LimitExceededException: 429,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
} as const;
export type SecurityHubErrorCode = keyof typeof STATUS;

export class SecurityHubError extends Error {
  readonly status: number;
  constructor(
    readonly code: SecurityHubErrorCode,
    message: string,
  ) {
    super(message);
    this.status = STATUS[code];
  }

  toJSON(): Record<string, string> {
    return { Code: this.code, Message: this.message, __type: this.code };
  }
}

/** A fault code of a rule, in Security Hub's words (Throttling is LimitExceededException, a 429, as the service answers). */
export function securityHubFaultError(code: string, message: string | undefined): SecurityHubError | undefined {
  switch (code) {
    case 'Throttling':
      return new SecurityHubError('LimitExceededException', message ?? 'Rate exceeded');
    case 'ServiceFailure':
    case 'ServiceUnavailable':
      return new SecurityHubError('InternalException', message ?? 'Internal service failure');
    case 'AccessDenied':
    case 'AccessDeniedException':
      return new SecurityHubError('AccessDeniedException', message ?? 'not authorized to perform securityhub:BatchImportFindings');
    case 'InvalidClientTokenId':
    case 'ExpiredToken':
      return new SecurityHubError('InvalidAccessException', message ?? 'The security token included in the request is invalid');
    default:
      return undefined;
  }
}

let validator: ValidateFunction | undefined;
let ajv: Ajv | undefined;

/** The schema lives with the tests that use it too; found from the package root, in src or in dist alike. */
function validateFinding(): ValidateFunction {
  if (validator) return validator;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const file = path.join(dir, 'test', 'data', 'securityhub-asff.schema.json');
  ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  validator = ajv.compile(JSON.parse(fs.readFileSync(file, 'utf8')));
  return validator;
}

export interface StoredFinding {
  finding: Record<string, unknown>;
  /** When the sandbox first and last imported it. */
  createdAt: Date;
  updatedAt: Date;
  imports: number;
}

/** One account's Security Hub: findings by Id, and which Ids imports must refuse (fault injection). */
export class SecurityHubState {
  readonly findings = new Map<string, StoredFinding>();
  /** The Ids of each BatchImportFindings request, in order (refused and invalid ones included). */
  readonly importLog: string[][] = [];
  /** Id → how many more imports of it are refused with this error. */
  private readonly refusals = new Map<string, { remaining: number; code: string; message: string }>();

  /** The next `times` imports of each of these Ids are answered in FailedFindings. */
  refuseFindings(ids: readonly string[], times = 1, code = 'InvalidInput', message = 'refused by a sandbox fault'): void {
    for (const id of ids) this.refusals.set(id, { remaining: times, code, message });
  }

  /** Findings as stored (copies). */
  list(): Record<string, unknown>[] {
    return [...this.findings.values()].map((s) => structuredClone(s.finding));
  }

  get(id: string): Record<string, unknown> | undefined {
    const s = this.findings.get(id);
    return s ? structuredClone(s.finding) : undefined;
  }

  takeRefusal(id: string): { code: string; message: string } | undefined {
    const r = this.refusals.get(id);
    if (!r) return undefined;
    r.remaining -= 1;
    if (r.remaining <= 0) this.refusals.delete(id);
    return { code: r.code, message: r.message };
  }
}

export interface BatchImportResult {
  FailedCount: number;
  SuccessCount: number;
  FailedFindings: { Id: string; ErrorCode: string; ErrorMessage: string }[];
}

export function batchImportFindings(input: Record<string, unknown>, callerAccountId: string, state: SecurityHubState, now: Date): BatchImportResult {
  const findings = input['Findings'];
  if (!Array.isArray(findings) || findings.length === 0) throw new SecurityHubError('InvalidInputException', 'Findings must be a list of 1 to 100 findings');
  if (findings.length > MAX_IMPORT) throw new SecurityHubError('InvalidInputException', `Findings: at most ${MAX_IMPORT} findings per request, got ${findings.length}`);
  const validate = validateFinding();
  state.importLog.push((findings as Record<string, unknown>[]).map((f) => String(f?.['Id'] ?? '')));
  const failed: BatchImportResult['FailedFindings'] = [];
  for (const f of findings as Record<string, unknown>[]) {
    const id = typeof f?.['Id'] === 'string' ? (f['Id'] as string) : '';
    if (!validate(f)) {
      failed.push({ Id: id, ErrorCode: 'InvalidInput', ErrorMessage: `Finding does not match the AwsSecurityFinding shape: ${ajv!.errorsText(validate.errors, { dataVar: 'Finding' })}` });
      continue;
    }
    const product = /^arn:[a-z-]+:securityhub:[a-z0-9-]+:(\d{12}):product\/(\d{12})\/default$/.exec(String(f['ProductArn']));
    if (!product || product[1] !== callerAccountId || product[2] !== callerAccountId) {
      failed.push({ Id: id, ErrorCode: 'AccessDeniedException', ErrorMessage: `Account ${callerAccountId} cannot import findings for product ${String(f['ProductArn'])}: only the account's own default product` });
      continue;
    }
    if (f['AwsAccountId'] !== callerAccountId) {
      failed.push({ Id: id, ErrorCode: 'AccessDeniedException', ErrorMessage: `With the default product ARN the AwsAccountId must be the caller's account ${callerAccountId}, got ${String(f['AwsAccountId'])}` });
      continue;
    }
    const refusal = state.takeRefusal(id);
    if (refusal) {
      failed.push({ Id: id, ErrorCode: refusal.code, ErrorMessage: refusal.message });
      continue;
    }
    const previous = state.findings.get(id);
    // As Security Hub does: an update whose UpdatedAt is older than the stored one is accepted and ignored.
    if (previous && Date.parse(String(f['UpdatedAt'])) < Date.parse(String(previous.finding['UpdatedAt']))) continue;
    const stored = structuredClone(f);
    if (previous) stored['Workflow'] = { Status: workflowAfterImport(previous.finding, f) };
    state.findings.set(id, { finding: stored, createdAt: previous?.createdAt ?? now, updatedAt: now, imports: (previous?.imports ?? 0) + 1 });
  }
  return { FailedCount: failed.length, SuccessCount: findings.length - failed.length, FailedFindings: failed };
}

/**
 * Workflow belongs to the customer once a finding exists: a provider's BatchImportFindings cannot change it, only
 * BatchUpdateFindings can. Security Hub moves it itself: NEW or NOTIFIED becomes RESOLVED when the record is
 * archived or the check passes; NOTIFIED or RESOLVED becomes NEW when an archived record is active again or a
 * passed check fails again (AWS Security Hub User Guide, "Workflow.Status").
 */
export function workflowAfterImport(previous: Record<string, any>, next: Record<string, any>): string {
  const current = String(previous['Workflow']?.Status ?? 'NEW');
  const archived = previous['RecordState'] !== 'ARCHIVED' && next['RecordState'] === 'ARCHIVED';
  const passed = previous['Compliance']?.Status !== 'PASSED' && next['Compliance']?.Status === 'PASSED';
  const reactivated = previous['RecordState'] === 'ARCHIVED' && next['RecordState'] !== 'ARCHIVED';
  const failedAgain = previous['Compliance']?.Status === 'PASSED' && ['FAILED', 'WARNING', 'NOT_AVAILABLE'].includes(next['Compliance']?.Status);
  if ((current === 'NEW' || current === 'NOTIFIED') && (archived || passed)) return 'RESOLVED';
  if ((current === 'NOTIFIED' || current === 'RESOLVED') && (reactivated || failedAgain)) return 'NEW';
  return current;
}

const WORKFLOW_STATUSES = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'];

/** BatchUpdateFindings, the customer's update: here only Workflow.Status, the one the push sets. */
export function batchUpdateFindings(input: Record<string, any>, callerAccountId: string, state: SecurityHubState) {
  const ids = input['FindingIdentifiers'];
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IMPORT) throw new SecurityHubError('InvalidInputException', 'FindingIdentifiers must be a list of 1 to 100 identifiers');
  const status = input['Workflow']?.Status;
  if (!WORKFLOW_STATUSES.includes(status)) throw new SecurityHubError('InvalidInputException', `Workflow.Status must be one of ${WORKFLOW_STATUSES.join(', ')}`);
  const processed: { Id: string; ProductArn: string }[] = [];
  const unprocessed: { FindingIdentifier: { Id: string; ProductArn: string }; ErrorCode: string; ErrorMessage: string }[] = [];
  for (const ident of ids as { Id: string; ProductArn: string }[]) {
    const stored = state.findings.get(ident.Id);
    if (!stored || stored.finding['ProductArn'] !== ident.ProductArn) {
      unprocessed.push({ FindingIdentifier: ident, ErrorCode: 'FindingNotFound', ErrorMessage: `no finding ${ident.Id} of ${ident.ProductArn} in account ${callerAccountId}` });
      continue;
    }
    stored.finding['Workflow'] = { Status: status };
    processed.push(ident);
  }
  return { ProcessedFindings: processed, UnprocessedFindings: unprocessed };
}

type StringFilter = { Value?: string; Comparison?: string }[];

/** GetFindings with the string filters a reader needs here (EQUALS / NOT_EQUALS on top-level and Workflow/Compliance fields). */
export function getFindings(input: Record<string, unknown>, state: SecurityHubState): { Findings: Record<string, unknown>[]; NextToken?: string } {
  const filters = (input['Filters'] ?? {}) as Record<string, StringFilter>;
  const field: Record<string, (f: Record<string, any>) => unknown> = {
    Id: (f) => f.Id,
    AwsAccountId: (f) => f.AwsAccountId,
    RecordState: (f) => f.RecordState,
    WorkflowStatus: (f) => f.Workflow?.Status,
    ComplianceStatus: (f) => f.Compliance?.Status,
    GeneratorId: (f) => f.GeneratorId,
    ProductArn: (f) => f.ProductArn,
  };
  for (const name of Object.keys(filters)) {
    if (!field[name]) throw new SecurityHubError('InvalidInputException', `the sandbox does not filter on ${name}: use one of ${Object.keys(field).join(', ')}`);
  }
  const matches = state.list().filter((f) =>
    Object.entries(filters).every(([name, conditions]) => {
      const value = field[name]!(f);
      const equals = conditions.filter((c) => (c.Comparison ?? 'EQUALS') === 'EQUALS');
      const notEquals = conditions.filter((c) => c.Comparison === 'NOT_EQUALS');
      return (equals.length === 0 || equals.some((c) => c.Value === value)) && notEquals.every((c) => c.Value !== value);
    }),
  );
  const max = Math.min(Number(input['MaxResults'] ?? 100), 100);
  const start = input['NextToken'] ? Number(Buffer.from(String(input['NextToken']), 'base64url').toString()) : 0;
  const page = matches.slice(start, start + max);
  return start + max < matches.length ? { Findings: page, NextToken: Buffer.from(String(start + max)).toString('base64url') } : { Findings: page };
}
