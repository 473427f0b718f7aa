/**
 * A finding as one CSV row (RFC 4180). The columns are documented in the README ("Exports"); their order is part
 * of the format. Cells a spreadsheet would run as a formula are neutralised.
 *
 * Written here rather than through csv-stringify: its per-cell options, casts and tuples allocated about 20 KB a
 * finding, half of what a CSV export allocated. It also left a cell with a lone CR or LF unquoted once given a
 * record delimiter, and a reader then split the row there.
 */
import { isoInstant } from '../../graphql/common/iso-instant';
import { perControl, type ExportRecord } from './export-record';

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
  ['requirements', (r) => requirements(r.control)],
  ['remediation', (r) => r.control.remediation],
];

export const CSV_HEADER = CSV_COLUMNS.map(([name]) => name);

const requirements = perControl((control) => control.mappings.map((m) => `${m.framework} ${m.version} ${m.requirementId}`).join(';'));

const asDate = (v: Date | string | null | undefined): Date | null => (v instanceof Date ? v : typeof v === 'string' ? new Date(v) : null);

/**
 * OWASP's CSV injection advice: a cell beginning with = + - @ tab or CR is a formula to Excel, LibreOffice and
 * Google Sheets; a leading apostrophe makes it text. A user name or an IAM error message can begin so.
 */
export function neutralise(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

// Module constants: a regular expression literal is a new object each time it is evaluated, and these run for
// every cell of every row.
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;
const QUOTES = /"/g;

/** RFC 4180: a cell holding a comma, a quote or a line break (CR or LF alone too) is quoted, its quotes doubled. */
export function quote(cell: string): string {
  return NEEDS_QUOTES.test(cell) ? `"${cell.replace(QUOTES, '""')}"` : cell;
}

export const CRLF = '\r\n';
const CELLS = CSV_COLUMNS.map(([, cell]) => cell);

/** The header row, CRLF-terminated. */
export const CSV_HEADER_ROW = CSV_HEADER.map(quote).join(',') + CRLF;

/** One record's row, without its line end. */
export function toCsvLine(record: ExportRecord): string {
  const cells = new Array<string>(CELLS.length);
  for (let i = 0; i < CELLS.length; i++) cells[i] = quote(neutralise(CELLS[i](record)));
  return cells.join(',');
}

/** One record's row, CRLF-terminated. */
function toCsvRow(record: ExportRecord): string {
  return toCsvLine(record) + CRLF;
}

/** Rows for these records (the header first when asked), CRLF line ends as RFC 4180 writes them. */
export function toCsvRows(records: readonly ExportRecord[], header: boolean): string {
  return (header ? CSV_HEADER_ROW : '') + records.map(toCsvRow).join('');
}
