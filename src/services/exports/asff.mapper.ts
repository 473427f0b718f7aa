/**
 * A finding in the AWS Security Finding Format, as BatchImportFindings accepts it: the export's `asff` format
 * and the Security Hub push share this mapper. Typed with the SDK's own AwsSecurityFinding, and checked in
 * tests against a JSON Schema derived from the Security Hub service model (test/data/securityhub-asff.schema.json).
 */
import type { AwsSecurityFinding, Resource } from '@aws-sdk/client-securityhub';
import type { ComplianceStatus } from '../../domain/finding';
import { perControl, type ExportRecord } from './export-record';

export const ASFF_SCHEMA_VERSION = '2018-10-08';
/** The ASFF finding type taxonomy: namespace / category / classifier. */
export const ASFF_FINDING_TYPE = 'Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark';
export const ASFF_PRODUCT_NAME = 'Keywarden';
export const ASFF_COMPANY_NAME = 'Keywarden';
/** AWS's guide to managing access keys: what a reader of the finding needs to act on it. */
export const ASFF_REMEDIATION_URL = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html';

// Length limits the Security Hub API reference gives (and the service enforces); the model only documents them.
const MAX_TITLE = 256;
const MAX_DESCRIPTION = 1024;
const MAX_RECOMMENDATION = 512;

export interface AsffOptions {
  /**
   * The account whose default product imports the finding (BatchImportFindings' caller). Default: the finding's
   * own account, `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`.
   */
  productAccountId?: string;
}

