import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'csv-parse/sync';
import type { ComplianceStatus, FindingReason } from '../../../src/domain/finding';
import type { FindingState, Resolution } from '../../../src/domain/lifecycle';
import { toAsff } from '../../../src/services/exports/asff.mapper';
import { CSV_HEADER, neutralise, toCsvRows } from '../../../src/services/exports/csv.mapper';
import { toExportRecord } from '../../../src/services/exports/export-record';
import { KEYWARDEN_VERSION } from '../../../src/services/exports/exports.service';
import { toOcsf } from '../../../src/services/exports/ocsf.mapper';
import type { FindingView } from '../../../src/services/findings.service';

/**
 * Every status and lifecycle a finding can have, through every format: the mapping tables of the README
 * (compliance status, workflow, record state, OCSF status ids) and the committed schemas.
 */
const DATA = path.join(__dirname, '../../data');
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
const validOcsf = ajv.compile(JSON.parse(readFileSync(path.join(DATA, 'ocsf-1.8.0-compliance_finding.schema.json'), 'utf8')));
const validAsff = ajv.compile(JSON.parse(readFileSync(path.join(DATA, 'securityhub-asff.schema.json'), 'utf8')));

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-02-01T00:00:00.000Z');

function view(status: ComplianceStatus, state: FindingState, resolution: Resolution | null, reasons: FindingReason[], key = true): FindingView {
  return {
    localId: '6f1c1d3e-5b0a-4c53-9d1e-2f0b8f5c9a11',
    identity: `123456789012/iam-no-access-keys-at-initial-setup/AIDAEXAMPLE/${key ? 'AKIAEXAMPLE000000001' : '-'}`,
    controlId: 'iam-no-access-keys-at-initial-setup',
    status, reasons, state, resolution,
    userName: 'alice', userArn: 'arn:aws-us-gov:iam::123456789012:user/team/alice', userId: 'AIDAEXAMPLE',
    accessKeyId: key ? 'AKIAEXAMPLE000000001' : null, accountId: '123456789012',
    evidence: {
      userCreatedAt: T0, passwordEnabled: true, passwordLastUsedAt: T1, accessKeyId: key ? 'AKIAEXAMPLE000000001' : null,
      accessKeyStatus: key ? 'Active' : null, accessKeyCreatedAt: key ? T0 : null, accessKeyLastUsedAt: null, accessKeyLastUsedService: 'N/A',
      accessKeyLastUsedRegion: 'N/A', secondsFromUserCreationToKey: key ? 4 : null, setupWindowSeconds: 600, gracePeriodSeconds: 86400,
      dataSource: 'PER_USER_API', dataSourceAsOf: T1, evaluatedAt: T1, error: status === 'ERROR' ? '-AccessDenied: not authorized' : null,
      exceptionId: status === 'EXCEPTED' ? 'e0a0c8f4-0000-4000-8000-000000000001' : null,
    },
    resolvedAt: state === 'RESOLVED' && resolution ? T1 : null, reopenCount: 0, firstSeenAt: T0, lastSeenAt: T1, scanId: 'a3f5c1de-0000-4000-8000-000000000002',
  };
}

const CASES: [string, FindingView, { asff: [string, string, string]; ocsf: [number, number] }][] = [
  ['FAIL, open', view('FAIL', 'OPEN', null, ['CREATED_AT_SETUP', 'NEVER_USED']), { asff: ['FAILED', 'NEW', 'ACTIVE'], ocsf: [3, 1] }],
  ['ERROR, open', view('ERROR', 'OPEN', null, ['USER_UNREADABLE'], false), { asff: ['WARNING', 'NEW', 'ACTIVE'], ocsf: [2, 1] }],
  ['EXCEPTED', view('EXCEPTED', 'RESOLVED', 'EXCEPTED', ['CREATED_AT_SETUP']), { asff: ['FAILED', 'SUPPRESSED', 'ACTIVE'], ocsf: [3, 3] }],
  ['PASS, remediated', view('PASS', 'RESOLVED', 'REMEDIATED', ['KEY_INACTIVE']), { asff: ['PASSED', 'RESOLVED', 'ARCHIVED'], ocsf: [1, 4] }],
  ['NOT_APPLICABLE, never failed', view('NOT_APPLICABLE', 'RESOLVED', null, ['NO_CONSOLE_PASSWORD'], false), { asff: ['NOT_AVAILABLE', 'RESOLVED', 'ARCHIVED'], ocsf: [99, 4] }],
];

