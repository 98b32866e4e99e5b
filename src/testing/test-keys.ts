import { generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Algorithm } from '../keys/key-algorithms.ts';

const generate = promisify(generateKeyPair);

/**
 * One signing key of a test issuer: the private half signs, the public JWK is published.
 *
 * @example
 * ```ts
 * const key: TestSigningKey = await generateTestKey('ES256', 'test-key-1');
 * key.publicJwk; // { kty: 'EC', crv: 'P-256', x, y, kid: 'test-key-1', alg: 'ES256', use: 'sig' }
 * ```
 */
export interface TestSigningKey {
  readonly kid: string;
  readonly alg: Algorithm;
  /** The private key, or the HMAC secret. */
  readonly signingKey: KeyObject | Uint8Array;
  /** The public JWK (undefined for HMAC secrets, which are never published). */
  readonly publicJwk: Readonly<Record<string, unknown>> | undefined;
}

const HMAC_BYTES: Partial<Record<Algorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };
const EC_CURVES: Partial<Record<Algorithm, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/**
 * Makes a fresh key for `alg`: never stored, gone with the process.
 *
 * @example
 * ```ts
 * const { signingKey, publicJwk } = await generateTestKey('HS256', 'test-key-1'); // 32 random bytes; publicJwk undefined
 * ```
 */
export async function generateTestKey(alg: Algorithm, kid: string): Promise<TestSigningKey> {
  const secretBytes = HMAC_BYTES[alg];
  if (secretBytes !== undefined) return { kid, alg, signingKey: new Uint8Array(randomBytes(secretBytes)), publicJwk: undefined };
  let pair: { publicKey: KeyObject; privateKey: KeyObject };
  const curve = EC_CURVES[alg];
  if (curve !== undefined) pair = await generate('ec', { namedCurve: curve });
  else if (alg === 'EdDSA' || alg === 'Ed25519') pair = await generate('ed25519');
  else pair = await generate('rsa', { modulusLength: 2048 });
  const publicJwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, alg, signingKey: pair.privateKey, publicJwk };
}
