import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema } from 'graphql';
import { decide, REMEDIATIONS, type LiveKeyState } from '../../src/domain/remediation';

const README = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
const SDL = readFileSync(path.join(__dirname, '../../schema.graphql'), 'utf8');

describe('every remediation declares its contract', () => {
  it.each(Object.values(REMEDIATIONS))('$mutation declares IAM permissions, and the README remediation policy grants them', (contract) => {
    expect(contract.permissions.length).toBeGreaterThan(0);
    expect(contract.permissions).toContain(contract.target === null ? 'iam:DeleteAccessKey' : 'iam:UpdateAccessKey');
    const policy = README.slice(README.indexOf('KeywardenRemediate'));
    for (const permission of contract.permissions) expect(policy).toContain(`"${permission}"`);
    // The mutation exists and its description names the permissions.
    const mutation = buildSchema(SDL).getMutationType()!.getFields()[contract.mutation];
    expect(mutation).toBeDefined();
    for (const permission of contract.permissions) expect(mutation.description).toContain(permission);
  });

  it('no mutation can create an access key, and no type can carry secret key material', () => {
    const schema = buildSchema(SDL);
    expect(Object.keys(schema.getMutationType()!.getFields()).filter((m) => /create.*key|key.*create/i.test(m))).toEqual([]);
    for (const type of Object.values(schema.getTypeMap())) {
      if (!('getFields' in type) || type.name.startsWith('__')) continue;
      for (const field of Object.keys((type as { getFields(): object }).getFields())) {
        // The one exception: a webhook's own signing secret (not AWS material), shown once by createWebhook (issue #10).
        if (`${type.name}.${field}` === 'CreateWebhookPayload.secret') continue;
        expect(`${type.name}.${field}`).not.toMatch(/secret|sessionToken/i);
      }
    }
  });
});

describe('the remediation policy (pure)', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const own = (status: 'Active' | 'Inactive', lastUsedDaysAgo: number | null): LiveKeyState => ({
    found: 'OWN', status, createdAt: new Date('2025-01-01T00:00:00Z'),
    lastUsed: lastUsedDaysAgo === null ? null : { date: new Date(now.getTime() - lastUsedDaysAgo * 86_400_000), serviceName: 's3', region: null },
  });
  const input = { userName: 'alice', accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', force: false };

  it('writes only when the key is the named user\'s, not in the target state, and not in use', () => {
    expect(decide(REMEDIATIONS.DEACTIVATE, input, own('Active', null), now).outcome).toBe('WRITE');
    expect(decide(REMEDIATIONS.DEACTIVATE, input, own('Inactive', null), now).outcome).toBe('NO_CHANGE');
    expect(decide(REMEDIATIONS.DEACTIVATE, input, own('Active', 3), now)).toMatchObject({ outcome: 'REFUSE', error: { code: 'KEY_RECENTLY_USED' } });
    expect(decide(REMEDIATIONS.DEACTIVATE, input, own('Active', 8), now).outcome).toBe('WRITE');
    expect(decide(REMEDIATIONS.DEACTIVATE, { ...input, force: true }, own('Active', 0), now).outcome).toBe('WRITE');
    expect(decide(REMEDIATIONS.DEACTIVATE, input, { found: 'MISSING' }, now)).toMatchObject({ outcome: 'REFUSE', error: { code: 'KEY_NOT_FOUND' } });
    expect(decide(REMEDIATIONS.DEACTIVATE, input, { found: 'OTHER_USER', owner: 'bob' }, now)).toMatchObject({ outcome: 'REFUSE', error: { code: 'KEY_BELONGS_TO_OTHER_USER' } });
  });

  it('reactivation is the backout: not refused for recent use', () => {
    expect(decide(REMEDIATIONS.REACTIVATE, input, own('Inactive', 1), now).outcome).toBe('WRITE');
  });

  it('deletion is refused for an Active key unless forced', () => {
    expect(decide(REMEDIATIONS.DELETE, input, own('Active', null), now)).toMatchObject({ outcome: 'REFUSE', error: { code: 'KEY_ACTIVE' } });
    expect(decide(REMEDIATIONS.DELETE, input, own('Inactive', null), now).outcome).toBe('WRITE');
    expect(decide(REMEDIATIONS.DELETE, { ...input, force: true }, own('Active', null), now).outcome).toBe('WRITE');
  });
});
