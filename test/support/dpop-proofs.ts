/**
 * A hostile DPoP proof builder: real proofs signed with jose, and proofs broken in any one way (any header,
 * any claim, any signing key, no signature at all), for the server's DPoP tests.
 */
import { KeyObject, createHash, generateKeyPairSync, randomUUID, sign, type webcrypto } from 'node:crypto';
import assert from 'node:assert/strict';
import { isAuthError, type AuthError } from '../../src/errors/auth-error.ts';
import type { AuthErrorCode } from '../../src/errors/codes.ts';
import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** A proof key pair: what a client holds, with its public JWK and RFC 7638 thumbprint (`cnf.jkt`). */
export interface ProofKey {
  readonly alg: string;
  readonly privateKey: webcrypto.CryptoKey | KeyObject | Uint8Array;
  readonly publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint of `publicJwk`. */
  readonly jkt: string;
}

/** The logical origin both sides use, independent of the port the test server listens on. */
export const TEST_ORIGIN = 'https://orders.test';

/** A fresh key pair for `alg` (extractable, so tests can export it). */
export async function proofKey(alg = 'ES256', options: { modulusLength?: number } = {}): Promise<ProofKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

/** An RSA key of `bits` made by node (jose refuses to generate one under 2048 bits), for proofs signed by {@link rawProof}. */
export async function weakRsaKey(bits: number): Promise<ProofKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
  return { alg: 'PS256', privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

/** base64url(SHA-256(token)): a proof's `ath`. */
export function ath(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

/** What to change in one proof. `undefined` in `claims` or `header` removes that member. */
export interface ProofOverrides {
  /** The method path; default `/test.echo.v1.Echo/Unary`. */
  readonly path?: string;
  /** The origin of `htu`; default {@link TEST_ORIGIN}. */
  readonly origin?: string;
  /** The access token whose hash becomes `ath`; none: no `ath`. */
  readonly accessToken?: string | undefined;
  /** `iat` in seconds; default now (from `now`, milliseconds). */
  readonly now?: number;
  /** Claims set over the defaults (`jti`, `htm`, `htu`, `iat`, `ath`). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Header members set over the defaults (`typ`, `alg`, `jwk`). */
  readonly header?: Readonly<Record<string, unknown>>;
  /** Sign with this key instead (the header still carries `key`'s jwk unless `header.jwk` says otherwise). */
  readonly signWith?: ProofKey;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** The header and payload a proof would have. */
export function proofParts(key: ProofKey, overrides: ProofOverrides = {}): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const path = overrides.path ?? '/test.echo.v1.Echo/Unary';
  const claims = withoutUndefined({
    jti: randomUUID(),
    htm: 'POST',
    htu: `${overrides.origin ?? TEST_ORIGIN}${path}`,
    iat: Math.floor((overrides.now ?? Date.now()) / 1000),
    ...(overrides.accessToken === undefined ? {} : { ath: ath(overrides.accessToken) }),
    ...overrides.claims,
  });
  const header = withoutUndefined({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...overrides.header });
  return { header, claims };
}

/** A proof signed by `key` (or `overrides.signWith`) with jose, whatever its header says. */
export async function makeProof(key: ProofKey, overrides: ProofOverrides = {}): Promise<string> {
  const { header, claims } = proofParts(key, overrides);
  const signer = overrides.signWith ?? key;
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header as { alg: string }).sign(signer.privateKey);
}

/** A proof with `alg: none` and an empty signature. */
export function unsignedProof(key: ProofKey, overrides: ProofOverrides = {}): string {
  const { header, claims } = proofParts(key, overrides);
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ ...header, alg: 'none' })}.${encode(claims)}.`;
}

/** A proof HMAC-signed with `secret`, the secret itself in the header as an `oct` jwk. */
export async function symmetricProof(secret: Uint8Array, overrides: ProofOverrides = {}): Promise<string> {
  const jwk: JWK = { kty: 'oct', k: Buffer.from(secret).toString('base64url') };
  const key: ProofKey = { alg: 'HS256', privateKey: secret, publicJwk: jwk, jkt: await calculateJwkThumbprint(jwk) };
  return makeProof(key, overrides);
}

/** Node's digest for an algorithm's signature (undefined for EdDSA, which hashes internally). */
const DIGESTS: Readonly<Record<string, string | undefined>> = {
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  RS256: 'sha256',
  PS256: 'sha256',
  EdDSA: undefined,
};

/**
 * A proof signed with node:crypto over exactly the header given: for headers jose refuses to sign
 * (`crit` with an unknown extension, `b64: false`). `key.alg` decides the signature.
 */
export function rawProof(key: ProofKey, overrides: ProofOverrides = {}): string {
  const { header, claims } = proofParts(key, overrides);
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(claims)}`;
  const signer = (overrides.signWith ?? key).privateKey;
  const privateKey = signer instanceof KeyObject ? signer : KeyObject.from(signer as webcrypto.CryptoKey);
  const signature = sign(DIGESTS[key.alg] ?? null, Buffer.from(input), {
    key: privateKey,
    ...(key.alg.startsWith('ES') ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    ...(key.alg.startsWith('PS') ? { padding: 6, saltLength: 32 } : {}),
  });
  return `${input}.${signature.toString('base64url')}`;
}

/** The AuthError a DPoP verification rejected with; fails the test when it was accepted or threw something else. */
export async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  let failure: unknown;
  try {
    await promise;
  } catch (error) {
    failure = error;
  }
  assert.ok(failure !== undefined, 'accepted, expected a refusal');
  assert.ok(isAuthError(failure), `not an AuthError: ${String(failure)}`);
  return failure;
}

/** As {@link refusal}, and its code must be `code`. */
export async function refusedWith(code: AuthErrorCode, promise: Promise<unknown>): Promise<AuthError> {
  const failure = await refusal(promise);
  assert.equal(failure.code, code, failure.message);
  return failure;
}
