import { parse } from 'csv-parse/sync';

/** One row of the IAM credential report; sentinels (N/A, no_information, not_supported) become null. */
export interface CredentialReportRow {
  user: string;
  arn: string;
  userCreationTime: Date | null;
  /** Null for root, whose column is always `not_supported`. */
  passwordEnabled: boolean | null;
  passwordLastUsed: Date | null;
  mfaActive: boolean | null;
  accessKeys: [CredentialReportKeySlot, CredentialReportKeySlot];
}

export interface CredentialReportKeySlot {
  active: boolean;
  /** When the key was created or last changed; the report carries no key id. */
  lastRotated: Date | null;
  lastUsedDate: Date | null;
  lastUsedRegion: string | null;
  lastUsedService: string | null;
}

export class CredentialReportParseError extends Error {
  override name = 'CredentialReportParseError';
}

export const CREDENTIAL_REPORT_COLUMNS = [
  'user', 'arn', 'user_creation_time', 'password_enabled', 'password_last_used', 'password_last_changed',
  'password_next_rotation', 'mfa_active',
  'access_key_1_active', 'access_key_1_last_rotated', 'access_key_1_last_used_date', 'access_key_1_last_used_region', 'access_key_1_last_used_service',
  'access_key_2_active', 'access_key_2_last_rotated', 'access_key_2_last_used_date', 'access_key_2_last_used_region', 'access_key_2_last_used_service',
  'cert_1_active', 'cert_1_last_rotated', 'cert_2_active', 'cert_2_last_rotated',
] as const;

const SENTINELS = new Set(['n/a', 'no_information', 'not_supported', '']);

/**
 * Parses the report with a real CSV parser: IAM user names may contain commas, and tools that split
 * on `,` by hand misalign every column after such a name. Columns are read by header name, so
 * extra columns that AWS may add later are tolerated; a missing one is an error.
 */
export function parseCredentialReport(content: string | Uint8Array): CredentialReportRow[] {
  const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: false, bom: true });
  } catch (err) {
    throw new CredentialReportParseError(`credential report is not valid CSV: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new CredentialReportParseError('credential report has no rows');
  const missing = CREDENTIAL_REPORT_COLUMNS.filter((c) => !(c in records[0]));
  if (missing.length > 0) throw new CredentialReportParseError(`credential report lacks columns: ${missing.join(', ')}`);

  return records.map((r, i) => {
    const line = i + 2;
    if (!r.user || !r.arn) throw new CredentialReportParseError(`credential report line ${line}: empty user or arn`);
    return {
      user: r.user,
      arn: r.arn,
      userCreationTime: time(r.user_creation_time, line, 'user_creation_time'),
      passwordEnabled: bool(r.password_enabled, line, 'password_enabled'),
      passwordLastUsed: time(r.password_last_used, line, 'password_last_used'),
      mfaActive: bool(r.mfa_active, line, 'mfa_active'),
      accessKeys: [slot(r, 1, line), slot(r, 2, line)],
    };
  });
}

function slot(r: Record<string, string>, n: 1 | 2, line: number): CredentialReportKeySlot {
  const col = (c: string) => `access_key_${n}_${c}`;
  return {
    active: bool(r[col('active')], line, col('active')) ?? false,
    lastRotated: time(r[col('last_rotated')], line, col('last_rotated')),
    lastUsedDate: time(r[col('last_used_date')], line, col('last_used_date')),
    lastUsedRegion: text(r[col('last_used_region')]),
    lastUsedService: text(r[col('last_used_service')]),
  };
}

function text(v: string | undefined): string | null {
  return v === undefined || SENTINELS.has(v.toLowerCase()) ? null : v;
}

// The docs write TRUE/FALSE, real reports write true/false: compare without case.
function bool(v: string | undefined, line: number, column: string): boolean | null {
  const t = text(v);
  if (t === null) return null;
  const lower = t.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new CredentialReportParseError(`credential report line ${line}: ${column} is not a boolean: ${JSON.stringify(v)}`);
}

function time(v: string | undefined, line: number, column: string): Date | null {
  const t = text(v);
  if (t === null) return null;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) {
    throw new CredentialReportParseError(`credential report line ${line}: ${column} is not a timestamp: ${JSON.stringify(v)}`);
  }
  return d;
}
