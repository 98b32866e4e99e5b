import { AuthConfigError } from '../errors/config-error.ts';
import { checkOptionNames, optionNames, optionalBoolean, optionalChoice, optionalFunction, optionalInteger, optionalSeconds } from '../util/option-checks.ts';
import type { FetchFunction } from '../util/guarded-fetch.ts';
import type { CachePolicy } from './key-cache-policy.ts';
import type { RemoteKeysEvent } from './remote-events.ts';

/**
 * What to do with a token that has no `kid` (option `tokensWithoutKid` of {@link fromJwks} and {@link fromIssuer}):
 * - `'if-single'` (default): verify it only when exactly one key of the set fits its algorithm. One
 *   signature check per token, as with a kid, and no guessing; fails during a rotation (two keys fit).
 * - `'try'`: try the keys that fit its algorithm, at most three. For providers that omit `kid` and rotate;
 *   a forged token then costs up to three signature checks.
 * - `'reject'`: refuse it (`KEY_NOT_FOUND`).
 *
 * @example
 * ```ts
 * import { fromJwks, type TokensWithoutKid } from 'grpc-jwt-auth';
 * const tokensWithoutKid: TokensWithoutKid = 'try';
 * const keys = fromJwks('https://idp.example/jwks.json', { tokensWithoutKid });
 * ```
 */
export type TokensWithoutKid = 'if-single' | 'try' | 'reject';

/**
 * Options of a fetched key set: {@link fromJwks} with a URL, and {@link fromIssuer} (where they apply to
 * the discovery document as well). Every duration is a number of seconds, fractions allowed; every option
 * has a default, listed in the README table "Keys: caching, rotation and outages".
 *
 * @example
 * ```ts
 * import { fromJwks } from 'grpc-jwt-auth';
 * const keys = fromJwks('https://idp.example/jwks.json', {
 *   timeout: 2, // seconds
 *   staleIfError: 4 * 3600, // keep verifying with held keys through a 4-hour outage
 *   onEvent: (event) => console.log(event.type, event.url),
 * });
 * ```
 */
export interface RemoteJwksOptions {
  /** Seconds a fetch may take, headers and body together. Default 5; at most 60. */
  readonly timeout?: number;
  /** Largest response accepted, in bytes. Default 262144 (256 KiB); a real JWKS is a few KiB. */
  readonly maxResponseBytes?: number;
  /** Seconds a document is used when the response has no `Cache-Control: max-age`. Default 600 (10 minutes); at most 86400. */
  readonly cacheMaxAge?: number;
  /**
   * Lower bound, in seconds, on a provider's `max-age` (also applied to `no-cache`/`no-store`). Default 60,
   * or `cacheMaxAge` when that is smaller: a provider must not make us fetch on every call. At most 86400.
   */
  readonly minCacheMaxAge?: number;
  /**
   * Upper bound, in seconds, on a provider's `max-age`. Default 86400 (24 hours); at most 604800 (a week):
   * a removed (revoked) key must leave our cache within a bounded time.
   */
  readonly maxCacheMaxAge?: number;
  /**
   * Least seconds between two refetches caused by tokens with an unknown `kid`. Default 30: a flood of
   * tokens with made-up `kid`s costs the provider at most one request per cooldown. Other fetches
   * (start-up, scheduled refresh, retry) do not count, so a new key that signs tokens right after one of
   * them costs one refetch. Failed fetches are retried after 1 s, doubling up to this value; hence at most
   * 3600, or calls would stay refused long after the provider is back.
   */
  readonly cooldown?: number;
  /**
   * Seconds keys keep verifying after they expire while the provider cannot be reached. Default 3600
   * (1 hour); 0 disables; at most 604800 (a week). Past it, calls fail with UNAVAILABLE until a fetch succeeds.
   */
  readonly staleIfError?: number;
  /** Allows `http:` URLs that are not loopback. Default false: keys fetched in plaintext can be swapped on the way. */
  readonly allowInsecureHttp?: boolean;
  /**
   * The function that sends the discovery and JWKS requests: default `globalThis.fetch`. Give one to go
   * through a proxy (Node's `fetch` ignores `HTTPS_PROXY`), to present a client certificate or trust a
   * private CA (undici's `fetch` with a `dispatcher`), or to add headers. Every rule above still holds for
   * it: URL rules, no redirects, the timeout and the size cap are enforced on what it returns. See
   * {@link FetchFunction}.
   */
  readonly fetch?: FetchFunction;
  /** Tokens without `kid`: see {@link TokensWithoutKid}. Default `'if-single'`. */
  readonly tokensWithoutKid?: TokensWithoutKid;
  /** Told about fetches, failures, rotations and skipped keys (for logs and metrics). Exceptions, and rejections of an async listener, are swallowed. */
  readonly onEvent?: (event: RemoteKeysEvent) => void;
  /**
   * The clock for cache ages, cooldowns and stale bounds: a function returning epoch milliseconds, like
   * `Date.now` (the default), for tests. The one number of milliseconds in the API; every other duration is
   * in seconds.
   */
  readonly clock?: () => number;
}

