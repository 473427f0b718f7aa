import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });

export const JWT_ISSUER = 'https://idp.example.test/';
export const JWT_AUDIENCE = 'keywarden-api';

export interface Jwks {
  /** Settings for startServer's `auth.jwt`. */
  settings: { jwksUrl: string; issuer: string; audience: string };
  /** A token signed by the published key: exp in 5 minutes, iat now, the issuer and audience above. */
  sign(claims: { sub: unknown; scope: string }): Promise<string>;
  close(): Promise<void>;
}

/** A JWKS endpoint on 127.0.0.1 publishing one RS256 key, and a signer for it. */
export async function startJwks(): Promise<Jwks> {
  const jose: Jose = await import('jose');
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256');
  const kid = 'support-key-1';
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return {
    settings: { jwksUrl, issuer: JWT_ISSUER, audience: JWT_AUDIENCE },
    // SignJWT#setSubject refuses non-strings: the claim is set directly, as a hostile issuer could.
    sign: ({ sub, scope }) =>
      new jose.SignJWT({ scope, sub } as Record<string, unknown>)
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(JWT_ISSUER)
        .setAudience(JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
