/**
 * The sandbox's admin endpoints (JSON, no auth: the server binds 127.0.0.1 by default), under /_sandbox/.
 * `?accountId=` picks an account where it makes sense; see src/sandbox/README.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxBackend } from './backend';
import type { FaultRuleInput } from './faults';
import { FixtureError } from './fixture';
import { HttpError, readBody, sendJson } from './http';
import type { SandboxOrganization } from './organization';
import { ORGANIZATION_ACCOUNT_STATUSES, type OrganizationAccountStatus } from './organization-fixture';

/** What the admin routes change beyond the backend (validation and resets the server owns). */
export interface AdminContext {
  backend: SandboxBackend;
  setFaults(rules: readonly FaultRuleInput[]): void;
  replaceFixture(text: string): void;
  resetCalls(): void;
  /** The findings BatchImportFindings stored for an account (Security Hub). */
  securityHubFindings(accountId: string): Record<string, unknown>[];
}

/** `?accountId=` picks an account (404 when unknown); without it, the default account. */
const adminAccount = (backend: SandboxBackend, url: URL): string => {
  const id = url.searchParams.get('accountId');
  if (id === null) return backend.defaultAccountId;
  if (!backend.hasAccount(id)) throw new HttpError(404, `no account ${id} in the sandbox`);
  return id;
};

const organizationSummary = (org: SandboxOrganization) => ({
  id: org.id,
  managementAccountId: org.managementAccountId,
  memberRoleName: org.memberRoleName,
  rootId: org.rootId,
  organizationalUnits: org.organizationalUnits().map((ou) => ({ id: ou.id, path: org.pathOf(ou.id) })),
  accounts: org.accounts().map((a) => ({ accountId: a.accountId, name: a.name, status: a.status, parent: org.pathOf(a.accountId) })),
});

export async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL, ctx: AdminContext): Promise<void> {
  const { backend } = ctx;
  const path = url.pathname;
  const route = `${req.method} ${path}`;
  const jsonBody = async (): Promise<unknown> => {
    const text = await readBody(req);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, `invalid JSON: ${(e as Error).message}`);
    }
  };
  try {
    const accountRoute = /^\/_sandbox\/organization\/accounts\/(\d{12})$/.exec(path);
    if (accountRoute) return await handleAdminAccount(req, res, backend, accountRoute[1]!, jsonBody);
    switch (route) {
      case 'GET /_sandbox/healthz': {
        const state = backend.state(adminAccount(backend, url));
        const org = backend.organization;
        return sendJson(res, 200, org ? { status: 'ok', users: state.userCount, organization: org.id, accounts: org.accountCount } : { status: 'ok', users: state.userCount });
      }
      case 'GET /_sandbox/securityhub/findings': {
        const findings = ctx.securityHubFindings(adminAccount(backend, url));
        return sendJson(res, 200, { count: findings.length, findings });
      }
      case 'GET /_sandbox/calls':
        return sendJson(res, 200, url.searchParams.has('accountId') ? backend.counters.snapshot(adminAccount(backend, url)) : backend.counters.snapshot());
      case 'POST /_sandbox/calls/reset':
        ctx.resetCalls();
        return sendJson(res, 204, null);
      case 'GET /_sandbox/assume-role-calls':
        return sendJson(res, 200, backend.assumeRoleLog);
      case 'GET /_sandbox/organization':
        if (!backend.organization) throw new HttpError(404, 'the sandbox plays a single account, not an organization');
        return sendJson(res, 200, organizationSummary(backend.organization));
      case 'GET /_sandbox/faults':
        return sendJson(res, 200, backend.getFaults());
      case 'PUT /_sandbox/faults':
        ctx.setFaults((await jsonBody()) as FaultRuleInput[]);
        return sendJson(res, 204, null);
      case 'PUT /_sandbox/fixture':
        ctx.replaceFixture(await readBody(req));
        return sendJson(res, 204, null);
      case 'POST /_sandbox/credential-report/invalidate':
        backend.state(adminAccount(backend, url)).invalidateCredentialReport();
        return sendJson(res, 204, null);
      case 'POST /_sandbox/credential-report/expire':
        backend.state(adminAccount(backend, url)).expireCredentialReport();
        return sendJson(res, 204, null);
      case 'PUT /_sandbox/credential-report/age': {
        const state = backend.state(adminAccount(backend, url));
        const b = (await jsonBody()) as { ageMs?: unknown };
        if (typeof b?.ageMs !== 'number' || !Number.isFinite(b.ageMs) || b.ageMs < 0) {
          throw new HttpError(400, 'body must be {"ageMs": <non-negative number>}');
        }
        if (state.credentialReportGeneratedAt() === null) throw new HttpError(409, 'no credential report to age');
        state.setCredentialReportAge(b.ageMs);
        return sendJson(res, 204, null);
      }
      default:
        return sendJson(res, 404, { error: `no admin route ${route}` });
    }
  } catch (e) {
    if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message });
    if (e instanceof FixtureError) return sendJson(res, 400, { error: e.message, issues: e.issues });
    return sendJson(res, 500, { error: e instanceof Error ? e.message : String(e) });
  }
}

/** PATCH {status?, parent?} changes a member account; DELETE removes it from the organization. */
async function handleAdminAccount(
  req: IncomingMessage,
  res: ServerResponse,
  backend: SandboxBackend,
  accountId: string,
  jsonBody: () => Promise<unknown>,
): Promise<void> {
  const org = backend.organization;
  if (!org) throw new HttpError(404, 'the sandbox plays a single account, not an organization');
  if (!org.isMember(accountId)) throw new HttpError(404, `account ${accountId} is not in organization ${org.id}`);
  if (req.method === 'DELETE') {
    try {
      org.removeAccount(accountId);
    } catch (e) {
      throw new HttpError(409, (e as Error).message);
    }
    return sendJson(res, 204, null);
  }
  if (req.method !== 'PATCH') throw new HttpError(405, 'use PATCH {"status"?, "parent"?} or DELETE');
  const b = (await jsonBody()) as { status?: unknown; parent?: unknown } | null;
  const status = b?.status;
  const parent = b?.parent;
  if (status !== undefined && !(ORGANIZATION_ACCOUNT_STATUSES as readonly unknown[]).includes(status)) {
    throw new HttpError(400, `status must be one of ${ORGANIZATION_ACCOUNT_STATUSES.join(', ')}`);
  }
  if (parent !== undefined && typeof parent !== 'string') throw new HttpError(400, 'parent must be an OU path (Root/…) or id');
  try {
    if (parent !== undefined) org.moveAccount(accountId, parent);
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
  if (status !== undefined) org.setAccountStatus(accountId, status as OrganizationAccountStatus);
  return sendJson(res, 204, null);
}
