import type { FetchFunction } from '../util/guarded-fetch.ts';
import { AuthError } from '../errors/auth-error.ts';
import { fetchJson } from './http-fetch.ts';
import { importJwks } from './jwk.ts';
import { PUBLIC_KEY_ALGORITHMS } from './key-algorithms.ts';
import { freshnessMs, type CachePolicy } from './key-cache-policy.ts';
import { KeyEvents, type KeysListener } from './key-events.ts';
import { KeySet, checkAlgorithmsWithin, keyNotFound } from './key-set.ts';
import type { KeysStatus } from './key-status.ts';
import { parseKeyUrl } from './key-url.ts';
import { RefreshingCache, type CacheSnapshot, type Loaded } from './refreshing-cache.ts';
import type { FetchTrigger } from './remote-events.ts';
import { compileRemoteJwksOptions, type CompiledRemoteJwksOptions, type RemoteJwksOptions, type TokensWithoutKid } from './remote-options.ts';
import type { KeyLookup, KeyResolver, VerificationKey } from './resolver.ts';
import { PublicVerificationKey } from './verification-key.ts';
import { UnknownKids } from './unknown-kids.ts';

/**
 * A key resolver that fetches its keys: {@link fromJwks} with a URL, or {@link fromIssuer}. Call `ready()`
 * at start-up so the first calls do not wait, and `close()` at shutdown.
 *
 * @example
 * ```ts
 * import { fromJwks, type RemoteKeyResolver } from 'grpc-jwt-auth';
 * const keys: RemoteKeyResolver = fromJwks('https://idp.example/jwks.json');
 * await keys.ready();
 * process.on('SIGTERM', () => keys.close());
 * ```
 */
export interface RemoteKeyResolver extends KeyResolver {
  /** Fetches now (shared with any fetch under way); rejects with `ERR_AUTH_KEYS_UNAVAILABLE` if no keys can be had. */
  ready(): Promise<void>;
  /** Stops refresh timers and aborts a fetch under way. Keys held go on verifying until they expire. */
  close(): void;
  /** The keys held, how usable they are, the last fetch and the last failure. Never fetches. */
  status(): KeysStatus;
  /** Adds a listener of the events `onEvent` gets (which stays in place); returns the function that removes it. */
  subscribe(listener: KeysListener): () => void;
}

/**
 * The status fields of one fetched document: its instants, and its last failure named by URL.
 *
 * @example
 * ```ts
 * import type { CacheSnapshot } from './refreshing-cache.ts';
 * declare const snapshot: CacheSnapshot<unknown>;
 * documentStatus(snapshot, 'https://idp.example/jwks.json').lastError; // e.g. 'https://idp.example/jwks.json: HTTP 503'
 * ```
 */
export function documentStatus(
  snapshot: CacheSnapshot<unknown>,
  url: string,
): Pick<KeysStatus, 'lastFetch' | 'freshUntil' | 'staleUntil' | 'lastError' | 'nextRetry'> {
  return {
    lastFetch: snapshot.fetchedAt,
    freshUntil: snapshot.freshUntil,
    staleUntil: snapshot.usableUntil,
    lastError: snapshot.lastError === undefined ? undefined : `${url}: ${snapshot.lastError.message}`,
    nextRetry: snapshot.retryAt,
  };
}

/** The most keys tried for one token (a token without kid, or a kid shared by several keys). */
const MAX_KEY_CANDIDATES = 3;
/** A key set with more keys is refused: providers publish a handful, and each key costs an import. */
const MAX_JWKS_KEYS = 100;

function sameAlgorithms(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((alg) => b.has(alg));
}

/** The same published key (kid, algorithms and key material), so a refresh can keep the old object. */
function sameKey(a: VerificationKey, b: VerificationKey): boolean {
  if (a.kid !== b.kid || a.algorithms.size === 0 || !sameAlgorithms(a.algorithms, b.algorithms)) return false;
  return a instanceof PublicVerificationKey && a.sameKeyAs(b);
}

/**
 * A remote JWKS: fetched defensively ({@link fetchJson}), cached within bounds with refresh ahead of expiry
 * and stale-if-error ({@link RefreshingCache}), refetched for an unknown `kid` at most once per cooldown,
 * with unknown kids remembered ({@link UnknownKids}). Built by {@link createRemoteJwks}; {@link fromIssuer}
 * builds one for the discovered `jwks_uri`.
 *
 * @example
 * ```ts
 * import { compileRemoteJwksOptions } from './remote-options.ts';
 * const keys = new RemoteJwksResolver(new URL('https://idp.example/jwks.json'), compileRemoteJwksOptions({ cooldown: 10 }));
 * ```
 */
