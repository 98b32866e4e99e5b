import { webcrypto, type KeyObject } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import type { VerificationKey } from './resolver.ts';

const HMAC_HASH: Readonly<Record<string, string>> = { __proto__: null as never, HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

/**
 * An HMAC secret. Imported into WebCrypto once per algorithm and reused: handing jose raw bytes would
 * re-import the key on every call (most of the cost of an HS256 verification).
 *
 * @example
 * ```ts
 * import { algorithmsForSecret } from './key-algorithms.ts';
 * const bytes = new TextEncoder().encode('a shared secret of at least 32 bytes');
 * const key = new SecretVerificationKey(bytes, 'hs-1', algorithmsForSecret(bytes.byteLength)); // HS256 only
 * ```
 */
export class SecretVerificationKey implements VerificationKey {
  readonly #secret: Uint8Array;
  readonly #imported = new Map<string, CryptoKey | Promise<CryptoKey>>();

  constructor(
    secret: Uint8Array,
    readonly kid: string | undefined,
    readonly algorithms: ReadonlySet<string>,
  ) {
    this.#secret = secret;
  }

  material(alg: string): CryptoKey | Promise<CryptoKey> {
    const known = this.#imported.get(alg);
    if (known) return known;
    const importing = webcrypto.subtle.importKey('raw', this.#secret, { name: 'HMAC', hash: HMAC_HASH[alg] ?? 'SHA-256' }, false, ['verify']).then((key) => {
      this.#imported.set(alg, key);
      return key;
    });
    this.#imported.set(alg, importing);
    return importing;
  }
}

/**
 * A public key held as a node KeyObject; jose converts it once per algorithm and caches the result.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import { algorithmsForPublicKey } from './key-algorithms.ts';
 * const { publicKey } = generateKeyPairSync('ed25519');
 * const key = new PublicVerificationKey(publicKey, 'ed-1', algorithmsForPublicKey(publicKey)); // EdDSA, Ed25519
 * ```
 */
export class PublicVerificationKey implements VerificationKey {
  readonly #key: KeyObject;

  constructor(
    key: KeyObject,
    readonly kid: string | undefined,
    readonly algorithms: ReadonlySet<string>,
  ) {
    this.#key = key;
  }

  material(): KeyObject {
    return this.#key;
  }
}
