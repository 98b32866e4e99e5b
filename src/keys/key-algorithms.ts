import type { KeyObject } from 'node:crypto';
import { ed25519KeyWeakness } from './ed25519-key-checks.ts';
import { rsaKeyWeakness } from './rsa-key-checks.ts';

/**
 * Every JWS algorithm this library can verify. `none` is not, and never will be, among them.
 *
 * @example
 * ```ts
 * import { SUPPORTED_ALGORITHMS } from 'grpc-jwt-auth';
 * SUPPORTED_ALGORITHMS.includes('ES256'); // true
 * ```
 */
export const SUPPORTED_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/**
 * One of {@link SUPPORTED_ALGORITHMS}.
 *
 * @example
 * ```ts
 * import type { Algorithm } from 'grpc-jwt-auth';
 * const algorithms: Algorithm[] = ['RS256', 'ES256'];
 * ```
 */
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

const SUPPORTED: ReadonlySet<string> = new Set(SUPPORTED_ALGORITHMS);

/**
 * The algorithms a published (remote) key can serve: all but HMAC. A JWKS or discovery document never
 * yields a shared secret, so an `HS256` token against remote keys has nothing to be checked against, and
 * an `HS256` advertised by a provider is never honoured.
 *
 * @example
 * ```ts
 * PUBLIC_KEY_ALGORITHMS.has('RS256'); // true
 * PUBLIC_KEY_ALGORITHMS.has('HS256'); // false
 * ```
 */
export const PUBLIC_KEY_ALGORITHMS: ReadonlySet<string> = new Set(SUPPORTED_ALGORITHMS.filter((alg) => !alg.startsWith('HS')));

/**
 * True when `alg` is one of {@link SUPPORTED_ALGORITHMS} (exact, case-sensitive).
 *
 * @example
 * ```ts
 * isSupportedAlgorithm('rs256'); // false
 * ```
 */
export function isSupportedAlgorithm(alg: unknown): alg is Algorithm {
  return typeof alg === 'string' && SUPPORTED.has(alg);
}

/**
 * RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode(secret);
 * if (bytes.byteLength < MIN_SECRET_BYTES.HS256) throw new Error('secret too short for HS256');
 * ```
 */
export const MIN_SECRET_BYTES = { HS256: 32, HS384: 48, HS512: 64 } as const;

/** Public keys below this size are refused: RSA-1024 is within reach of factoring. */
const MIN_RSA_BITS = 2048;

const RSA_PSS_REFUSED =
  'RSA-PSS-restricted keys (id-RSASSA-PSS SPKI) are not supported; publish the key as a plain rsaEncryption key — PS256/384/512 verify with it';

const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGORITHM_BY_CURVE: Readonly<Record<string, string>> = {
  __proto__: null as never,
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

/**
 * HS algorithms a secret of this many bytes is long enough for.
 *
 * @example
 * ```ts
 * algorithmsForSecret(48); // Set { 'HS256', 'HS384' }
 * ```
 */
export function algorithmsForSecret(byteLength: number): Set<string> {
  const fits = new Set<string>();
  for (const [alg, min] of Object.entries(MIN_SECRET_BYTES)) if (byteLength >= min) fits.add(alg);
  return fits;
}

/**
 * The algorithms a public key can verify, decided by its type and curve, never by a token. Throws a
 * plain Error with a human reason for keys we refuse (small or weak RSA, RSA-PSS-restricted keys,
 * small-order or non-canonical Ed25519 keys, unsupported curves or types); callers turn it into a
 * configuration error naming the option, or a skipped key of a JWKS.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * algorithmsForPublicKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey); // Set { 'RS256', ..., 'PS512' }
 * algorithmsForPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey); // Set { 'ES384' }
 * ```
 */
export function algorithmsForPublicKey(key: KeyObject): Set<string> {
  switch (key.asymmetricKeyType) {
    case 'rsa-pss':
      // jose cannot verify with a Node `rsa-pss` KeyObject ("Unsupported JWK Key Type"): taken, such a key
      // would make every token, forged or not, end in ERR_AUTH_INTERNAL, so any client could make the
      // server answer INTERNAL and the mistake would only show at the first call. Refused here instead.
      // Not converted either: dropping the key's PSS parameters would silently widen what it verifies.
      throw new Error(RSA_PSS_REFUSED);
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw new Error(`RSA key of ${bits} bits is too small (minimum ${MIN_RSA_BITS})`);
      // e = 1 (anyone can forge) and ROCA moduli (the private key can be computed): Wycheproof JWK cases.
      const weakness = rsaKeyWeakness(key);
      if (weakness !== undefined) throw new Error(weakness);
      return new Set(RSA_ALGORITHMS);
    }
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
      const alg = EC_ALGORITHM_BY_CURVE[curve];
      if (!alg) throw new Error(`EC curve ${curve} is not supported (P-256, P-384, P-521 are)`);
      return new Set([alg]);
    }
    case 'ed25519': {
      // Small-order points (anyone can forge with S = 0) and non-canonical encodings.
      const weakness = ed25519KeyWeakness(key);
      if (weakness !== undefined) throw new Error(weakness);
      return new Set(['EdDSA', 'Ed25519']);
    }
    default:
      throw new Error(`key type ${String(key.asymmetricKeyType)} is not supported`);
  }
}
