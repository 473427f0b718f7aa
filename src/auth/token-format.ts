import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Token format: `kw_` + 30 base62 characters of randomness (178 bits) + 6 base62 characters of CRC32,
 * like GitHub's tokens: the prefix lets secret scanners find leaked tokens and the checksum lets them
 * (and us) reject typos and random strings without a database lookup.
 */
export const TOKEN_PREFIX = 'kw_';
const RANDOM_CHARS = 30;
const CHECKSUM_CHARS = 6;
const LOOKUP_CHARS = 8;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const TOKEN_PATTERN = new RegExp(`^${TOKEN_PREFIX}[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`);

export function generateToken(): string {
  // Rejection sampling keeps every character uniform over base62.
  let body = '';
  while (body.length < RANDOM_CHARS) {
    for (const byte of randomBytes(RANDOM_CHARS)) {
      if (byte < 248 && body.length < RANDOM_CHARS) body += BASE62[byte % 62];
    }
  }
  return `${TOKEN_PREFIX}${body}${checksum(body)}`;
}

export function hasValidChecksum(token: string): boolean {
  if (!TOKEN_PATTERN.test(token)) return false;
  const body = token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + RANDOM_CHARS);
  return token.slice(-CHECKSUM_CHARS) === checksum(body);
}

/** The part stored in clear to find a token's row (not enough to use it). */
export function lookupPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + LOOKUP_CHARS);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Compares two hex digests in constant time. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

function checksum(body: string): string {
  let n = crc32(Buffer.from(body));
  let out = '';
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}
