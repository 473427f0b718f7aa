import { CREDENTIAL_REPORT_COLUMNS, CredentialReportParseError, parseCredentialReport } from '../../../src/adapters/iam/credential-report.parser';

const HEADER = CREDENTIAL_REPORT_COLUMNS.join(',');
const row = (cells: Partial<Record<(typeof CREDENTIAL_REPORT_COLUMNS)[number], string>>) =>
  CREDENTIAL_REPORT_COLUMNS.map((c) => cells[c] ?? 'N/A').join(',');

describe('credential report parser', () => {
  it('reads a user name containing a comma without shifting columns', () => {
    const csv = [HEADER, row({ user: '"ops,admin"', arn: '"arn:aws:iam::123456789012:user/ops,admin"', user_creation_time: '2024-01-01T00:00:00+00:00',
      password_enabled: 'true', mfa_active: 'false', access_key_1_active: 'true', access_key_1_last_rotated: '2024-01-01T00:00:30+00:00',
      access_key_2_active: 'false', cert_1_active: 'false', cert_2_active: 'false' })].join('\n');
    const [r] = parseCredentialReport(csv);
    expect(r.user).toBe('ops,admin');
    expect(r.passwordEnabled).toBe(true);
    expect(r.accessKeys[0]).toEqual({ active: true, lastRotated: new Date('2024-01-01T00:00:30Z'), lastUsedDate: null, lastUsedRegion: null, lastUsedService: null });
  });

  it('turns the sentinels N/A, no_information and not_supported into null, and reads root', () => {
    const csv = [HEADER, row({ user: '<root_account>', arn: 'arn:aws:iam::123456789012:root', user_creation_time: '2020-01-01T00:00:00+00:00',
      password_enabled: 'not_supported', password_last_used: 'no_information', mfa_active: 'true', access_key_1_active: 'false', access_key_2_active: 'false' })].join('\n');
    const [r] = parseCredentialReport(csv);
    expect(r.passwordEnabled).toBeNull();
    expect(r.passwordLastUsed).toBeNull();
    expect(r.mfaActive).toBe(true);
  });

  it('accepts the documented upper-case booleans', () => {
    const [r] = parseCredentialReport([HEADER, row({ user: 'a', arn: 'arn:aws:iam::123456789012:user/a', password_enabled: 'TRUE', mfa_active: 'FALSE', access_key_1_active: 'TRUE', access_key_2_active: 'FALSE' })].join('\n'));
    expect([r.passwordEnabled, r.mfaActive, r.accessKeys[0].active]).toEqual([true, false, true]);
  });

  it('reads last use of each slot', () => {
    const [r] = parseCredentialReport([HEADER, row({ user: 'a', arn: 'arn:aws:iam::123456789012:user/a', password_enabled: 'true', mfa_active: 'false',
      access_key_1_active: 'false', access_key_2_active: 'true', access_key_2_last_rotated: '2024-02-01T00:00:00+00:00',
      access_key_2_last_used_date: '2024-03-01T10:15:00+00:00', access_key_2_last_used_region: 'eu-west-1', access_key_2_last_used_service: 's3' })].join('\n'));
    expect(r.accessKeys[1]).toMatchObject({ active: true, lastUsedDate: new Date('2024-03-01T10:15:00Z'), lastUsedRegion: 'eu-west-1', lastUsedService: 's3' });
  });

  it.each([
    ['an empty report', ''],
    ['a missing column', 'user,arn\nalice,arn:aws:iam::1:user/alice'],
    ['an unterminated quote', `${HEADER}\n"alice,arn`],
    ['a bad timestamp', [HEADER, row({ user: 'a', arn: 'x', user_creation_time: 'yesterday', password_enabled: 'true', mfa_active: 'false', access_key_1_active: 'false', access_key_2_active: 'false' })].join('\n')],
    ['a bad boolean', [HEADER, row({ user: 'a', arn: 'x', password_enabled: 'maybe', mfa_active: 'false', access_key_1_active: 'false', access_key_2_active: 'false' })].join('\n')],
    ['binary junk', Buffer.from([0xff, 0x00, 0x22, 0x0a, 0x2c, 0x22]).toString('latin1')],
  ])('rejects %s with a clear error', (_label, csv) => {
    expect(() => parseCredentialReport(csv)).toThrow(CredentialReportParseError);
  });
});
