/**
 * A finding as an OCSF Compliance Finding (class_uid 2003) of OCSF 1.8.0, the latest release (2026-03-18).
 * Checked in tests against test/data/ocsf-1.8.0-compliance_finding.schema.json, derived from ocsf/ocsf-schema
 * at tag 1.8.0 by scripts/ocsf-json-schema.mjs.
 */
import type { ComplianceStatus } from '../../domain/finding';
import type { FindingSeverity } from '../../domain/severity';
import { perControl, type ExportRecord } from './export-record';
import { ASFF_REMEDIATION_URL } from './asff.mapper';

export const OCSF_VERSION = '1.8.0';
const CATEGORY_UID = 2; // Findings
const CLASS_UID = 2003; // Compliance Finding
const PRODUCT = { name: 'Keywarden', vendor_name: 'Keywarden' } as const;

const SEVERITY_ID: Record<FindingSeverity, number> = { INFORMATIONAL: 1, LOW: 2, MEDIUM: 3, HIGH: 4, CRITICAL: 5 };
const SEVERITY_NAME: Record<FindingSeverity, string> = { INFORMATIONAL: 'Informational', LOW: 'Low', MEDIUM: 'Medium', HIGH: 'High', CRITICAL: 'Critical' };

/**
 * compliance.status_id: OCSF has Pass (1), Warning (2, "did not yield a result due to missing information") and
 * Fail (3). ERROR (IAM could not be read) is Warning; NOT_APPLICABLE has no OCSF value and is Other (99) with
 * compliance.status "Not Applicable"; EXCEPTED is Fail (the finding's own status_id says Suppressed).
 * compliance.status_code keeps Keywarden's status as it is.
 */
export const OCSF_COMPLIANCE_STATUS: Record<ComplianceStatus, { id: number; name: string }> = {
  PASS: { id: 1, name: 'Pass' },
  FAIL: { id: 3, name: 'Fail' },
  EXCEPTED: { id: 3, name: 'Fail' },
  ERROR: { id: 2, name: 'Warning' },
  NOT_APPLICABLE: { id: 99, name: 'Not Applicable' },
};

/** The finding's status_id from its lifecycle: OPEN is New (1); RESOLVED is Resolved (4), or Suppressed (3) when an exception resolved it. */
export function ocsfFindingStatus(r: Pick<ExportRecord, 'state' | 'status' | 'resolution'>): { id: number; name: string } {
  if (r.state === 'OPEN') return { id: 1, name: 'New' };
  // Suppressed only while the exception is what resolves it: an excepted key since fixed or deleted is resolved.
  if (r.status === 'EXCEPTED' && r.resolution === 'EXCEPTED') return { id: 3, name: 'Suppressed' };
  return { id: 4, name: 'Resolved' };
}

/** activity_id: Create (1) for an open finding, Update (2) for one reopened, Close (3) for any other (resolved, or never open). */
function activity(r: ExportRecord): { id: number; name: string } {
  if (r.state !== 'OPEN') return { id: 3, name: 'Close' };
  return r.reopenCount > 0 ? { id: 2, name: 'Update' } : { id: 1, name: 'Create' };
}

const standards = perControl((control) => [...new Set(control.mappings.map((m) => `${m.framework} ${m.version}`))]);
const requirements = perControl((control) => control.mappings.map((m) => `${m.framework} ${m.version} ${m.requirementId}`));

const ms = (d: Date | null | undefined): number | undefined => (d ? d.getTime() : undefined);

export function toOcsf(r: ExportRecord, productVersion: string): Record<string, unknown> {
  const act = activity(r);
  const status = ocsfFindingStatus(r);
  const compliance = OCSF_COMPLIANCE_STATUS[r.status];
  const subject = r.accessKey ? `access key ${r.accessKey.id} of IAM user ${r.user.name}` : `IAM user ${r.user.name}`;
  return {
    activity_id: act.id,
    activity_name: act.name,
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    class_uid: CLASS_UID,
    class_name: 'Compliance Finding',
    type_uid: CLASS_UID * 100 + act.id,
    type_name: `Compliance Finding: ${act.name}`,
    severity_id: SEVERITY_ID[r.severity],
    severity: SEVERITY_NAME[r.severity],
    status_id: status.id,
    status: status.name,
    status_code: r.status,
    status_detail: r.reasonTexts.join(' '),
    time: r.lastSeenAt.getTime(),
    message: `${r.status}: ${subject}: ${r.control.title}`,
    metadata: {
      version: OCSF_VERSION,
      product: { ...PRODUCT, version: productVersion },
      profiles: ['cloud'],
      uid: r.findingId,
      event_code: r.control.id,
      modified_time: r.updatedAt.getTime(),
    },
    cloud: {
      provider: 'AWS',
      region: r.region,
      cloud_partition: r.partition,
      account: { uid: r.accountId, type: 'AWS Account', type_id: 10 },
    },
    finding_info: {
      uid: r.identity,
      title: r.control.title,
      desc: r.control.description,
      types: ['Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark'],
      created_time: r.firstSeenAt.getTime(),
      first_seen_time: r.firstSeenAt.getTime(),
      last_seen_time: r.lastSeenAt.getTime(),
      modified_time: r.updatedAt.getTime(),
      product: { ...PRODUCT, version: productVersion },
    },
    compliance: {
      control: r.control.id,
      desc: r.control.description,
      standards: standards(r.control),
      requirements: requirements(r.control),
      status_id: compliance.id,
      status: compliance.name,
      status_code: r.status,
      status_detail: r.reasonTexts.join(' '),
      status_details: r.reasons,
    },
    resources: resources(r),
    remediation: { desc: r.control.remediation, references: [ASFF_REMEDIATION_URL] },
    // The evidence as stored (the GraphQL FindingEvidence); its instants serialise as ISO 8601 strings.
    evidences: [{ name: 'iam', data: r.evidence, user: { name: r.user.name, uid: r.user.arn, type: 'User', type_id: 1 } }],
    unmapped: {
      keywarden: { state: r.state, resolution: r.resolution, resolved_time: ms(r.resolvedAt) ?? null, reopen_count: r.reopenCount, scan_id: r.scanId, reasons: r.reasons },
    },
  };
}

function resources(r: ExportRecord): Record<string, unknown>[] {
  const user = {
    type: 'AWS::IAM::User',
    uid: r.user.arn,
    name: r.user.name,
    cloud_partition: r.partition,
    region: r.region,
    ...(r.user.createdAt ? { created_time: r.user.createdAt.getTime() } : {}),
    data: { user_id: r.user.id, path: r.user.path, password_enabled: r.user.passwordEnabled, password_last_used_time: ms(r.user.passwordLastUsedAt) ?? null },
  };
  if (!r.accessKey) return [user];
  const k = r.accessKey;
  return [
    user,
    {
      type: 'AWS::IAM::AccessKey',
      uid: k.id,
      name: k.id,
      cloud_partition: r.partition,
      region: r.region,
      ...(k.createdAt ? { created_time: k.createdAt.getTime() } : {}),
      data: { status: k.status, user_arn: r.user.arn, last_used_time: ms(k.lastUsedAt) ?? null, last_used_service: k.lastUsedService, last_used_region: k.lastUsedRegion },
    },
  ];
}

