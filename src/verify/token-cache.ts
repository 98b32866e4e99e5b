import { AuthConfigError } from '../errors.ts';
import type { KeyResolver, VerificationKey } from '../keys/resolver.ts';
import type { AuthContext } from '../auth-context.ts';

/** Options of the verified-token cache (`cache` in the interceptor options; `false` disables it). */
export interface TokenCacheOptions {
  /** Most tokens held; the least recently used goes first. Default 10,000. */
  readonly maxEntries?: number;
  /** Longest an entry lives, in seconds, whatever the token's `exp`. Default 300. */
  readonly maxTtl?: number;
}

/** What a cache entry remembers about a verified token. */
export interface CachedToken {
  readonly context: AuthContext;
  /** The key that verified the token; the entry dies when the resolver no longer holds it. */
  readonly key: VerificationKey;
  readonly keys: KeyResolver;
  /** Milliseconds since the epoch after which the token is refused (`exp` plus tolerance). */
  readonly validUntil: number | undefined;
  /** Anything the owner wants back on a hit (the verifier that produced the entry). */
  readonly owner: unknown;
}

interface Entry extends CachedToken {
  /** Milliseconds since the epoch when this entry must be dropped. */
  readonly evictAt: number;
}

export const DEFAULT_CACHE_ENTRIES = 10_000;
export const DEFAULT_CACHE_TTL = 300;

/**
 * Verified tokens by their exact compact text. Only successes are stored: a failed verification is
 * never remembered, so no input can make a good token fail later (no negative-cache denial of service).
 * The key is the whole token, not a digest: equality of the full string is the only safe identity, and
 * the strict format check already gave each token exactly one spelling.
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxTtlMs: number;

  constructor(options: TokenCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_CACHE_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new AuthConfigError('cache.maxEntries', 'expected a whole number of at least 1');
    const maxTtl = options.maxTtl ?? DEFAULT_CACHE_TTL;
    if (typeof maxTtl !== 'number' || !Number.isFinite(maxTtl) || maxTtl <= 0) throw new AuthConfigError('cache.maxTtl', 'expected a positive number of seconds');
    this.#maxEntries = maxEntries;
    this.#maxTtlMs = maxTtl * 1000;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The entry for this token, if it is still good: not past its eviction time and its key still in the
   * key set (a rotation or revocation at the provider ends cached trust at once). A hit becomes the most
   * recently used. The caller still re-checks time claims and runs per-call rules.
   */
  get(token: string, now: number): CachedToken | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    this.#entries.delete(token);
    if (now >= entry.evictAt || !entry.keys.holds(entry.key)) return undefined;
    this.#entries.set(token, entry);
    return entry;
  }

  /** Remembers a verified token, evicting the least recently used entries beyond the bound. */
  set(token: string, verified: CachedToken, now: number): void {
    const evictAt = Math.min(verified.validUntil ?? Number.POSITIVE_INFINITY, now + this.#maxTtlMs);
    if (evictAt <= now) return;
    this.#entries.delete(token);
    this.#entries.set(token, { ...verified, evictAt });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Drops one token, e.g. when the `validate` hook refused it. */
  delete(token: string): void {
    this.#entries.delete(token);
  }
}
