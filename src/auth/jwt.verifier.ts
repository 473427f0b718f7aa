import { isScope, type Principal, type Scope } from './scopes';

export interface JwtSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
}

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });

/**
 * OIDC/JWT bearer tokens for GRC platforms using OAuth client credentials: the signature is checked
 * against the configured JWKS (fetched and cached by jose), with issuer, audience and expiry.
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
      const { payload } = await jose.jwtVerify(token, this.jwks, { issuer: this.settings.issuer, audience: this.settings.audience });
      if (!payload.sub) return null;
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
