import type { ApiToken, PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from '../services/errors';
import { isScope, type Principal, type Scope } from './scopes';
import { generateToken, hashToken, hasValidChecksum, lookupPrefix, sameHash, TOKEN_PATTERN } from './token-format';

export interface CreatedToken {
  /** Shown once; only its hash is stored. */
  token: string;
  record: ApiToken;
}

// lastUsedAt is a hint, not an audit trail: one write a minute per token is plenty.
const LAST_USED_RESOLUTION_MS = 60_000;

/** API tokens: created with a name and scopes, stored as a hash, revocable, optionally expiring. */
export class TokensService {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: { name: string; scopes: string[]; expiresAt?: Date | null; createdBy: string }): Promise<CreatedToken> {
    const name = input.name?.trim();
    if (!name || name.length > 100) throw new InvalidInputError('a token needs a name of 1-100 characters', 'name');
    const unknown = input.scopes.filter((s) => !isScope(s));
    if (input.scopes.length === 0 || unknown.length > 0) {
      throw new InvalidInputError(`scopes must be among findings:read, scans:write, remediation:write, admin${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`, 'scopes');
    }
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new InvalidInputError('expiresAt must be in the future', 'expiresAt');
    const token = generateToken();
    const record = await this.prisma.apiToken.create({
      data: { name, prefix: lookupPrefix(token), hash: hashToken(token), scopes: [...new Set(input.scopes)], expiresAt: input.expiresAt ?? null, createdBy: input.createdBy },
    });
    return { token, record };
  }

  list(): Promise<ApiToken[]> {
    return this.prisma.apiToken.findMany({ orderBy: { createdAt: 'asc' } });
  }

  /**
   * By id, by the token's visible prefix (`kw_` + 8 characters, as `token list` shows it), by the whole token
   * (matched by its hash: whoever holds a leaked token can revoke it without looking it up), or by its name
   * when exactly one token not yet revoked has that name.
   */
  async revoke(ref: string): Promise<ApiToken> {
    const whole = TOKEN_PATTERN.test(ref);
    let found: ApiToken | null = null;
    if (/^[0-9a-f-]{36}$/i.test(ref)) found = await this.prisma.apiToken.findUnique({ where: { id: ref } });
    else if (whole || /^kw_[0-9A-Za-z]{8}$/.test(ref)) {
      found = await this.prisma.apiToken.findUnique({ where: { prefix: lookupPrefix(ref) } });
      // A whole token names its row only if its hash matches: the prefix alone is not proof of the token.
      if (found && whole && !sameHash(hashToken(ref), found.hash)) found = null;
    } else {
      const named = await this.prisma.apiToken.findMany({ where: { name: ref, revokedAt: null }, take: 2 });
      if (named.length > 1) throw new InvalidInputError(`more than one token is named "${ref}": give its id or its prefix, as \`token list\` shows them`, 'id');
      found = named[0] ?? null;
    }
    if (!found) {
      // Never echo a whole token: it is a secret; its prefix is what `token list` shows anyway.
      const shown = whole ? `${lookupPrefix(ref)}…` : ref;
      throw new InvalidInputError(
        `no token ${shown}: give a token's id, its prefix (kw_ + 8 characters, as \`token list\` shows them), the whole token, or its name`,
        'id',
      );
    }
    if (found.revokedAt) return found;
    return this.prisma.apiToken.update({ where: { id: found.id }, data: { revokedAt: new Date() } });
  }

  async countActive(): Promise<number> {
    return this.prisma.apiToken.count({ where: { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] } });
  }

  /** The principal a presented token stands for, or null (unknown, revoked, expired, malformed). */
  async authenticate(token: string, now = new Date()): Promise<Principal | null> {
    if (!hasValidChecksum(token)) return null;
    const record = await this.prisma.apiToken.findUnique({ where: { prefix: lookupPrefix(token) } });
    // Hash even when no row matched, so a miss costs what a hit does.
    const presented = hashToken(token);
    if (!record || !sameHash(presented, record.hash)) return null;
    if (record.revokedAt || (record.expiresAt && record.expiresAt.getTime() <= now.getTime())) return null;
    if (!record.lastUsedAt || now.getTime() - record.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.prisma.apiToken.update({ where: { id: record.id }, data: { lastUsedAt: now } });
    }
    return { kind: 'token', id: record.id, name: record.name, scopes: record.scopes.filter(isScope) as Scope[] };
  }
}
