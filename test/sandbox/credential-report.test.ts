import {
  CredentialReportExpiredException,
  CredentialReportNotPresentException,
  CredentialReportNotReadyException,
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { parse } from 'csv-parse/sync';
import { CREDENTIAL_REPORT_COLUMNS, csvField, formatReportTime, startIamSandbox, type IamSandbox } from '../../src/sandbox';
import { baseFixture, FakeClock, iamClient, sdkError } from './helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function fetchReport(iam: IAMClient): Promise<{ rows: Record<string, string>[]; raw: string[][]; text: string; generated: Date }> {
  const out = await iam.send(new GetCredentialReportCommand({}));
  expect(out.ReportFormat).toBe('text/csv');
  const text = Buffer.from(out.Content!).toString('utf8');
  const raw = parse(text) as string[][];
  const rows = parse(text, { columns: true }) as Record<string, string>[];
  return { rows, raw, text, generated: out.GeneratedTime! };
}

describe('IAM sandbox: credential report', () => {
  const clock = new FakeClock();
  let sandbox: IamSandbox;
  let iam: IAMClient;

  beforeEach(async () => {
    clock.current = new Date('2024-05-01T12:00:00Z');
    const fixture = baseFixture();
    fixture.credentialReport = { generationDelayMs: 5_000 };
    sandbox = await startIamSandbox({ fixture, now: clock.now });
    iam = iamClient(sandbox, { maxAttempts: 1 });
  });
  afterEach(async () => {
    iam.destroy();
    await sandbox.close();
  });

  it('ReportNotPresent (410) before any Generate', async () => {
    const e = await sdkError(iam.send(new GetCredentialReportCommand({})));
    expect(e).toBeInstanceOf(CredentialReportNotPresentException);
    expect(e.$metadata.httpStatusCode).toBe(410);
  });

  it('STARTED → INPROGRESS (Get answers ReportInProgress 404) → COMPLETE', async () => {
    const started = await iam.send(new GenerateCredentialReportCommand({}));
    expect(started.State).toBe('STARTED');
    expect(started.Description).toBe('No report exists. Starting a new report generation task');

    clock.advance(2_000);
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('INPROGRESS');
    const notReady = await sdkError(iam.send(new GetCredentialReportCommand({})));
    expect(notReady).toBeInstanceOf(CredentialReportNotReadyException);
    expect(notReady.$metadata.httpStatusCode).toBe(404);

    clock.advance(3_000);
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
    const report = await fetchReport(iam);
    expect(report.generated).toEqual(new Date('2024-05-01T12:00:00Z'));
  });

  it('CSV: header + root row first, exactly 22 columns, quoted comma user, IAM sentinels', async () => {
    await iam.send(new GenerateCredentialReportCommand({}));
    clock.advance(5_000);
    const { raw, rows, text } = await fetchReport(iam);
    expect(raw[0]).toEqual([...CREDENTIAL_REPORT_COLUMNS]);
    expect(raw.every((r) => r.length === 22)).toBe(true);
    expect(raw).toHaveLength(1 + 1 + 3);
    expect(text).toContain('\n"ops,admin","arn:aws:iam::123456789012:user/ops,admin",');

    const t = (ms: number) => formatReportTime(new Date(new Date('2024-05-01T12:00:00Z').getTime() - ms));
    const [root, alice, bob, ops] = rows as [Record<string, string>, Record<string, string>, Record<string, string>, Record<string, string>];
    expect(root).toMatchObject({
      user: '<root_account>',
      arn: 'arn:aws:iam::123456789012:root',
      user_creation_time: t(900 * DAY),
      password_enabled: 'not_supported',
      password_last_used: 'no_information',
      password_last_changed: 'not_supported',
      password_next_rotation: 'not_supported',
      mfa_active: 'true',
      access_key_1_active: 'false',
      access_key_1_last_rotated: 'N/A',
    });
    expect(alice).toEqual({
      user: 'alice',
      arn: 'arn:aws:iam::123456789012:user/alice',
      user_creation_time: t(400 * DAY),
      password_enabled: 'true',
      password_last_used: t(2 * DAY),
      password_last_changed: t(400 * DAY),
      password_next_rotation: 'N/A',
      mfa_active: 'false',
      access_key_1_active: 'true',
      access_key_1_last_rotated: t(400 * DAY - 30_000),
      access_key_1_last_used_date: t(DAY),
      access_key_1_last_used_region: 'us-east-1',
      access_key_1_last_used_service: 's3',
      // Inactive key: active=false but last_rotated still carries its CreateDate.
      access_key_2_active: 'false',
      access_key_2_last_rotated: t(100 * DAY),
      access_key_2_last_used_date: 'N/A',
      access_key_2_last_used_region: 'N/A',
      access_key_2_last_used_service: 'N/A',
      cert_1_active: 'false',
      cert_1_last_rotated: 'N/A',
      cert_2_active: 'false',
      cert_2_last_rotated: 'N/A',
    });
    expect(bob).toMatchObject({
      user: 'bob',
      arn: 'arn:aws:iam::123456789012:user/engineering/bob',
      password_enabled: 'false',
      password_last_used: 'N/A',
      password_last_changed: 'N/A',
      access_key_1_active: 'true',
      access_key_1_last_used_date: 'N/A',
    });
    expect(ops).toMatchObject({ user: 'ops,admin', password_last_used: 'no_information', mfa_active: 'true' });
    expect(t(0)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
  });

  it('reuses a report younger than 4 hours (COMPLETE, old snapshot); older starts a new one', async () => {
    await iam.send(new GenerateCredentialReportCommand({}));
    clock.advance(5_000);
    // Change state after generation: the report is a snapshot.
    sandbox.state.setKeyStatus('AKIAALICE00000000001', 'Inactive');
    sandbox.setCredentialReportAge(3 * HOUR);
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
    let report = await fetchReport(iam);
    expect(report.generated).toEqual(new Date(clock.current.getTime() - 3 * HOUR));
    expect(report.rows[1]!.access_key_1_active).toBe('true');

    sandbox.setCredentialReportAge(4 * HOUR + 1_000);
    const again = await iam.send(new GenerateCredentialReportCommand({}));
    expect(again.State).toBe('STARTED');
    clock.advance(5_000);
    report = await fetchReport(iam);
    expect(report.rows[1]!.access_key_1_active).toBe('false');
  });

  it('4-hour rule with the clock: COMPLETE until 4 h, then STARTED', async () => {
    await iam.send(new GenerateCredentialReportCommand({}));
    clock.advance(4 * HOUR - 1_000);
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
    clock.advance(1_000);
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('STARTED');
  });

  it('invalidate → ReportNotPresent; expire → ReportExpired (410) until the next Generate', async () => {
    await iam.send(new GenerateCredentialReportCommand({}));
    clock.advance(5_000);
    sandbox.invalidateCredentialReport();
    expect((await sdkError(iam.send(new GetCredentialReportCommand({})))).name).toBe('CredentialReportNotPresentException');

    await iam.send(new GenerateCredentialReportCommand({}));
    clock.advance(5_000);
    sandbox.expireCredentialReport();
    const expired = await sdkError(iam.send(new GetCredentialReportCommand({})));
    expect(expired).toBeInstanceOf(CredentialReportExpiredException);
    expect(expired.$metadata.httpStatusCode).toBe(410);
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('STARTED');
  });

  it('a fixture can start with a complete report (credentialReport.generatedAt)', async () => {
    const fixture = baseFixture();
    fixture.credentialReport = { generationDelayMs: 0, generatedAt: 'now-1h' };
    const sb = await startIamSandbox({ fixture, now: clock.now });
    const c = iamClient(sb);
    try {
      expect((await c.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
      expect((await fetchReport(c)).generated).toEqual(new Date(clock.current.getTime() - HOUR));
    } finally {
      c.destroy();
      await sb.close();
    }
  });
});

describe('csvField (RFC 4180)', () => {
  it('quotes only when needed and doubles quotes', () => {
    expect(csvField('alice')).toBe('alice');
    expect(csvField('ops,admin')).toBe('"ops,admin"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
  });
});
