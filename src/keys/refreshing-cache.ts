import { AuthError } from '../errors/auth-error.ts';
import { retryDelayMs, type CachePolicy } from './key-cache-policy.ts';
import type { FetchTrigger } from './remote-events.ts';

/**
 * What a loader produced: the value and how long it may be used.
 *
 * @example
 * ```ts
 * import type { Loaded } from './refreshing-cache.ts';
 * const loaded: Loaded<string> = { value: 'the document', maxAgeMs: 300_000 };
 * ```
 */
export interface Loaded<T> {
  readonly value: T;
  readonly maxAgeMs: number;
}

/** Loads the document; rejects on any failure. Aborted when the cache is closed. */
type Loader<T> = (signal: AbortSignal) => Promise<Loaded<T>>;

/** Told about each fetch, for events. */
interface CacheHooks<T> {
  loaded(loaded: Loaded<T>, trigger: FetchTrigger): void;
  /** `staleUntil` is when the held value stops being usable (undefined when none is held). */
  failed(error: Error, trigger: FetchTrigger, staleUntil: Date | undefined, retryAt: Date): void;
}

/**
 * What a cache holds and how usable it is, for status reports.
 *
 * @example
 * ```ts
 * import type { CacheSnapshot } from './refreshing-cache.ts';
 * declare const snapshot: CacheSnapshot<string>;
 * if (snapshot.state === 'expired') console.warn(`unusable since ${snapshot.usableUntil?.toISOString()}: ${snapshot.lastError?.message}`);
 * ```
 */
export interface CacheSnapshot<T> {
  /** The last value accepted, however old (undefined before the first success). */
  readonly value: T | undefined;
  /** `'empty'` before the first success; then fresh, stale (usable past its age) or expired (unusable). */
  readonly state: 'fresh' | 'stale' | 'expired' | 'empty';
  readonly fetchedAt: Date | undefined;
  readonly freshUntil: Date | undefined;
  readonly usableUntil: Date | undefined;
  /** The last failure, while no fetch has succeeded since. */
  readonly lastError: Error | undefined;
  /** While failing (and not closed): no fetch starts before then. */
  readonly retryAt: Date | undefined;
}

interface Entry<T> {
  readonly value: T;
  /** When it was fetched. These three instants are on the cache's aging clock (see `#agingNow`). */
  readonly fetchedAt: number;
  /** Until then the value is fresh; afterwards a call kicks a background refresh. */
  readonly freshUntil: number;
  /** Until then the value may be used at all (fresh, or stale while the provider is failing). */
  readonly usableUntil: number;
}

/** Refresh when this share of the lifetime has passed, so a working provider never lets keys expire. */
const REFRESH_AHEAD_AT = 0.8;

/**
 * One remote document, cached: single flight (concurrent needs share one request), refresh ahead of expiry
 * on an unref'd timer (no call waits because keys are merely old), stale-if-error for a bounded time, and
 * a doubling retry delay after failures during which nobody fetches (a provider in an outage gets a
 * trickle of requests, never one per call).
 *
 * @example
 * ```ts
 * import { compileRemoteJwksOptions } from './remote-options.ts';
 * const cache = new RefreshingCache(
 *   async (signal) => ({ value: await (await fetch('https://idp.example/jwks.json', { signal })).text(), maxAgeMs: 60_000 }),
 *   compileRemoteJwksOptions({}).policy,
 *   { loaded: () => undefined, failed: (error) => console.warn(error.message) },
 *   'fromJwks(https://idp.example/jwks.json)',
 * );
 * const text = await cache.get(); // fetched once, then served from memory and refreshed in the background
 * cache.close();
 * ```
 */