export class RemoteJwksResolver implements RemoteKeyResolver {
  readonly kind = 'public';
  readonly description: string;
  readonly #url: URL;
  readonly #policy: CachePolicy;
  readonly #tokensWithoutKid: TokensWithoutKid;
  readonly #fetch: FetchFunction | undefined;
  readonly #cache: RefreshingCache<KeySet>;
  readonly #unknownKids = new UnknownKids();
  readonly #events: KeyEvents;
  /** The last accepted set, expired or not: the base for reusing unchanged keys and reporting rotations. */
  #last: KeySet | undefined;
  /** The last refetch an unknown kid started: joiners of it get no other. */
  #kidRefetch: Promise<KeySet> | undefined;
  /** Epoch milliseconds before which no unknown kid starts a refetch: one per cooldown. */
  #nextKidRefetchAt = Number.NEGATIVE_INFINITY;
  /** When that refetch started: a clock that reads earlier than this has stepped back. */
  #kidRefetchStartedAt = Number.NEGATIVE_INFINITY;

  /** `events`: where to report; {@link fromIssuer} passes its own, so its subscribers hear this key set too. */
  constructor(url: URL, options: CompiledRemoteJwksOptions, events = new KeyEvents(options.policy.onEvent)) {
    this.#url = url;
    this.#policy = options.policy;
    this.#events = events;
    this.#tokensWithoutKid = options.tokensWithoutKid;
    this.#fetch = options.fetch;
    this.description = `fromJwks(${url.href})`;
    this.#cache = new RefreshingCache(
      (signal) => this.#load(signal),
      options.policy,
      {
        loaded: (loaded, trigger) => this.#accepted(loaded, trigger),
        failed: (error, trigger, staleUntil, retryAt) =>
          this.#events.emit({ type: 'failed', document: 'jwks', url: this.#url.href, trigger, error, staleUntil, retryAt }),
      },
      this.description,
    );
  }

  checkAlgorithms(algorithms: readonly string[], option: string): void {
    // The keys are unknown before the first fetch; refuse what no public key can ever verify. Refusing HS*
    // here is what stops a token signed with the public key as an HMAC secret (algorithm confusion).
    checkAlgorithmsWithin(PUBLIC_KEY_ALGORITHMS, algorithms, option, this.description);
  }

  getKeys(lookup: KeyLookup): readonly VerificationKey[] | Promise<readonly VerificationKey[]> {
    const set = this.#cache.get();
    // Held keys answer synchronously: a call waits only on a cold cache or keys past the stale bound.
    return set instanceof KeySet ? this.#lookup(set, lookup) : set.then((fetched) => this.#lookup(fetched, lookup));
  }

  holds(key: VerificationKey): boolean {
    return this.#cache.held()?.has(key) ?? false;
  }

  async ready(): Promise<void> {
    await this.#cache.get();
  }

  close(): void {
    this.#cache.close();
  }

  status(): KeysStatus {
    const snapshot = this.#cache.snapshot();
    return Object.freeze({
      source: this.description,
      state: snapshot.state,
      kids: Object.freeze(snapshot.value?.keys.map((key) => key.kid) ?? []),
      ...documentStatus(snapshot, this.#url.href),
    });
  }

  subscribe(listener: KeysListener): () => void {
    return this.#events.subscribe(listener);
  }

  #lookup(set: KeySet, lookup: KeyLookup): readonly VerificationKey[] | Promise<readonly VerificationKey[]> {
    const { kid } = lookup;
    if (kid === undefined) return this.#withoutKid(set, lookup);
    if (set.hasKid(kid)) return this.#found(set, lookup);
    return this.#unknownKid(set, lookup, kid);
  }

  /**
   * A kid not in the set: a rotation (the provider signs with a key we have not fetched yet) or a forgery.
   * The cooldown bounds what forged kids cost the provider: at most one refetch for unknown kids per
   * cooldown. Fetches for other reasons (start-up, scheduled refresh, retry) neither use up nor restart
   * it: they may have been answered just before the provider published its new key, so a rotation right
   * after one still costs one refetch and no refused call.
   */
  #unknownKid(set: KeySet, lookup: KeyLookup, kid: string): readonly VerificationKey[] | Promise<readonly VerificationKey[]> {
    const now = this.#policy.clock();
    if (now < this.#kidRefetchStartedAt) this.#forgetCooldown();
    if (this.#unknownKids.has(kid, now)) return this.#found(set, lookup);
    const inFlight = this.#cache.inFlight;
    if (inFlight !== undefined && inFlight === this.#kidRefetch) return inFlight.then((fetched) => this.#afterKidRefetch(fetched, lookup, kid));
    if (inFlight !== undefined) {
      // Joining costs nothing; if the answer predates the new key, the kid is judged again on it.
      return inFlight.then((fetched) => (fetched.hasKid(kid) ? this.#found(fetched, lookup) : this.#unknownKid(fetched, lookup, kid)));
    }
    if (now >= this.#nextKidRefetchAt && this.#cache.mayFetch()) {
      this.#kidRefetchStartedAt = now;
      this.#nextKidRefetchAt = now + this.#policy.cooldownMs;
      const refetch = this.#cache.refresh('unknown-kid');
      this.#kidRefetch = refetch;
      return refetch.then((fetched) => this.#afterKidRefetch(fetched, lookup, kid));
    }
    // The provider is failing: we cannot tell a new key from a forged kid, so "retry later" is the honest answer.
    if (this.#cache.failing) throw new AuthError('ERR_AUTH_KEYS_UNAVAILABLE', `${this.description}: kid is unknown and the key set cannot be refreshed`);
    this.#unknownKids.remember(kid, this.#nextKidRefetchAt);
    return this.#found(set, lookup);
  }

  /**
   * The wall clock stepped back (an NTP correction, a VM resumed from a snapshot): the cooldown and the
   * kids remembered as unknown were measured on the old clock and would last as long as the step, so a
   * key the provider rotated in meanwhile would be refused for that long. Start afresh: a step back costs
   * the provider at most one more refetch.
   */
  #forgetCooldown(): void {
    this.#kidRefetchStartedAt = Number.NEGATIVE_INFINITY;
    this.#nextKidRefetchAt = Number.NEGATIVE_INFINITY;
    this.#unknownKids.clear();
  }

  /** After this cooldown's refetch the kid is still missing: refused, and remembered until the next one may run. */
  #afterKidRefetch(fetched: KeySet, lookup: KeyLookup, kid: string): readonly VerificationKey[] {
    if (!fetched.hasKid(kid)) this.#unknownKids.remember(kid, this.#nextKidRefetchAt);
    return this.#found(fetched, lookup);
  }

  #withoutKid(set: KeySet, lookup: KeyLookup): readonly VerificationKey[] {
    if (this.#tokensWithoutKid === 'try') return this.#found(set, lookup);
    if (this.#tokensWithoutKid === 'reject') {
      throw new AuthError('ERR_AUTH_KEY_NOT_FOUND', `${this.description}: token has no kid and tokensWithoutKid is 'reject'`);
    }
    const fitting = set.find(lookup, 2);
    if (fitting.length === 1) return fitting;
    if (fitting.length === 0) throw keyNotFound(lookup, this.description);
    throw new AuthError(
      'ERR_AUTH_KEY_NOT_FOUND',
      `${this.description}: token has no kid and several keys fit ${lookup.alg}; set tokensWithoutKid: 'try' to try them`,
    );
  }

  #found(set: KeySet, lookup: KeyLookup): readonly VerificationKey[] {
    const keys = set.find(lookup, MAX_KEY_CANDIDATES);
    if (keys.length === 0) throw keyNotFound(lookup, this.description);
    return keys;
  }

  async #load(signal: AbortSignal): Promise<Loaded<KeySet>> {
    const { timeoutMs, maxBytes, allowInsecureHttp } = this.#policy;
    const { body, cacheControl } = await fetchJson(this.#url, { timeoutMs, maxBytes, signal, fetch: this.#fetch, allowInsecureHttp });
    return { value: this.#importSet(body), maxAgeMs: freshnessMs(cacheControl, this.#policy) };
  }

  /**
   * Checks the document's shape and imports its keys. Broken or unsuitable keys are skipped and reported;
   * a set with no usable key at all counts as a failed fetch, so a provider briefly serving an empty or
   * garbled set does not take every call down while the keys we hold still work (stale-if-error).
   */
  #importSet(document: unknown): KeySet {
    const published = (document as { keys?: unknown })?.keys;
    if (Array.isArray(published) && published.length > MAX_JWKS_KEYS)
      throw new Error(`key set has ${published.length} keys; at most ${MAX_JWKS_KEYS} are accepted`);
    const { keys, skipped } = importJwks(document);
    for (const { kid, index, reason } of skipped) {
      this.#events.emit({ type: 'keySkipped', document: 'jwks', url: this.#url.href, kid, index, reason });
    }
    if (keys.length === 0) throw new Error(`key set has no usable verification key (${skipped.length} skipped)`);
    // Unchanged keys keep their identity, so a routine refresh does not look like a rotation to holds().
    const previous = this.#last?.keys ?? [];
    return new KeySet(keys.map((key) => previous.find((old) => sameKey(old, key)) ?? key));
  }

  #accepted(loaded: Loaded<KeySet>, trigger: FetchTrigger): void {
    const set = loaded.value;
    const before = this.#last;
    this.#last = set;
    // A new set may hold kids we remembered as unknown.
    this.#unknownKids.clear();
    const url = this.#url.href;
    this.#events.emit({ type: 'fetched', document: 'jwks', url, trigger, keyCount: set.size, maxAge: loaded.maxAgeMs / 1000 });
    if (before === undefined) return;
    const added = set.keys.filter((key) => !before.has(key)).map((key) => key.kid);
    const removed = before.keys.filter((key) => !set.has(key)).map((key) => key.kid);
    if (added.length > 0 || removed.length > 0) this.#events.emit({ type: 'rotated', document: 'jwks', url, added, removed });
  }
}

/**
 * Builds the resolver behind `fromJwks(url, options)`, validating the URL and every option at once.
 *
 * @example
 * ```ts
 * const keys = createRemoteJwks('https://idp.example/jwks.json', { staleIfError: 2 * 3600 });
 * ```
 */
export function createRemoteJwks(source: string | URL, options: RemoteJwksOptions = {}): RemoteJwksResolver {
  const compiled = compileRemoteJwksOptions(options);
  return new RemoteJwksResolver(parseKeyUrl(source, 'jwksUri', compiled.policy.allowInsecureHttp), compiled);
}
