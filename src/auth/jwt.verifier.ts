import { isScope, type Principal, type Scope } from './scopes';

export interface JwtSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Oldest token accepted, by its `iat` (default DEFAULT_JWT_MAX_AGE_SECONDS). */
  maxAgeSeconds?: number;
}

/**
 * A day: OAuth client-credentials access tokens live an hour at most IdPs (Entra ID 60-90 min, Okta 1 h)
 * and 24 h at Auth0's default, the longest common one. A token older than this is refused whatever its `exp`.
 */
export const DEFAULT_JWT_MAX_AGE_SECONDS = 86_400;

/** OpenID Connect Core: `sub` must not exceed 255 ASCII characters. */
const MAX_SUBJECT_LENGTH = 255;

/**
 * A subject names the caller in the audit trail (`jwt:<sub>`, stored as remediation_action.actor,
 * access_exception.createdBy and idempotency_record.principal): a printable, well-formed string of at most
 * MAX_SUBJECT_LENGTH characters. No C0 or C1 control (U+0000 made every write fail in PostgreSQL, masked as a
 * 500 with nothing audited; a newline or an escape forges what an audit reader sees), no unpaired surrogate
 * (Prisma cannot carry one), and a string (jose checks its presence, not its type).
 */
export function isValidSubject(sub: unknown): sub is string {
  return typeof sub === 'string' && sub.length > 0 && sub.length <= MAX_SUBJECT_LENGTH && !UNFIT_IN_SUBJECT.test(sub);
}

// Cc: U+0000-U+001F, U+007F-U+009F. With the u flag a surrogate is a code point of its own only when it
// is unpaired, so \p{Cs} matches exactly the unpaired ones.
const UNFIT_IN_SUBJECT = /[\p{Cc}\p{Cs}]/u;

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });

/**
 * OIDC/JWT bearer tokens for GRC platforms using OAuth client credentials: the signature is checked
 * against the configured JWKS (fetched and cached by jose), with issuer and audience. `exp`, `iat` and `sub`
 * are required, and the token may be at most maxAgeSeconds old: a token without `exp` used to be accepted forever.
 * Scopes come from the `scope` claim (space-separated, RFC 8693) or `scp` (an array, as Entra ID issues).
 */
export class JwtVerifier {
  private jose: Promise<Jose> | undefined;
  private jwks: ReturnType<Jose['createRemoteJWKSet']> | undefined;

  constructor(private readonly settings: JwtSettings) {}

  async verify(token: string): Promise<Principal | null> {
    // jose is ESM-only; loaded on first use.
    const jose = await (this.jose ??= import('jose'));
    this.jwks ??= jose.createRemoteJWKSet(new URL(this.settings.jwksUrl));
    try {
      const { payload } = await jose.jwtVerify(token, this.jwks, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: this.settings.maxAgeSeconds ?? DEFAULT_JWT_MAX_AGE_SECONDS,
      });
      // The subject names the caller in the audit trail and scopes its idempotency keys.
      if (!isValidSubject(payload.sub)) return null;
      const claimed = typeof payload.scope === 'string' ? payload.scope.split(' ') : Array.isArray(payload.scp) ? (payload.scp as string[]) : [];
      return { kind: 'jwt', id: payload.sub, name: payload.sub, scopes: claimed.filter(isScope) as Scope[] };
    } catch {
      return null;
    }
  }
}

export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}
