/**
 * The imported public key of DPoP proofs, by protected header. A client's header is byte-identical on
 * every proof (same `typ`, `alg`, `jwk`), so its key is imported and thumbprinted once, not per call:
 * importing a JWK per call costs three times the signature check.
 */

import type { webcrypto } from 'node:crypto';

/** What a verified header gave: the key to verify with, its thumbprint and the header's `alg`. */
export interface DpopKeyEntry {
  /** RFC 7638 SHA-256 thumbprint of the header's `jwk`: what `cnf.jkt` names. */
  readonly jkt: string;
  readonly key: webcrypto.CryptoKey;
  readonly alg: string;
}

/** Headers remembered: one per client key in use, far more than one server sees at once. */
export const DPOP_KEY_CACHE_ENTRIES = 10_000;

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
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(header, entry);
  }
}
