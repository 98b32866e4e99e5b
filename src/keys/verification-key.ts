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

/** The WebCrypto algorithm jose checks a public CryptoKey of each JWS algorithm against (name, hash, curve). */
const PUBLIC_IMPORT: Readonly<Record<string, webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm>> = {
  __proto__: null as never,
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  RS384: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
  RS512: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  PS384: { name: 'RSA-PSS', hash: 'SHA-384' },
  PS512: { name: 'RSA-PSS', hash: 'SHA-512' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  ES512: { name: 'ECDSA', namedCurve: 'P-521' },
  EdDSA: { name: 'Ed25519' },
  Ed25519: { name: 'Ed25519' },
};

/**
 * A public key, held as a node KeyObject and handed to jose as a WebCrypto CryptoKey imported once per
 * algorithm: given the KeyObject, jose would convert it on every call (a WeakMap lookup, on node 20 a
 * JWK export and import the first time). jose still checks the CryptoKey against the token's algorithm
 * (type, hash, curve, RSA modulus of 2048 bits or more), and the key set has already matched the
 * algorithm against {@link PublicVerificationKey.algorithms}. A key WebCrypto will not import goes to
 * jose as the KeyObject, as before, so it is refused by jose with the error it always got.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import { algorithmsForPublicKey } from './key-algorithms.ts';
 * const { publicKey } = generateKeyPairSync('ed25519');
 * const key = new PublicVerificationKey(publicKey, 'ed-1', algorithmsForPublicKey(publicKey)); // EdDSA, Ed25519
 * const material = await key.material('EdDSA'); // a CryptoKey, imported once; later calls get it at once
 * ```
 */
export class PublicVerificationKey implements VerificationKey {
  readonly #key: KeyObject;
  readonly #imported = new Map<string, CryptoKey | KeyObject | Promise<CryptoKey | KeyObject>>();

  constructor(
    key: KeyObject,
    readonly kid: string | undefined,
    readonly algorithms: ReadonlySet<string>,
  ) {
    this.#key = key;
  }

  material(alg: string): CryptoKey | KeyObject | Promise<CryptoKey | KeyObject> {
    const known = this.#imported.get(alg);
    if (known) return known;
    const params = PUBLIC_IMPORT[alg];
    // An algorithm jose alone knows what to do with (none today: the key set only asks for ours).
    if (params === undefined) return this.#key;
    let importing: Promise<CryptoKey>;
    try {
      importing = webcrypto.subtle.importKey('spki', this.#key.export({ type: 'spki', format: 'der' }), params, false, ['verify']);
    } catch (error) {
      importing = Promise.reject(error);
    }
    const kept = importing.then(
      (imported) => this.#keep(alg, imported),
      // Refused by WebCrypto: jose gets the KeyObject and refuses it (or not) exactly as it did before.
      () => this.#keep(alg, this.#key),
    );
    this.#imported.set(alg, kept);
    return kept;
  }

  #keep(alg: string, material: CryptoKey | KeyObject): CryptoKey | KeyObject {
    this.#imported.set(alg, material);
    return material;
  }

  /** Whether `other` is the same public key (type and bytes), e.g. the same key published again by a JWKS. */
  sameKeyAs(other: VerificationKey): boolean {
    return other instanceof PublicVerificationKey && this.#key.equals(other.#key);
  }
}