/**
 * {@link RemoteJwksOptions} validated: the fetch and cache policy, and what to do with tokens without kid.
 *
 * @example
 * ```ts
 * const { policy, tokensWithoutKid } = compileRemoteJwksOptions({ cooldown: 10 });
 * policy.cooldownMs; // 10000
 * tokensWithoutKid; // 'if-single'
 * ```
 */
export interface CompiledRemoteJwksOptions {
  readonly policy: CachePolicy;
  readonly tokensWithoutKid: TokensWithoutKid;
  /** The `fetch` option; undefined for `globalThis.fetch`, looked up at each request. */
  readonly fetch: FetchFunction | undefined;
}

const OPTION_NAMES = optionNames<RemoteJwksOptions>({
  timeout: true,
  maxResponseBytes: true,
  cacheMaxAge: true,
  minCacheMaxAge: true,
  maxCacheMaxAge: true,
  cooldown: true,
  staleIfError: true,
  allowInsecureHttp: true,
  tokensWithoutKid: true,
  onEvent: true,
  clock: true,
  fetch: true,
});

const TOKENS_WITHOUT_KID: readonly TokensWithoutKid[] = ['if-single', 'try', 'reject'];

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Timers cannot wait longer than 2^31-1 ms (about 24.8 days); a week is far beyond any sane setting.
const WEEK = 7 * DAY;

/** Internally the cache counts milliseconds, the unit of timers and clocks. */
const milliseconds = (seconds: number): number => Math.round(seconds * 1000);

/**
 * Validates the options of a fetched key set, at once: an unknown name (a typo such as `staleIfErorr`, or
 * a millisecond name of version 0.1) or a value out of range throws an {@link AuthConfigError} naming the
 * option, so a mistake cannot silently keep a default. The upper bounds also catch most millisecond
 * counts kept after the rename to seconds (`timeout: 5000`).
 *
 * @example
 * ```ts
 * compileRemoteJwksOptions({ cooldown: 10 }).policy.cooldownMs; // 10000
 * compileRemoteJwksOptions({ cooldownMs: 10_000 } as never); // throws AuthConfigError('cooldownMs', 'unknown option')
 * compileRemoteJwksOptions({ timeout: 5000 }); // throws AuthConfigError('timeout', ...): seconds, at most 60
 * ```
 */
export function compileRemoteJwksOptions(options: RemoteJwksOptions): CompiledRemoteJwksOptions {
  checkOptionNames(options, OPTION_NAMES);
  const cacheMaxAge = optionalSeconds(options.cacheMaxAge, 'cacheMaxAge', 0.1, DAY) ?? 10 * MINUTE;
  const minCacheMaxAge = optionalSeconds(options.minCacheMaxAge, 'minCacheMaxAge', 0.1, DAY) ?? Math.min(MINUTE, cacheMaxAge);
  const maxCacheMaxAge = optionalSeconds(options.maxCacheMaxAge, 'maxCacheMaxAge', 0.1, WEEK) ?? DAY;
  if (minCacheMaxAge > cacheMaxAge) throw new AuthConfigError('minCacheMaxAge', `must not exceed cacheMaxAge (${cacheMaxAge} s)`);
  if (maxCacheMaxAge < cacheMaxAge) throw new AuthConfigError('maxCacheMaxAge', `must not be below cacheMaxAge (${cacheMaxAge} s)`);
  const policy: CachePolicy = {
    timeoutMs: milliseconds(optionalSeconds(options.timeout, 'timeout', 0.001, MINUTE) ?? 5),
    maxBytes: optionalInteger(options.maxResponseBytes, 'maxResponseBytes', 1024, 16 * 1024 * 1024) ?? 256 * 1024,
    defaultMaxAgeMs: milliseconds(cacheMaxAge),
    minMaxAgeMs: milliseconds(minCacheMaxAge),
    maxMaxAgeMs: milliseconds(maxCacheMaxAge),
    cooldownMs: milliseconds(optionalSeconds(options.cooldown, 'cooldown', 0.001, HOUR) ?? 30),
    staleIfErrorMs: milliseconds(optionalSeconds(options.staleIfError, 'staleIfError', 0, WEEK) ?? HOUR),
    // Read once: a value checked on one read and used from another could turn http to any host on.
    allowInsecureHttp: optionalBoolean(options.allowInsecureHttp, 'allowInsecureHttp') ?? false,
    onEvent: optionalFunction<(event: RemoteKeysEvent) => void>(options.onEvent, 'onEvent'),
    clock: optionalFunction<() => number>(options.clock, 'clock') ?? Date.now,
  };
  const tokensWithoutKid = optionalChoice(options.tokensWithoutKid, 'tokensWithoutKid', TOKENS_WITHOUT_KID) ?? 'if-single';
  const fetch = optionalFunction<FetchFunction>(options.fetch, 'fetch', 'a function called like fetch(url, init)');
  return { policy, tokensWithoutKid, fetch };
}