describe('export mappers, for every status and lifecycle', () => {
  it.each(CASES)('%s: ASFF compliance/workflow/record state and OCSF compliance/finding status as documented, both schema-valid', (_name, v, expected) => {
    const record = toExportRecord(v, { region: 'us-gov-west-1' });
    const asff = toAsff(record);
    expect([validAsff(asff), ajv.errorsText(validAsff.errors)]).toEqual([true, 'No errors']);
    expect([asff.Compliance!.Status, asff.Workflow!.Status, asff.RecordState]).toEqual(expected.asff);
    expect(asff.ProductArn).toBe('arn:aws-us-gov:securityhub:us-gov-west-1:123456789012:product/123456789012/default');
    expect(asff.Resources).toHaveLength(v.accessKeyId ? 2 : 1);
    const ocsf = toOcsf(record, KEYWARDEN_VERSION) as any;
    expect([validOcsf(ocsf), ajv.errorsText(validOcsf.errors)]).toEqual([true, 'No errors']);
    expect([ocsf.compliance.status_id, ocsf.status_id]).toEqual(expected.ocsf);
    expect(ocsf.finding_info.uid).toBe(v.identity);
  });

  it('ASFF text fields are cut to what Security Hub takes, the product account can be another', () => {
    const record = toExportRecord(view('FAIL', 'OPEN', null, ['CREATED_AT_SETUP']), { region: 'eu-west-1' });
    const long = { ...record, control: { ...record.control, description: 'd'.repeat(5000), remediation: 'r'.repeat(5000) } };
    const asff = toAsff(long, { productAccountId: '999999999999' });
    expect(validAsff(asff)).toBe(true);
    expect(asff.Description!.length).toBe(1024);
    expect(asff.Remediation!.Recommendation!.Text!.length).toBe(512);
    expect(asff.ProductArn).toBe('arn:aws-us-gov:securityhub:eu-west-1:999999999999:product/999999999999/default');
    expect(asff.AwsAccountId).toBe('123456789012');
  });

  it('CSV: formula starts are neutralised with an apostrophe, other text untouched, and it parses back', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(neutralise(`${start}1+1`)).toBe(`'${start}1+1`);
    expect(neutralise('alice')).toBe('alice');
    expect(neutralise('a=b')).toBe('a=b');
    const record = toExportRecord(view('ERROR', 'OPEN', null, ['USER_UNREADABLE'], false), { region: 'eu-west-1' });
    const rows = parse(toCsvRows([{ ...record, user: { ...record.user, name: '@SUM(1+1)*cmd|"/c calc"!A0' } }], true)) as string[][];
    expect(rows[0]).toEqual(CSV_HEADER);
    const row = Object.fromEntries(CSV_HEADER.map((h, i) => [h, rows[1][i]]));
    expect(row).toMatchObject({ user_name: `'@SUM(1+1)*cmd|"/c calc"!A0`, error: "'-AccessDenied: not authorized", access_key_id: '', status: 'ERROR', partition: 'aws-us-gov' });
  });

  it('CSV: a cell with a line break (CRLF, or CR or LF alone), a comma or a quote is quoted and parses back whole', () => {
    const record = toExportRecord(view('ERROR', 'OPEN', null, ['USER_UNREADABLE'], false), { region: 'eu-west-1' });
    const error = 'AccessDenied:\nnot authorized\rfor "iam:GetUser", try again\r\nlater';
    const text = toCsvRows([{ ...record, evidence: { ...record.evidence, error } }], false);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text) as string[][];
    expect(rows).toHaveLength(1);
    expect(rows[0][CSV_HEADER.indexOf('error')]).toBe(error);
    expect(text).toContain('"AccessDenied:\nnot authorized\rfor ""iam:GetUser"", try again\r\nlater"');
  });

  it('the product version in OCSF metadata is the package version', () => {
    expect(KEYWARDEN_VERSION).toBe(JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')).version);
  });
});
