/**
 * The imported public key of DPoP proofs, by protected header. A client's header is byte-identical on
 * every proof (same `typ`, `alg`, `jwk`), so its key is imported and thumbprinted once, not per call:
 * importing a JWK per call costs three times the signature check.
 */

import { constants, verify as verifySignature, type KeyObject, type VerifyKeyObjectInput, type VerifyPublicKeyInput } from 'node:crypto';
import type { DpopAlgorithm } from './dpop-options.ts';
import { makeRoom } from '../util/map-eviction.ts';

/** What a verified header gave: the key to verify with, its thumbprint and the header's `alg`. */
export interface DpopKeyEntry {
  /** RFC 7638 SHA-256 thumbprint of the header's `jwk`: what `cnf.jkt` names. */
  readonly jkt: string;
  /** The public key (imported by jose from the header's `jwk`, checked for weakness), as node:crypto uses it. */
  readonly key: KeyObject;
  readonly alg: DpopAlgorithm;
}

/** Headers remembered: one per client key in use, far more than one server sees at once. */
export const DPOP_KEY_CACHE_ENTRIES = 10_000;

/** How node:crypto verifies one JWS algorithm (RFC 7518 §3, RFC 8037 §3.1). */
interface SignatureScheme {
  /** The digest; `undefined` for Ed25519, which hashes inside the algorithm. */
  readonly digest: string | undefined;
  /** The exact length of a well-formed signature, in bytes, or `'modulus'` for RSA (the key's modulus length). */
  readonly length: number | 'modulus';
  readonly dsaEncoding?: 'ieee-p1363';
  readonly padding?: number;
  readonly saltLength?: number;
}

const ecdsa = (digest: string, length: number): SignatureScheme => ({ digest, length, dsaEncoding: 'ieee-p1363' });
// RFC 7518 §3.5: PSS with MGF1 over the same digest, salt as long as the digest (what jose and WebCrypto sign with).
const pss = (digest: string, saltLength: number): SignatureScheme => ({ digest, length: 'modulus', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
const pkcs1 = (digest: string): SignatureScheme => ({ digest, length: 'modulus', padding: constants.RSA_PKCS1_PADDING });

const SCHEMES: Readonly<Record<DpopAlgorithm, SignatureScheme>> = {
  // JWS ECDSA signatures are r || s, each the curve's size (RFC 7518 §3.4): not DER.
  ES256: ecdsa('sha256', 64),
  ES384: ecdsa('sha384', 96),
  ES512: ecdsa('sha512', 132),
  EdDSA: { digest: undefined, length: 64 },
  Ed25519: { digest: undefined, length: 64 },
  PS256: pss('sha256', 32),
  PS384: pss('sha384', 48),
  PS512: pss('sha512', 64),
  RS256: pkcs1('sha256'),
  RS384: pkcs1('sha384'),
  RS512: pkcs1('sha512'),
};

/**
 * Whether `signature` is `entry.alg`'s signature of `signingInput` (the ASCII `header.payload`) by `entry.key`.
 * Synchronous node:crypto, not jose's `compactVerify`: the header was checked when the entry was made (the
 * cache is keyed by its exact text), so re-decoding and re-parsing it per proof, and WebCrypto's promise and
 * thread-pool hop, are pure overhead. Safe because the scheme comes from the entry's `alg` (never from the
 * proof being checked: on a cache hit the header text, hence its `alg`, is the one that was checked), the
 * signature length is checked exactly before OpenSSL sees it (no truncated or padded r || s, no DER), and
 * the RSA padding and salt length are pinned, as WebCrypto pins them for jose.
 *
 * @example
 * ```ts
 * import { createPublicKey } from 'node:crypto';
 * declare const jwk: import('node:crypto').JsonWebKey;
 * const entry: DpopKeyEntry = { jkt: 'thumbprint', alg: 'ES256', key: createPublicKey({ key: jwk, format: 'jwk' }) };
 * signatureVerifies(entry, Buffer.from('eyJ0eXAiOiJkcG9wK2p3dCJ9.e30'), Buffer.alloc(64)); // false
 * ```
 */
export function signatureVerifies(entry: DpopKeyEntry, signingInput: Buffer, signature: Buffer): boolean {
  const scheme = SCHEMES[entry.alg];
  const length = scheme.length === 'modulus' ? Math.ceil((entry.key.asymmetricKeyDetails?.modulusLength ?? 0) / 8) : scheme.length;
  if (signature.length !== length || length === 0) return false;
  const key: VerifyKeyObjectInput | VerifyPublicKeyInput | KeyObject =
    scheme.dsaEncoding !== undefined
      ? { key: entry.key, dsaEncoding: scheme.dsaEncoding }
      : scheme.padding !== undefined
        ? { key: entry.key, padding: scheme.padding, ...(scheme.saltLength === undefined ? {} : { saltLength: scheme.saltLength }) }
        : entry.key;
  return verifySignature(scheme.digest ?? null, signingInput, key, signature);
}

/**
 * A least-recently-used map from the protected-header segment (the exact base64url text) to its key.
 * Entries go in only after a proof under that header verified: garbage headers never take a place.
 *
 * @example
 * ```ts
 * const cache = new DpopKeyCache(2);
 * declare const entry: DpopKeyEntry;
 * cache.set('eyJ0eXAiOiJkcG9wK2p3dCJ9', entry);
 * cache.get('eyJ0eXAiOiJkcG9wK2p3dCJ9'); // entry
 * ```
 */
export class DpopKeyCache {
  readonly #entries = new Map<string, DpopKeyEntry>();

  constructor(readonly maxEntries = DPOP_KEY_CACHE_ENTRIES) {}

  get size(): number {
    return this.#entries.size;
  }

  get(header: string): DpopKeyEntry | undefined {
    const entry = this.#entries.get(header);
    if (entry !== undefined) {
      // Most recently used last: eviction takes the first.
      this.#entries.delete(header);
      this.#entries.set(header, entry);
    }
    return entry;
  }

  set(header: string, entry: DpopKeyEntry): void {
    this.#entries.delete(header);
    makeRoom(this.#entries, this.maxEntries);
    this.#entries.set(header, entry);
  }
}
