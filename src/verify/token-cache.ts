import { checkOptionNames, optionNames, optionalInteger, optionalSeconds } from '../util/option-checks.ts';
import type { KeyResolver, VerificationKey } from '../keys/resolver.ts';
import { makeRoom } from '../util/map-eviction.ts';

/**
 * Options of the verified-token cache: the `cache` option of {@link createAuthInterceptor} and
 * {@link createAuthenticator} (`false` there disables the cache). A bigger cache saves crypto on more
 * repeated tokens; a shorter `maxTtl` bounds how long a cached verdict is reused.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type TokenCacheOptions } from 'grpc-jwt-auth';
 * const cache: TokenCacheOptions = { maxEntries: 50_000, maxTtl: 60 };
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], cache });
 * ```
 */
export interface TokenCacheOptions {
  /** Most tokens held, a whole number from 1 to 10,000,000; the least recently used goes first. Default 10,000. */
  readonly maxEntries?: number;
  /** Longest an entry lives, in seconds (from 0.001 to one year), whatever the token's `exp`. Default 300. */
  readonly maxTtl?: number;
}

/** What the cache needs to know about a verified token to keep serving it honestly. */
export interface CacheEntry {
  /** The key that verified the token; the entry dies when its resolver no longer holds it. */
  readonly key: VerificationKey;
  readonly keys: KeyResolver;
  /**
   * When the token's time claims hold, in seconds since the epoch (the numbers the fresh check compares
   * with, so a hit ages exactly like a fresh verification): a hit only inside `[usableFrom, usableUntil)`.
   * Outside it the token is verified afresh, which gives the precise error.
   */
  readonly usableFrom: number;
  readonly usableUntil: number;
}

const CACHE_OPTION_NAMES = optionNames<TokenCacheOptions>({ maxEntries: true, maxTtl: true });

interface Stored<E> {
  readonly entry: E;
  /** Seconds since the epoch when this entry must be dropped: `usableUntil`, or earlier by `maxTtl`. */
  readonly evictAt: number;
}

/**
 * Verified tokens by their exact compact text. Only successes are stored: a failed verification is
 * never remembered, so no input can make a good token fail later (no negative-cache denial of service).
 * The key is the whole token, signature included, not a digest and not the `tokenId` (a digest of the
 * signed part): a hit skips the signature check, so it must only ever be given for the very string that
 * was verified; keyed on the signed part, a token with a forged signature would hit. ECDSA signatures
 * are malleable ((r, s) and (r, n − s) both verify), so one token may arrive under two strings: the
 * second is merely a miss, verified in full. Anything that must treat both as one (a denylist) keys on
 * `AuthContext.tokenId` instead.
 *
 * @example
 * ```ts
 * import type { KeyResolver, VerificationKey } from 'grpc-jwt-auth';
 * declare const entry: { key: VerificationKey; keys: KeyResolver; usableFrom: number; usableUntil: number };
 * const cache = new TokenCache<typeof entry>({ maxEntries: 1000 });
 * cache.set(token, entry, Date.now() / 1000);
 * const hit = cache.get(token, Date.now() / 1000); // the entry, or undefined once expired, evicted or its key is gone
 * ```
 */
export class TokenCache<E extends CacheEntry> {
  readonly #entries = new Map<string, Stored<E>>();
  readonly #maxEntries: number;
  readonly #maxTtl: number;

  constructor(options: TokenCacheOptions = {}) {
    // A misspelt `maxEntrys` would otherwise leave the default in force without a word.
    checkOptionNames(options, CACHE_OPTION_NAMES, 'cache');
    this.#maxEntries = optionalInteger(options.maxEntries, 'cache.maxEntries', 1, 10_000_000) ?? 10_000;
    // Zero would cache nothing while looking enabled: `cache: false` says that.
    this.#maxTtl = optionalSeconds(options.maxTtl, 'cache.maxTtl', 0.001, 365 * 24 * 3600) ?? 300;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The entry for this token at `now` (seconds since the epoch), if it is still good: inside its time
   * window and `maxTtl`, and its key still in the key set (a rotation or revocation at the provider ends
   * cached trust at once). A hit becomes the most recently used.
   */
  get(token: string, now: number): E | undefined {
    const stored = this.#entries.get(token);
    if (stored === undefined) return undefined;
    this.#entries.delete(token);
    const { entry } = stored;
    if (now >= stored.evictAt || now < entry.usableFrom || !entry.keys.holds(entry.key)) return undefined;
    this.#entries.set(token, stored);
    return entry;
  }

  /** Remembers a verified token at `now` (seconds), evicting the least recently used entries beyond the bound. */
  set(token: string, entry: E, now: number): void {
    const evictAt = Math.min(entry.usableUntil, now + this.#maxTtl);
    if (evictAt <= now) return;
    this.#entries.delete(token);
    makeRoom(this.#entries, this.#maxEntries);
    this.#entries.set(token, { entry, evictAt });
  }

  /** Drops one token, e.g. when the `validate` hook refused it. */
  delete(token: string): void {
    this.#entries.delete(token);
  }
}
