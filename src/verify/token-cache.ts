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
  /**
   * Most tokens held, a whole number from 1 to 10,000,000. Default 10,000. A new token waits in a small
   * probation segment (a tenth of the bound, at least 8 entries, all but one under 10) and earns its
   * place among the others by coming back, so tokens seen once never evict tokens in use (the README's
   * Performance section has the details).
   */
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

/**
 * The probation segment's share of `maxEntries` once the protected segment is full (until then new
 * tokens use the free room too). Simulated on the workloads of bench/mixed.ts (100 or 5,000 reused
 * tokens, 10 to 90% one-shot, 1,000 or 10,000 entries): 10%, 20% and 25% were within a point of each
 * other everywhere, 10% marginally ahead (more room for reused tokens); at the default bound a token's
 * second call still hits with 1,000 new tokens verified in between.
 */
const PROBATION_SHARE = 0.1;
/** The least probation: a handful of new tokens verified at once must not push each other out before their second call. */
const MIN_PROBATION = 8;

/** One cached verdict. A class, so every slot has one shape: the hit path reads it on every call. */
class Slot<E extends CacheEntry> {
  constructor(
    readonly entry: E,
    /** Seconds since the epoch when this entry must be dropped: `usableUntil`, or earlier by `maxTtl`. */
    readonly evictAt: number,
    /** The protected segment's insertion count when this slot last went to its tail (0 in probation). */
    public placed: number,
  ) {}

  /** Inside its time window and `maxTtl`, and its key still in the key set. */
  usable(now: number): boolean {
    const { entry } = this;
    return now < this.evictAt && now >= entry.usableFrom && entry.keys.holds(entry.key);
  }
}

/**
 * 30 bits of the token's last characters (its signature), a small integer: a Set of them holds no string
 * and allocates nothing per token. Only ever used to decide where a *verified* token is stored, never
 * whether a token is trusted: a collision costs one wrongly protected slot, nothing else.
 */
function fingerprint(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, token.length - 12); i < token.length; i++) hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  return hash >>> 2;
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
 * Admission (2Q, Johnson & Shasha 1994; the window of W-TinyLFU): a stream of tokens seen once (short-lived
 * tokens, DPoP-style flows, or an attacker with many valid tokens) must neither evict the tokens that
 * are reused nor cost more than their own slot.
 * - A new token enters **probation**, first in first out, at most a tenth of `maxEntries` once the
 *   other segment is full (before that it may use the free room). Its second call is a hit, as before.
 * - A hit in probation moves the token to **protected**, where the least recently used goes first (it
 *   is moved back to probation, not dropped: promotions and ghost admissions, not new tokens, are
 *   what push it out; a hot token called less often than once per ~`maxEntries` of those can be lost).
 * - A token that leaves probation unused leaves a 30-bit fingerprint of its signature in a bounded
 *   **ghost** memory (the last `maxEntries` to 2 × `maxEntries` of them); a token verified again while
 *   its fingerprint is there goes straight to protected. So a large population reused slowly (more
 *   users than probation holds) is still admitted, on its second verification.
 * So new tokens evict only probation entries and ghosts, never a protected one; `maxEntries` bounds
 * both segments together. Fingerprints only choose the segment of a token that was just verified: a hit
 * is still given only for the exact text stored.
 *
 * A hit in protected moves the entry to the tail only when it has aged past half the segment (counted
 * in insertions there): the hot set pays a Map lookup per call, not a delete and a set.
 *
 * @example
 * ```ts
 * import type { KeyResolver, VerificationKey } from 'grpc-jwt-auth';
 * declare const entry: { key: VerificationKey; keys: KeyResolver; usableFrom: number; usableUntil: number };
 * const cache = new TokenCache<typeof entry>({ maxEntries: 1000 });
 * cache.set(token, entry, Date.now() / 1000); // into probation
 * const hit = cache.get(token, Date.now() / 1000); // the entry (now protected), or undefined once expired, evicted or its key is gone
 * ```
 */
export class TokenCache<E extends CacheEntry> {
  /** New tokens, oldest first. */
  readonly #probation = new Map<string, Slot<E>>();
  /** Tokens that came back, least recently used first (approximately: see `#refreshAfter`). */
  readonly #protected = new Map<string, Slot<E>>();
  /** Fingerprints of tokens that left probation unused: the newer generation, then the older one. */
  #ghosts = new Set<number>();
  #olderGhosts = new Set<number>();
  readonly #maxEntries: number;
  readonly #maxTtl: number;
  /** Most entries in protected: `maxEntries` minus the probation share (0 when `maxEntries` is 1). */
  readonly #maxProtected: number;
  /** A protected hit moves to the tail once this many insertions there came after it. */
  readonly #refreshAfter: number;
  /** Insertions into protected so far (promotions, ghost admissions, refreshes). */
  #placed = 0;