export class RefreshingCache<T> {
  readonly #load: Loader<T>;
  readonly #policy: CachePolicy;
  readonly #hooks: CacheHooks<T>;
  readonly #description: string;
  readonly #controller = new AbortController();
  #entry: Entry<T> | undefined;
  #inFlight: Promise<T> | undefined;
  #failures = 0;
  #retryAt = Number.NEGATIVE_INFINITY;
  /** When the last fetch failed: a clock that reads earlier than this has stepped back. */
  #failedAt = Number.NEGATIVE_INFINITY;
  #lastError: Error | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The latest clock reading seen, and how far the clock has stepped back below it in all. */
  #latestReading = Number.NEGATIVE_INFINITY;
  #steppedBackBy = 0;

  constructor(load: Loader<T>, policy: CachePolicy, hooks: CacheHooks<T>, description: string) {
    this.#load = load;
    this.#policy = policy;
    this.#hooks = hooks;
    this.#description = description;
  }

  /** The value while it may be used (fresh or within the stale bound), else undefined. Never fetches. */
  held(): T | undefined {
    const entry = this.#entry;
    return entry !== undefined && this.#agingNow() < entry.usableUntil ? entry.value : undefined;
  }

  /**
   * The clock that ages entries: the policy's clock plus every step back it has taken. A wall clock stepped
   * back (an NTP correction, a VM resumed from a snapshot) would otherwise make held keys young again and
   * stretch the stale-if-error window by the size of the step: keys a provider removed, or a set that can
   * no longer be fetched, would verify that much longer. A step forward only ages entries sooner (a
   * refetch, never extra trust). Retry delays keep the plain clock: a step back makes a retry due at once.
   */
  #agingNow(): number {
    const now = this.#policy.clock();
    if (now < this.#latestReading) this.#steppedBackBy += this.#latestReading - now;
    this.#latestReading = now;
    return now + this.#steppedBackBy;
  }

  /**
   * A usable value: the held one at once when there is one (kicking a background refresh when it is
   * stale), otherwise the result of a fetch, shared with every concurrent caller.
   */
  get(): T | Promise<T> {
    const entry = this.#entry;
    const now = this.#agingNow();
    if (entry !== undefined && now < entry.usableUntil) {
      if (now >= entry.freshUntil) this.#background('expired');
      return entry.value;
    }
    return this.refresh(entry === undefined ? 'initial' : 'expired');
  }

  /** What the cache holds and how usable it is now. Never fetches. */
  snapshot(): CacheSnapshot<T> {
    const entry = this.#entry;
    // After close() nothing is fetched again: no retry to announce.
    const retrying = this.#lastError !== undefined && !this.#controller.signal.aborted;
    const now = this.#policy.clock();
    // Back on the policy's clock, so the instants read right against it after a step back.
    const offset = this.#agingNow() - now;
    const at = (time: number | undefined): Date | undefined => (time === undefined ? undefined : new Date(time - offset));
    return {
      value: entry?.value,
      state: entry === undefined ? 'empty' : this.#stateOf(entry),
      fetchedAt: at(entry?.fetchedAt),
      freshUntil: at(entry?.freshUntil),
      usableUntil: at(entry?.usableUntil),
      lastError: this.#lastError,
      retryAt: retrying ? new Date(this.#steppedBack(now) ? now : this.#retryAt) : undefined,
    };
  }

  #stateOf(entry: Entry<T>): 'fresh' | 'stale' | 'expired' {
    const now = this.#agingNow();
    if (now < entry.freshUntil) return 'fresh';
    return now < entry.usableUntil ? 'stale' : 'expired';
  }

  /** The fetch under way, if any: joining it costs the provider nothing. */
  get inFlight(): Promise<T> | undefined {
    return this.#inFlight;
  }

  /** True when the last fetch failed (and none has succeeded since). */
  get failing(): boolean {
    return this.#lastError !== undefined;
  }

  /** True when a new fetch may start now (not closed, not waiting out a retry delay). */
  mayFetch(): boolean {
    return !this.#controller.signal.aborted && this.#retryDue(this.#policy.clock());
  }

