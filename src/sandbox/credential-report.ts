/**
 * Credential report CSV, as IAM's GetCredentialReport returns it (base64 of this text).
 * Format: the AWS IAM User Guide, "Getting credential reports for your AWS account" (22 columns, root row first).
 */
import type { SandboxAccessKey, SandboxRoot, SandboxUserRecord } from './fixture';

export const CREDENTIAL_REPORT_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'password_next_rotation',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_1_last_used_region',
  'access_key_1_last_used_service',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
  'access_key_2_last_used_region',
  'access_key_2_last_used_service',
  'cert_1_active',
  'cert_1_last_rotated',
  'cert_2_active',
  'cert_2_last_rotated',
] as const;

/** Report timestamps look like `2022-04-17T14:59:38+00:00` (not the `Z` form the XML API uses). */
export const formatReportTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, '+00:00');

/** RFC 4180: quote fields containing a comma, quote, CR or LF; double embedded quotes. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const bool = (b: boolean): string => (b ? 'true' : 'false');

function keyColumns(key: SandboxAccessKey | undefined): string[] {
  if (!key) return ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
  return [
    bool(key.status === 'Active'),
    // last_rotated is the key's CreateDate, also for an Inactive key (it is how tools map slots to key ids).
    formatReportTime(key.createdAt),
    key.lastUsed ? formatReportTime(key.lastUsed.date) : 'N/A',
    key.lastUsed ? key.lastUsed.region : 'N/A',
    key.lastUsed ? key.lastUsed.serviceName : 'N/A',
  ];
}

const NO_CERTS = ['false', 'N/A', 'false', 'N/A'];

export interface CredentialReportInput {
  accountId: string;
  accountCreatedAt: Date;
  root: SandboxRoot;
  /** In the order the rows should appear. */
  users: Iterable<SandboxUserRecord>;
  userArn: (u: SandboxUserRecord) => string;
}

export function buildCredentialReportCsv(input: CredentialReportInput): string {
  const { root } = input;
  const rows: string[] = [CREDENTIAL_REPORT_COLUMNS.join(',')];
  const rootRow = [
    '<root_account>',
    `arn:aws:iam::${input.accountId}:root`,
    formatReportTime(input.accountCreatedAt),
    'not_supported', // root password_enabled is always not_supported
    root.passwordLastUsed ? formatReportTime(root.passwordLastUsed) : root.passwordEnabled ? 'no_information' : 'N/A',
    'not_supported',
    'not_supported',
    bool(root.mfaActive),
    ...keyColumns(root.accessKeys[0]),
    ...keyColumns(root.accessKeys[1]),
    ...NO_CERTS,
  ];
  rows.push(rootRow.map(csvField).join(','));
  for (const u of input.users) {
    const hasPassword = u.loginProfile !== null;
    const row = [
      u.userName,
      input.userArn(u),
      formatReportTime(u.createdAt),
      bool(hasPassword),
      !hasPassword ? 'N/A' : u.passwordLastUsed ? formatReportTime(u.passwordLastUsed) : 'no_information',
      hasPassword ? formatReportTime(u.loginProfile!.createdAt) : 'N/A',
      'N/A', // no password policy with expiry is modelled
      bool(u.mfaActive),
      ...keyColumns(u.accessKeys[0]),
      ...keyColumns(u.accessKeys[1]),
      ...NO_CERTS,
    ];
    rows.push(row.map(csvField).join(','));
  }
  // LF line ends, no trailing newline.
  return rows.join('\n');
}