  constructor(options: TokenCacheOptions = {}) {
    // A misspelt `maxEntrys` would otherwise leave the default in force without a word.
    checkOptionNames(options, CACHE_OPTION_NAMES, 'cache');
    this.#maxEntries = optionalInteger(options.maxEntries, 'cache.maxEntries', 1, 10_000_000) ?? 10_000;
    // Zero would cache nothing while looking enabled: `cache: false` says that.
    this.#maxTtl = optionalSeconds(options.maxTtl, 'cache.maxTtl', 0.001, 365 * 24 * 3600) ?? 300;
    // One entry at least stays for protected from a bound of 2 up; a bound of 1 is probation alone.
    const probation = Math.max(1, Math.min(this.#maxEntries - 1, Math.max(MIN_PROBATION, Math.round(this.#maxEntries * PROBATION_SHARE))));
    this.#maxProtected = this.#maxEntries - probation;
    this.#refreshAfter = Math.max(1, Math.floor(this.#maxProtected / 2));
  }

  get size(): number {
    return this.#probation.size + this.#protected.size;
  }

  /**
   * The entry for this token at `now` (seconds since the epoch), if it is still good: inside its time
   * window and `maxTtl`, and its key still in the key set (a rotation or revocation at the provider ends
   * cached trust at once). An entry that is no longer good is dropped. A hit in probation is promoted.
   */
  get(token: string, now: number): E | undefined {
    const slot = this.#protected.get(token);
    if (slot === undefined) return this.#fromProbation(token, now);
    if (!slot.usable(now)) {
      this.#protected.delete(token);
      return undefined;
    }
    if (this.#placed - slot.placed >= this.#refreshAfter) {
      this.#protected.delete(token);
      this.#protect(token, slot);
    }
    return slot.entry;
  }

  /**
   * Remembers a verified token at `now` (seconds): in probation, or in protected when its fingerprint is
   * among the ghosts (it was verified before and left unused). Evicts probation entries beyond the bound.
   */
  set(token: string, entry: E, now: number): void {
    const evictAt = Math.min(entry.usableUntil, now + this.#maxTtl);
    if (evictAt <= now) return;
    const slot = new Slot(entry, evictAt, 0);
    const wasProtected = this.#protected.delete(token);
    this.#probation.delete(token);
    this.#bound();
    if (this.#maxProtected > 0 && (wasProtected || this.#forget(fingerprint(token)))) this.#protect(token, slot);
    else this.#probation.set(token, slot);
  }

  /** Drops one token, e.g. when the `validate` hook refused it. */
  delete(token: string): void {
    if (!this.#protected.delete(token)) this.#probation.delete(token);
  }

  #fromProbation(token: string, now: number): E | undefined {
    const slot = this.#probation.get(token);
    if (slot === undefined) return undefined;
    if (!slot.usable(now)) {
      this.#probation.delete(token);
      return undefined;
    }
    // With `maxEntries: 1` there is no protected segment: the one entry stays where it is.
    if (this.#maxProtected > 0) {
      this.#probation.delete(token);
      this.#protect(token, slot);
    }
    return slot.entry;
  }

  /** Puts a slot at protected's tail; when protected is full, its least recently used move to probation's tail. */
  #protect(token: string, slot: Slot<E>): void {
    makeRoom(this.#protected, this.#maxProtected, (demoted, demotedSlot) => this.#probation.set(demoted, demotedSlot));
    this.#placed += 1;
    slot.placed = this.#placed;
    this.#protected.set(token, slot);
  }

  /**
   * Makes room for one more entry in all: the oldest probation entries go, and their fingerprints become
   * ghosts. Probation is never empty when the whole is full (protected holds less than `maxEntries`).
   */
  #bound(): void {
    makeRoom(this.#probation, this.#maxEntries - this.#protected.size, (evicted) => this.#remember(fingerprint(evicted)));
  }

  #remember(ghost: number): void {
    // Two generations of `maxEntries` each: forgetting is a swap, never a scan.
    if (this.#ghosts.size >= this.#maxEntries) {
      this.#olderGhosts = this.#ghosts;
      this.#ghosts = new Set();
    }
    this.#ghosts.add(ghost);
  }

  /** Whether this fingerprint is a ghost; it is one no more. */
  #forget(ghost: number): boolean {
    return this.#ghosts.delete(ghost) || this.#olderGhosts.delete(ghost);
  }
}