  #retryDue(now: number): boolean {
    return now >= this.#retryAt || this.#steppedBack(now);
  }

  /**
   * The wall clock reads earlier than the last failure: it stepped back (an NTP correction, a VM resumed
   * from a snapshot). The retry instant was computed on the old clock and would make the wait as long as
   * the step (an hour back: no fetch for an hour, every call UNAVAILABLE), so the retry is due at once.
   */
  #steppedBack(now: number): boolean {
    return now < this.#failedAt;
  }

  /**
   * Fetches now, or joins the fetch under way. Rejects with `ERR_AUTH_KEYS_UNAVAILABLE` when the fetch
   * fails, and at once (no request) while a retry delay runs or after {@link close}.
   */
  refresh(trigger: FetchTrigger): Promise<T> {
    if (this.#inFlight) return this.#inFlight;
    if (!this.mayFetch()) return Promise.reject(this.#unavailable());
    const running = this.#run(trigger);
    this.#inFlight = running;
    // Cleared only after every joiner saw the result; a later need starts a new fetch.
    void running.then(
      () => this.#settle(running),
      () => this.#settle(running),
    );
    return running;
  }

  /** Stops the timer and aborts a fetch under way. Held values stay readable; nothing is fetched again. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#controller.abort();
  }

  #settle(running: Promise<T>): void {
    if (this.#inFlight === running) this.#inFlight = undefined;
  }

  #unavailable(): AuthError {
    const why = this.#controller.signal.aborted ? 'resolver closed' : `last fetch failed: ${this.#lastError?.message ?? 'unknown error'}`;
    return new AuthError('ERR_AUTH_KEYS_UNAVAILABLE', `${this.#description}: no usable keys (${why})`, { cause: this.#lastError });
  }

  #background(trigger: FetchTrigger): void {
    if (this.#inFlight || !this.mayFetch()) return;
    // Failures are reported through the hooks; callers are served from the held value meanwhile.
    this.refresh(trigger).catch(() => undefined);
  }

  #schedule(at: number, trigger: FetchTrigger): void {
    clearTimeout(this.#timer);
    if (this.#controller.signal.aborted) return;
    const delay = Math.max(0, at - this.#policy.clock());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // Timers may fire a little before the wall clock says so: wait out the retry delay, never skip it.
      if (!this.#retryDue(this.#policy.clock())) this.#schedule(this.#retryAt, trigger);
      else this.#background(trigger);
    }, delay);
    // Key refresh must never keep a process alive that is otherwise done.
    this.#timer.unref();
  }

  async #run(trigger: FetchTrigger): Promise<T> {
    let loaded: Loaded<T>;
    try {
      loaded = await this.#load(this.#controller.signal);
    } catch (error) {
      if (this.#controller.signal.aborted) throw this.#unavailable();
      const now = this.#policy.clock();
      this.#failures += 1;
      this.#failedAt = now;
      this.#retryAt = now + retryDelayMs(this.#failures, this.#policy);
      this.#lastError = error instanceof Error ? error : new Error(String(error));
      const aging = this.#agingNow();
      const held = this.#entry !== undefined && aging < this.#entry.usableUntil ? now + (this.#entry.usableUntil - aging) : undefined;
      this.#hooks.failed(this.#lastError, trigger, held === undefined ? undefined : new Date(held), new Date(this.#retryAt));
      this.#schedule(this.#retryAt, 'retry');
      throw this.#unavailable();
    }
    const aging = this.#agingNow();
    this.#entry = {
      value: loaded.value,
      fetchedAt: aging,
      freshUntil: aging + loaded.maxAgeMs,
      usableUntil: aging + loaded.maxAgeMs + this.#policy.staleIfErrorMs,
    };
    const now = this.#policy.clock();
    this.#failures = 0;
    this.#retryAt = Number.NEGATIVE_INFINITY;
    this.#failedAt = Number.NEGATIVE_INFINITY;
    this.#lastError = undefined;
    this.#hooks.loaded(loaded, trigger);
    this.#schedule(now + loaded.maxAgeMs * REFRESH_AHEAD_AT, 'refresh-ahead');
    return loaded.value;
  }
}
