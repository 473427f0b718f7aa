/**
 * One export record per stored finding: everything every export format says about it, built in one place
 * so OCSF, ASFF, CSV and JSONL carry the same data. Each format's mapper reads only this.
 */
import type { ControlMetadata } from '../../controls/no-access-keys-at-setup/control.metadata';
import { controlById } from '../../controls/registry';
import type { ComplianceStatus, FindingEvidence, FindingReason } from '../../domain/finding';
import type { FindingState, Resolution } from '../../domain/lifecycle';
import { findingSeverity, type FindingSeverity } from '../../domain/severity';
import type { FindingView } from '../findings.service';

export interface ExportRecord {
  /** The stable finding identity (account/control/user id/key): the same finding keeps it across scans and exports. */
  identity: string;
  /** Keywarden's row id of the finding (the GraphQL Finding id decodes to it). */
  findingId: string;
  accountId: string;
  /** AWS partition, from the user's ARN (`aws`, `aws-cn`, `aws-us-gov`). */
  partition: string;
  /** IAM is global: the region the export is filed under (KEYWARDEN_EXPORT_REGION), as Security Hub files IAM findings. */
  region: string;
  control: ControlMetadata;
  severity: FindingSeverity;
  status: ComplianceStatus;
  reasons: FindingReason[];
  /** The reasons as sentences, in the order of `reasons`. */
  reasonTexts: string[];
  state: FindingState;
  resolution: Resolution | null;
  resolvedAt: Date | null;
  reopenCount: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** When this record last changed: the later of lastSeenAt and resolvedAt (Security Hub ignores an older UpdatedAt). */
  updatedAt: Date;
  /** The scan that last observed it. */
  scanId: string;
  user: {
    name: string;
    arn: string;
    /** IAM's user id (AIDA…); null for the root account and findings stored before ids were kept. */
    id: string | null;
    /** `/service/` in arn:aws:iam::123456789012:user/service/deployer. */
    path: string;
    createdAt: Date | null;
    passwordEnabled: boolean | null;
    passwordLastUsedAt: Date | null;
  };
  /** The access key the finding is about; null for a user-level finding (no keys, no console password, unreadable user). */
  accessKey: {
    id: string;
    status: 'Active' | 'Inactive' | null;
    createdAt: Date | null;
    lastUsedAt: Date | null;
    lastUsedService: string | null;
    lastUsedRegion: string | null;
  } | null;
  evidence: FindingEvidence;
}

/** What each reason means, for formats that carry a human explanation (ASFF StatusReasons, OCSF status_detail). */
export const REASON_TEXT: Record<FindingReason, string> = {
  CREATED_AT_SETUP: 'The access key was created during the initial setup of a user who has a console password.',
  NEVER_USED: 'The access key has never been used and is older than the grace period.',
  KEY_INACTIVE: 'The access key is inactive.',
  CREATED_AFTER_SETUP_AND_USED: 'The access key was created after the initial setup and has been used.',
  NOT_USED_WITHIN_GRACE_PERIOD: 'The access key has not been used yet but is still within the grace period.',
  NO_ACCESS_KEYS: 'The user has a console password and no access keys.',
  NO_CONSOLE_PASSWORD: 'The user has no console password: the control does not apply.',
  ROOT_ACCOUNT: 'The root user is out of scope of this control.',
  USER_UNREADABLE: 'The user could not be read from IAM, so the control could not be evaluated.',
  ACCESS_KEY_UNREADABLE: 'The access key could not be read from IAM, so the control could not be evaluated.',
};

export interface ExportSettings {
  /** The region findings are filed under (IAM has none of its own). */
  region: string;
}

export const DEFAULT_EXPORT_REGION = 'us-east-1';

/** The export record of a stored finding. A finding of a control this build does not know is a bug, not input. */
export function toExportRecord(f: FindingView, settings: ExportSettings): ExportRecord {
  const control = controlById(f.controlId);
  if (!control) throw new Error(`finding ${f.identity} names control ${f.controlId}, which this build does not define`);
  const e = f.evidence;
  const keyId = f.accessKeyId ?? e.accessKeyId;
  return {
    identity: f.identity,
    findingId: f.localId,
    accountId: f.accountId,
    partition: arnPartition(f.userArn),
    region: settings.region,
    control,
    severity: findingSeverity(f.status, control),
    status: f.status,
    reasons: f.reasons,
    reasonTexts: f.reasons.map((r) => REASON_TEXT[r] ?? r),
    state: f.state,
    resolution: f.resolution,
    resolvedAt: f.resolvedAt,
    reopenCount: f.reopenCount,
    firstSeenAt: f.firstSeenAt,
    lastSeenAt: f.lastSeenAt,
    updatedAt: f.resolvedAt && f.resolvedAt > f.lastSeenAt ? f.resolvedAt : f.lastSeenAt,
    scanId: f.scanId,
    user: {
      name: f.userName,
      arn: f.userArn,
      id: f.userId,
      path: userPath(f.userArn),
      createdAt: e.userCreatedAt ?? null,
      passwordEnabled: e.passwordEnabled ?? null,
      passwordLastUsedAt: e.passwordLastUsedAt ?? null,
    },
    accessKey: keyId
      ? {
          id: keyId,
          status: e.accessKeyStatus === 'Active' || e.accessKeyStatus === 'Inactive' ? e.accessKeyStatus : null,
          createdAt: e.accessKeyCreatedAt ?? null,
          lastUsedAt: e.accessKeyLastUsedAt ?? null,
          lastUsedService: usable(e.accessKeyLastUsedService),
          lastUsedRegion: usable(e.accessKeyLastUsedRegion),
        }
      : null,
    evidence: e,
  };
}

/**
 * `derive` memoised per control: what is the same for every finding of a control (its requirement lists) is built
 * once, not once per exported finding. Arrays come back frozen, since every record of the control shares them.
 */
export function perControl<T>(derive: (control: ControlMetadata) => T): (control: ControlMetadata) => T {
  const cache = new WeakMap<ControlMetadata, T>();
  return (control) => {
    let value = cache.get(control);
    if (value === undefined) {
      value = derive(control);
      if (Array.isArray(value)) Object.freeze(value);
      cache.set(control, value);
    }
    return value;
  };
}

// IAM reports "N/A" for the service and region of a key never used (and for S3's global calls).
const usable = (v: string | null | undefined): string | null => (v && v !== 'N/A' ? v : null);

/** `aws` in arn:aws:iam::…; an ARN that does not parse (the root account's is `arn:aws:iam::<id>:root`) still has one. */
export function arnPartition(arn: string): string {
  const m = /^arn:([a-z-]+):/.exec(arn);
  return m ? m[1] : 'aws';
}

/** The path part of a user ARN (`/` when none). */
export function userPath(arn: string): string {
  const m = /:user(\/.*\/)[^/]+$/.exec(arn);
  return m ? m[1] : '/';
}
