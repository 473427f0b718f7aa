/**
 * A finding as one CSV row (RFC 4180, through csv-stringify). The columns are documented in the README
 * ("Exports"); their order is part of the format. Cells a spreadsheet would run as a formula are neutralised.
 */
import { stringify } from 'csv-stringify/sync';
import { isoInstant } from '../../graphql/common/iso-instant';
import type { ExportRecord } from './export-record';

// isoInstant: toISOString, about five times faster (ten instants a row).
const iso = (d: Date | null | undefined): string => (d ? isoInstant(d) : '');
const text = (v: string | number | boolean | null | undefined): string => (v === null || v === undefined ? '' : String(v));

/** Column name and how a record fills it. */
export const CSV_COLUMNS: readonly (readonly [string, (r: ExportRecord) => string])[] = [
  ['identity', (r) => r.identity],
  ['finding_id', (r) => r.findingId],
  ['account_id', (r) => r.accountId],
  ['partition', (r) => r.partition],
  ['region', (r) => r.region],
  ['control_id', (r) => r.control.id],
  ['control_title', (r) => r.control.title],
  ['severity', (r) => r.severity],
  ['status', (r) => r.status],
  ['reasons', (r) => r.reasons.join(';')],
  ['state', (r) => r.state],
  ['resolution', (r) => text(r.resolution)],
  ['resolved_at', (r) => iso(r.resolvedAt)],
  ['reopen_count', (r) => String(r.reopenCount)],
  ['first_seen_at', (r) => iso(r.firstSeenAt)],
  ['last_seen_at', (r) => iso(r.lastSeenAt)],
  ['user_name', (r) => r.user.name],
  ['user_arn', (r) => r.user.arn],
  ['user_id', (r) => text(r.user.id)],
  ['user_created_at', (r) => iso(r.user.createdAt)],
  ['password_enabled', (r) => text(r.user.passwordEnabled)],
  ['password_last_used_at', (r) => iso(r.user.passwordLastUsedAt)],
  ['access_key_id', (r) => text(r.accessKey?.id)],
  ['access_key_status', (r) => text(r.accessKey?.status)],
  ['access_key_created_at', (r) => iso(r.accessKey?.createdAt)],
  ['access_key_last_used_at', (r) => iso(r.accessKey?.lastUsedAt)],
  ['access_key_last_used_service', (r) => text(r.accessKey?.lastUsedService)],
  ['access_key_last_used_region', (r) => text(r.accessKey?.lastUsedRegion)],
  ['seconds_from_user_creation_to_key', (r) => text(r.evidence.secondsFromUserCreationToKey)],
  ['setup_window_seconds', (r) => text(r.evidence.setupWindowSeconds)],
  ['grace_period_seconds', (r) => text(r.evidence.gracePeriodSeconds)],
  ['data_source', (r) => text(r.evidence.dataSource)],
  ['data_source_as_of', (r) => iso(asDate(r.evidence.dataSourceAsOf))],
  ['error', (r) => text(r.evidence.error)],
  ['exception_id', (r) => text(r.evidence.exceptionId)],
  ['exception_expires_at', (r) => iso(asDate(r.evidence.exceptionExpiresAt))],
  ['requirements', (r) => r.control.mappings.map((m) => `${m.framework} ${m.version} ${m.requirementId}`).join(';')],
  ['remediation', (r) => r.control.remediation],
];

export const CSV_HEADER = CSV_COLUMNS.map(([name]) => name);

const asDate = (v: Date | string | null | undefined): Date | null => (v instanceof Date ? v : typeof v === 'string' ? new Date(v) : null);

/**
 * OWASP's CSV injection advice: a cell beginning with = + - @ tab or CR is a formula to Excel, LibreOffice and
 * Google Sheets; a leading apostrophe makes it text. A user name or an IAM error message can begin so.
 */
export function neutralise(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

/** Rows for these records (the header first when asked), CRLF line ends as RFC 4180 writes them. */
export function toCsvRows(records: readonly ExportRecord[], header: boolean): string {
  const rows = records.map((r) => CSV_COLUMNS.map(([, cell]) => neutralise(cell(r))));
  return stringify(header ? [CSV_HEADER, ...rows] : rows, { record_delimiter: '\r\n' });
}