/** The product ARN of an account's default (custom integration) product in a region. */
export function defaultProductArn(partition: string, region: string, accountId: string): string {
  return `arn:${partition}:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

/**
 * PASS is PASSED; FAIL and EXCEPTED are FAILED (an exception suppresses the finding, its Workflow says so; the
 * check still fails); NOT_APPLICABLE is NOT_AVAILABLE, as Security Hub files a Config NOT_APPLICABLE result; ERROR
 * (IAM could not be read) is WARNING, "some information is missing".
 */
export const ASFF_COMPLIANCE_STATUS: Record<ComplianceStatus, 'PASSED' | 'FAILED' | 'NOT_AVAILABLE' | 'WARNING'> = {
  PASS: 'PASSED',
  FAIL: 'FAILED',
  EXCEPTED: 'FAILED',
  NOT_APPLICABLE: 'NOT_AVAILABLE',
  ERROR: 'WARNING',
};

/**
 * Workflow and record state from the lifecycle: an open finding is NEW and ACTIVE; an excepted one SUPPRESSED
 * (and ACTIVE: the exception can end); any other resolved one (passed, remediated, key or user deleted, never
 * failed) RESOLVED and ARCHIVED.
 */
export function asffWorkflow(r: Pick<ExportRecord, 'state' | 'status' | 'resolution'>): { workflow: 'NEW' | 'RESOLVED' | 'SUPPRESSED'; record: 'ACTIVE' | 'ARCHIVED' } {
  if (r.state === 'OPEN') return { workflow: 'NEW', record: 'ACTIVE' };
  // Suppressed only while the exception is what resolves it: an excepted key since fixed or deleted is resolved.
  if (r.status === 'EXCEPTED' && r.resolution === 'EXCEPTED') return { workflow: 'SUPPRESSED', record: 'ACTIVE' };
  return { workflow: 'RESOLVED', record: 'ARCHIVED' };
}

export function toAsff(r: ExportRecord, options: AsffOptions = {}): AwsSecurityFinding {
  const productAccount = options.productAccountId ?? r.accountId;
  const { workflow, record } = asffWorkflow(r);
  const severity = { Label: r.severity, Original: r.control.severity.toUpperCase() };
  const subject = r.accessKey ? `access key ${r.accessKey.id} of IAM user ${r.user.name}` : `IAM user ${r.user.name}`;
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: r.identity,
    ProductArn: defaultProductArn(r.partition, r.region, productAccount),
    ProductName: ASFF_PRODUCT_NAME,
    CompanyName: ASFF_COMPANY_NAME,
    Region: r.region,
    GeneratorId: r.control.id,
    AwsAccountId: r.accountId,
    Types: [ASFF_FINDING_TYPE],
    FirstObservedAt: r.firstSeenAt.toISOString(),
    LastObservedAt: r.lastSeenAt.toISOString(),
    CreatedAt: r.firstSeenAt.toISOString(),
    UpdatedAt: r.updatedAt.toISOString(),
    Severity: severity,
    // Security Hub applies a provider's later severity and types from here; once a user or an automation rule
    // has changed the top-level ones (BatchUpdateFindings), the top-level ones of an import are ignored.
    FindingProviderFields: { Severity: severity, Types: [ASFF_FINDING_TYPE] },
    Title: clip(r.control.title, MAX_TITLE),
    Description: clip(`${r.status} for ${subject}: ${r.reasonTexts.join(' ')} ${r.control.description}`, MAX_DESCRIPTION),
    Remediation: { Recommendation: { Text: clip(r.control.remediation, MAX_RECOMMENDATION), Url: ASFF_REMEDIATION_URL } },
    ProductFields: productFields(r),
    Resources: resources(r),
    Compliance: {
      Status: ASFF_COMPLIANCE_STATUS[r.status],
      RelatedRequirements: relatedRequirements(r.control),
      StatusReasons: r.reasons.map((code, i) => ({ ReasonCode: code, Description: r.reasonTexts[i] })),
    },
    Workflow: { Status: workflow },
    RecordState: record,
  };
}

const relatedRequirements = perControl((control) => control.mappings.map((m) => `${m.framework} ${m.version}/${m.requirementId}`));

function resources(r: ExportRecord): Resource[] {
  const user: Resource = {
    Type: 'AwsIamUser',
    Id: r.user.arn,
    Partition: r.partition as Resource['Partition'],
    Region: r.region,
    Details: {
      AwsIamUser: {
        UserName: r.user.name,
        ...(r.user.id ? { UserId: r.user.id } : {}),
        ...(r.user.createdAt ? { CreateDate: r.user.createdAt.toISOString() } : {}),
        Path: r.user.path,
      },
    },
  };
  if (!r.accessKey) return [user];
  const key = r.accessKey;
  return [
    user,
    {
      Type: 'AwsIamAccessKey',
      // Access keys have no ARN; their id is unique across AWS.
      Id: key.id,
      Partition: r.partition as Resource['Partition'],
      Region: r.region,
      Details: {
        AwsIamAccessKey: {
          AccessKeyId: key.id,
          AccountId: r.accountId,
          PrincipalName: r.user.name,
          PrincipalType: 'IAMUser',
          ...(r.user.id ? { PrincipalId: r.user.id } : {}),
          ...(key.status ? { Status: key.status } : {}),
          ...(key.createdAt ? { CreatedAt: key.createdAt.toISOString() } : {}),
        },
      },
    },
  ];
}

/** Keywarden's own fields (ProductFields: string values, at most 50): the lifecycle and the evidence a reviewer asks for. */
function productFields(r: ExportRecord): Record<string, string> {
  const e = r.evidence;
  const fields: Record<string, string | null | undefined> = {
    'keywarden/identity': r.identity,
    'keywarden/findingId': r.findingId,
    'keywarden/status': r.status,
    'keywarden/reasons': r.reasons.join(','),
    'keywarden/state': r.state,
    'keywarden/resolution': r.resolution,
    'keywarden/resolvedAt': r.resolvedAt?.toISOString(),
    'keywarden/reopenCount': String(r.reopenCount),
    'keywarden/scanId': r.scanId,
    'keywarden/evidence/passwordEnabled': e.passwordEnabled === null || e.passwordEnabled === undefined ? null : String(e.passwordEnabled),
    'keywarden/evidence/secondsFromUserCreationToKey': e.secondsFromUserCreationToKey == null ? null : String(e.secondsFromUserCreationToKey),
    'keywarden/evidence/setupWindowSeconds': String(e.setupWindowSeconds),
    'keywarden/evidence/gracePeriodSeconds': String(e.gracePeriodSeconds),
    'keywarden/evidence/accessKeyLastUsedAt': r.accessKey?.lastUsedAt?.toISOString(),
    'keywarden/evidence/accessKeyLastUsedService': r.accessKey?.lastUsedService,
    'keywarden/evidence/dataSource': e.dataSource,
    'keywarden/evidence/dataSourceAsOf': toIso(e.dataSourceAsOf),
    'keywarden/evidence/error': e.error,
    'keywarden/evidence/exceptionId': e.exceptionId,
  };
  // FieldMap values are NonEmptyString: absent rather than empty.
  return Object.fromEntries(Object.entries(fields).filter((kv): kv is [string, string] => typeof kv[1] === 'string' && /\S/.test(kv[1])));
}

const toIso = (d: Date | string | null | undefined): string | undefined => (d instanceof Date ? d.toISOString() : d ?? undefined);

/** At most `max` characters (UTF-16 units, as the service counts them), an ellipsis marking a cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
