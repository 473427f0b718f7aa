import { evaluateNoAccessKeysAtSetup, DEFAULT_CONTROL_SETTINGS } from '../../../src/controls/no-access-keys-at-setup/control';
import { NO_ACCESS_KEYS_AT_SETUP } from '../../../src/controls/no-access-keys-at-setup/control.metadata';
import type { AccountInventory, InventoryAccessKey, InventoryUser } from '../../../src/domain/inventory';

// A fixed clock: every test reads "days ago" against it.
const NOW = new Date('2026-06-01T12:00:00Z');
const ago = (days: number, plusSeconds = 0) => new Date(NOW.getTime() - days * 86_400_000 + plusSeconds * 1000);
const live = { kind: 'PER_USER_API' as const, asOf: NOW };

function key(overrides: Partial<InventoryAccessKey> & Pick<InventoryAccessKey, 'accessKeyId' | 'createdAt'>): InventoryAccessKey {
  return { status: 'Active', lastUsed: null, lastUsedSource: live, ...overrides };
}

function user(name: string, overrides: Partial<InventoryUser> = {}): InventoryUser {
  return {
    userName: name,
    userId: `AIDA${name.toUpperCase()}`,
    arn: `arn:aws:iam::123456789012:user/${name}`,
    path: '/',
    createdAt: ago(400),
    hasConsolePassword: true,
    passwordLastUsedAt: ago(2),
    passwordSource: live,
    mfaActive: true,
    tags: {},
    accessKeys: [],
    ...overrides,
  };
}

function inventory(users: InventoryUser[], root: AccountInventory['root'] = null): AccountInventory {
  return { accountId: '123456789012', source: 'PER_USER_API', collectedAt: NOW, reportGeneratedAt: null, users, root, errors: [] };
}

const evaluate = (inv: AccountInventory, settings = DEFAULT_CONTROL_SETTINGS) => evaluateNoAccessKeysAtSetup(inv, { now: NOW, settings });
const only = (inv: AccountInventory) => {
  const findings = evaluate(inv);
  expect(findings).toHaveLength(1);
  return findings[0];
};

