import { hashToken, sameHash } from './token-format';
import { JwtVerifier, looksLikeJwt, type JwtSettings } from './jwt.verifier';
import type { Principal } from './scopes';
import type { TokensService } from './tokens.service';

export interface AuthSettings {
  /** KEYWARDEN_BOOTSTRAP_TOKEN: accepted as an admin token (automation, first use). */
  bootstrapToken?: string | null;
  jwt?: JwtSettings | null;
}

/** Turns an Authorization header into a principal: API token, bootstrap token, or JWT. */
export class Authenticator {
  private readonly bootstrapHash: string | null;
  private readonly jwt: JwtVerifier | null;

  constructor(private readonly tokens: TokensService, settings: AuthSettings) {
    this.bootstrapHash = settings.bootstrapToken ? hashToken(settings.bootstrapToken) : null;
    this.jwt = settings.jwt ? new JwtVerifier(settings.jwt) : null;
  }

  async authenticate(authorization: string | undefined): Promise<Principal | null> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return null;
    const token = match[1];
    if (this.bootstrapHash && sameHash(hashToken(token), this.bootstrapHash)) {
      return { kind: 'bootstrap', id: 'bootstrap', name: 'KEYWARDEN_BOOTSTRAP_TOKEN', scopes: ['admin'] };
    }
    if (this.jwt && looksLikeJwt(token)) return this.jwt.verify(token);
    return this.tokens.authenticate(token);
  }
}
