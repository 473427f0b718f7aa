/**
 * What a token may do. `admin` implies every other scope. `metrics:read` reads GET /metrics on the API port
 * and nothing else (a Prometheus scraper's token).
 */
export const SCOPES = ['findings:read', 'scans:write', 'remediation:write', 'metrics:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Who is calling: an API token, the bootstrap token, or a JWT subject. */
export interface Principal {
  kind: 'token' | 'bootstrap' | 'jwt';
  id: string;
  name: string;
  scopes: Scope[];
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}

/** How the audit trail names a principal. */
export function actorOf(principal: Principal): string {
  if (principal.kind === 'jwt') return `jwt:${principal.id}`;
  return `${principal.kind}:${principal.name} (${principal.id})`;
}

/**
 * One identity per caller, prefixed by its kind (`jwt:<sub>`, `token:<row id>`, `bootstrap:bootstrap`), for
 * what is kept per caller (the rate-limit bucket): principal.id alone is the raw `sub` for a JWT, so a JWT
 * with sub "bootstrap", or an API token's id, named that caller's bucket.
 */
export function callerKey(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}