describe('control: no access keys at initial setup for console users', () => {
  it('fails an active key created at setup and never used, with both reasons', () => {
    const f = only(inventory([user('alice', { accessKeys: [key({ accessKeyId: 'AKIAALICE00000000001', createdAt: ago(400, 20) })] })]));
    expect(f.status).toBe('FAIL');
    expect(f.reasons).toEqual(['CREATED_AT_SETUP', 'NEVER_USED']);
    expect(f.accessKeyId).toBe('AKIAALICE00000000001');
    expect(f.evidence.secondsFromUserCreationToKey).toBe(20);
    expect(f.evidence.setupWindowSeconds).toBe(600);
    expect(f.evidence.gracePeriodSeconds).toBe(86_400);
  });

  it('fails a setup key even when it has been used since (CREATED_AT_SETUP only)', () => {
    const f = only(inventory([user('bob', {
      accessKeys: [key({ accessKeyId: 'AKIABOB0000000000001', createdAt: ago(400, 60), lastUsed: { date: ago(1), serviceName: 's3', region: 'us-east-1' } })],
    })]));
    expect(f.status).toBe('FAIL');
    expect(f.reasons).toEqual(['CREATED_AT_SETUP']);
    expect(f.evidence.accessKeyLastUsedService).toBe('s3');
  });

  it('passes a key created long after setup that has been used', () => {
    const f = only(inventory([user('carol', {
      accessKeys: [key({ accessKeyId: 'AKIACAROL00000000001', createdAt: ago(100), lastUsed: { date: ago(1), serviceName: 'ec2', region: 'eu-west-1' } })],
    })]));
    expect(f.status).toBe('PASS');
    expect(f.reasons).toEqual(['CREATED_AFTER_SETUP_AND_USED']);
  });

  it('fails a key created long after setup that was never used and is older than the grace period (the CIS audit test)', () => {
    const f = only(inventory([user('dave', { accessKeys: [key({ accessKeyId: 'AKIADAVE000000000001', createdAt: ago(30) })] })]));
    expect(f.status).toBe('FAIL');
    expect(f.reasons).toEqual(['NEVER_USED']);
  });

  it('passes a never-used key still inside the grace period', () => {
    const f = only(inventory([user('erin', { accessKeys: [key({ accessKeyId: 'AKIAERIN000000000001', createdAt: new Date(NOW.getTime() - 3600_000) })] })]));
    expect(f.status).toBe('PASS');
    expect(f.reasons).toEqual(['NOT_USED_WITHIN_GRACE_PERIOD']);
  });

  it('passes an inactive setup key', () => {
    const f = only(inventory([user('frank', { accessKeys: [key({ accessKeyId: 'AKIAFRANK00000000001', createdAt: ago(400, 5), status: 'Inactive' })] })]));
    expect(f.status).toBe('PASS');
    expect(f.reasons).toEqual(['KEY_INACTIVE']);
  });

  it('gives two keys of one user two findings, one failing', () => {
    const findings = evaluate(inventory([user('gina', {
      accessKeys: [
        key({ accessKeyId: 'AKIAGINA000000000001', createdAt: ago(400, 1) }),
        key({ accessKeyId: 'AKIAGINA000000000002', createdAt: ago(50), lastUsed: { date: ago(0.5), serviceName: 'sts', region: 'us-east-1' } }),
      ],
    })]));
    expect(findings.map((f) => [f.accessKeyId, f.status])).toEqual([
      ['AKIAGINA000000000001', 'FAIL'],
      ['AKIAGINA000000000002', 'PASS'],
    ]);
  });

  it('passes a console user without keys with one user-level finding', () => {
    const f = only(inventory([user('hank')]));
    expect(f.status).toBe('PASS');
    expect(f.reasons).toEqual(['NO_ACCESS_KEYS']);
    expect(f.accessKeyId).toBeNull();
  });

  it('marks an API-only user (no console password) NOT_APPLICABLE, even with a setup key', () => {
    const f = only(inventory([user('svc-api', { hasConsolePassword: false, passwordLastUsedAt: null, accessKeys: [key({ accessKeyId: 'AKIASVC0000000000001', createdAt: ago(400) })] })]));
    expect(f.status).toBe('NOT_APPLICABLE');
    expect(f.reasons).toEqual(['NO_CONSOLE_PASSWORD']);
  });

  it('marks the root account NOT_APPLICABLE (another control covers root keys)', () => {
    const findings = evaluate(inventory([], { arn: 'arn:aws:iam::123456789012:root', accountCreatedAt: ago(900), passwordEnabled: true, accessKeysActive: 1 }));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ userName: '<root_account>', status: 'NOT_APPLICABLE', reasons: ['ROOT_ACCOUNT'] });
  });

  it('never reports an unreadable user as compliant', () => {
    const f = only(inventory([user('ivan', { hasConsolePassword: null, accessKeys: null, readError: { operation: 'ListAccessKeys', code: 'AccessDenied', message: 'denied' } })]));
    expect(f.status).toBe('ERROR');
    expect(f.reasons).toEqual(['USER_UNREADABLE']);
    expect(f.evidence.error).toContain('AccessDenied');
  });

  it('reports ERROR when a console user\'s keys could not be listed', () => {
    const f = only(inventory([user('jill', { accessKeys: null, readError: { operation: 'ListAccessKeys', code: 'ServiceFailure', message: 'boom' } })]));
    expect(f.status).toBe('ERROR');
  });

  it('reports ERROR for an active key whose last use could not be read, and evaluates the user\'s other key', () => {
    const findings = evaluate(inventory([user('kate', {
      accessKeys: [
        key({ accessKeyId: 'AKIAKATE000000000001', createdAt: ago(60), readError: { operation: 'GetAccessKeyLastUsed', code: 'Throttling', message: 'slow down' } }),
        key({ accessKeyId: 'AKIAKATE000000000002', createdAt: ago(400, 3) }),
      ],
    })]));
    expect(findings.map((f) => [f.status, f.reasons])).toEqual([
      ['ERROR', ['ACCESS_KEY_UNREADABLE']],
      ['FAIL', ['CREATED_AT_SETUP', 'NEVER_USED']],
    ]);
  });

  it('still fails a setup key whose last use is unreadable: the setup test does not need it', () => {
    const f = only(inventory([user('liam', {
      accessKeys: [key({ accessKeyId: 'AKIALIAM000000000001', createdAt: ago(400, 3), readError: { operation: 'GetAccessKeyLastUsed', code: 'Throttling', message: 'x' } })],
    })]));
    expect(f.status).toBe('FAIL');
    expect(f.reasons).toEqual(['CREATED_AT_SETUP']);
  });

  it('honours a configured setup window and grace period', () => {
    const inv = inventory([user('mia', { accessKeys: [key({ accessKeyId: 'AKIAMIA0000000000001', createdAt: ago(400, 1200) })] })]);
    expect(evaluate(inv)[0].reasons).toEqual(['NEVER_USED']);
    const wide = evaluate(inv, { setupWindowSeconds: 3600, gracePeriodSeconds: 500 * 86_400 });
    expect(wide[0].reasons).toEqual(['CREATED_AT_SETUP']);
  });

  it('treats the setup window boundary as inclusive', () => {
    const f = only(inventory([user('noah', {
      accessKeys: [key({ accessKeyId: 'AKIANOAH000000000001', createdAt: ago(400, 600), lastUsed: { date: ago(1), serviceName: 's3', region: 'us-east-1' } })],
    })]));
    expect(f.reasons).toEqual(['CREATED_AT_SETUP']);
  });

  it('records the data source and its time in the evidence', () => {
    const reportTime = ago(0, -3 * 3600);
    const inv = inventory([user('olga', {
      passwordSource: { kind: 'CREDENTIAL_REPORT', asOf: reportTime },
      accessKeys: [key({ accessKeyId: 'AKIAOLGA000000000001', createdAt: ago(400), lastUsedSource: { kind: 'CREDENTIAL_REPORT', asOf: reportTime } })],
    })]);
    const f = evaluate(inv)[0];
    expect(f.evidence.dataSource).toBe('CREDENTIAL_REPORT');
    expect(f.evidence.dataSourceAsOf).toEqual(reportTime);
    expect(f.evidence.passwordEnabled).toBe(true);
    expect(f.evidence.userCreatedAt).toEqual(ago(400));
  });

  it('uses the control id from its metadata on every finding', () => {
    const f = only(inventory([user('pat')]));
    expect(f.controlId).toBe(NO_ACCESS_KEYS_AT_SETUP.id);
  });
});

describe('control metadata', () => {
  it('is medium severity with the CIS mappings across versions', () => {
    expect(NO_ACCESS_KEYS_AT_SETUP.severity).toBe('medium');
    const cis = Object.fromEntries(
      NO_ACCESS_KEYS_AT_SETUP.mappings.filter((m) => m.framework.startsWith('CIS')).map((m) => [m.version, m.requirementId]),
    );
    expect(cis).toMatchObject({ '1.2.0': '1.21', '1.3.0': '1.11', '4.0.0': '1.11', '5.0.0': '1.10', '6.0.0': '2.10' });
  });

  it('maps SOC 2, ISO 27001 and NIST 800-53 with a requirement id and a source each', () => {
    for (const framework of ['SOC 2', 'ISO/IEC 27001', 'NIST SP 800-53']) {
      const rows = NO_ACCESS_KEYS_AT_SETUP.mappings.filter((m) => m.framework === framework);
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(r.requirementId).toMatch(/\S/);
        expect(r.source).toMatch(/\S/);
      }
    }
  });
});
