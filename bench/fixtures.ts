/**
 * Keys and tokens for the benchmark, made fresh in the server process. The load generator gets the
 * tokens over IPC; no key material leaves the server process.
 */
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export const ISSUER = 'https://bench.issuer';
export const AUDIENCE = 'bench-api';

export interface AlgorithmFixture {
  readonly alg: 'HS256' | 'RS256' | 'ES256' | 'EdDSA';
  readonly publicKey: KeyObject | Uint8Array;
  readonly privateKey: KeyObject | Uint8Array;
  readonly publicPem: string | undefined;
}

export function makeFixture(alg: AlgorithmFixture['alg']): AlgorithmFixture {
  if (alg === 'HS256') {
    const secret = new Uint8Array(randomBytes(32));
    return { alg, publicKey: secret, privateKey: secret, publicPem: undefined };
  }
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return { alg, publicKey: pair.publicKey, privateKey: pair.privateKey, publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** One token valid for an hour, with a distinguishing `jti`. */
export function signToken(fixture: AlgorithmFixture, jti: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'bench-user', scope: 'bench:call', jti })
    .setProtectedHeader({ alg: fixture.alg, kid: 'bench-key' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(fixture.privateKey);
}

/** Many distinct HS256 tokens quickly (HMAC by hand is fine for generating test inputs). */
export function signManyHs256(secret: Uint8Array, count: number): string[] {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'bench-key' })).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const payload = Buffer.from(JSON.stringify({ sub: `user-${i}`, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 3600, jti: String(i) })).toString(
      'base64url',
    );
    const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    tokens.push(`${header}.${payload}.${signature}`);
  }
  return tokens;
}

/**
 * Many distinct tokens of any fixture quickly, signed synchronously with node:crypto (fine for
 * generating test inputs): the fresh-token and mixed benchmarks need thousands of never-seen tokens.
 */
export function signMany(fixture: AlgorithmFixture, label: string, count: number): string[] {
  const header = Buffer.from(JSON.stringify({ alg: fixture.alg, kid: 'bench-key' })).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const claims = { sub: 'bench-user', scope: 'bench:call', jti: `${label}-${i}`, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 3600 };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature =
      fixture.alg === 'HS256'
        ? createHmac('sha256', fixture.privateKey as Uint8Array)
            .update(input)
            .digest()
        : sign(fixture.alg === 'EdDSA' ? null : 'sha256', Buffer.from(input), { key: fixture.privateKey as KeyObject, dsaEncoding: 'ieee-p1363' });
    tokens.push(`${input}.${signature.toString('base64url')}`);
  }
  return tokens;
}
