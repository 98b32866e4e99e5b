import { backoffDelay } from '../util/backoff.ts';
import { AuthConfigError } from '../errors/config-error.ts';
import { checkOptionNames, optionalFunction } from '../util/option-checks.ts';
import type { RemoteKeysListener } from './remote-events.ts';

/**
 * How remote documents (a JWKS, a discovery document) are fetched and cached. All durations are
 * milliseconds; every option has a default, shown in the README section "Keys: caching, rotation and
 * outages".
 *
 * @example
 * ```ts
 * const options: RemoteFetchOptions = { timeoutMs: 2000, staleIfErrorMs: 6 * 3600_000, onEvent: (e) => log(e) };
 * ```
 */
export interface RemoteFetchOptions {
  /** Milliseconds a fetch may take, headers and body. Default 5000 (5 s). */
  readonly timeoutMs?: number;
  /** Largest response accepted, in bytes. Default 262144 (256 KiB); a real JWKS is a few KiB. */
  readonly maxResponseBytes?: number;
  /** How long a document is used when the response has no `Cache-Control: max-age`. Default 10 minutes. */
  readonly cacheMaxAgeMs?: number;
  /**
   * Lower bound on a provider's `max-age` (also applied to `no-cache`/`no-store`). Default 1 minute, or
   * `cacheMaxAgeMs` when that is smaller: a provider must not make us fetch on every call.
   */
  readonly minCacheMaxAgeMs?: number;
  /**
   * Upper bound on a provider's `max-age`. Default 24 hours, or `cacheMaxAgeMs` when that is larger: a
   * removed (revoked) key must leave our cache within a bounded time.
   */
  readonly maxCacheMaxAgeMs?: number;
  /**
   * Least time between two refetches caused by tokens with an unknown `kid`. Default 30 s: a flood of
   * tokens with random `kid`s costs the provider at most one request per cooldown. Other fetches (start-up,
   * scheduled refresh, retry) do not count, so a new key that signs tokens right after one of them costs
   * one refetch. Failed fetches are retried after 1 s, doubling up to this value.
   */
  readonly cooldownMs?: number;
  /**
   * How long keys keep verifying after they expire while the provider cannot be reached. Default 1 hour;
   * 0 disables. Past it, calls fail with UNAVAILABLE until a fetch succeeds.
   */
  readonly staleIfErrorMs?: number;
  /** Allows `http:` URLs that are not loopback. Default false: keys fetched in plaintext can be swapped on the way. */
  readonly allowInsecureHttp?: boolean;
  /** Told about fetches, failures, rotations and skipped keys (for logs and metrics). Exceptions are swallowed. */
  readonly onEvent?: RemoteKeysListener;
  /** The clock for cache ages, cooldowns and stale bounds, in epoch milliseconds. Default `Date.now`; for tests. */
  readonly clock?: () => number;
}

/**
 * {@link RemoteFetchOptions} validated, with defaults applied.
 *
 * @example
 * ```ts
 * const policy: CachePolicy = compileCachePolicy(options, REMOTE_FETCH_OPTION_NAMES);
 * ```
 */
export interface CachePolicy {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly defaultMaxAgeMs: number;
  readonly minMaxAgeMs: number;
  readonly maxMaxAgeMs: number;
  readonly cooldownMs: number;
  readonly staleIfErrorMs: number;
  readonly allowInsecureHttp: boolean;
  readonly onEvent: RemoteKeysListener | undefined;
  readonly clock: () => number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
// Timers cannot wait longer than 2^31-1 ms (about 24.8 days); a week is far beyond any sane setting.
const WEEK = 7 * 24 * HOUR;

/** The first retry after a failed fetch; later ones double, up to the cooldown. */
const FIRST_RETRY_MS = SECOND;

/**
 * Names of every option of {@link RemoteFetchOptions}, for typo detection.
 *
 * @example
 * ```ts
 * compileCachePolicy(options, [...REMOTE_FETCH_OPTION_NAMES, 'tokensWithoutKid']);
 * ```
 */
export const REMOTE_FETCH_OPTION_NAMES: readonly string[] = [
  'timeoutMs',
  'maxResponseBytes',
  'cacheMaxAgeMs',
  'minCacheMaxAgeMs',
  'maxCacheMaxAgeMs',
  'cooldownMs',
  'staleIfErrorMs',
  'allowInsecureHttp',
  'onEvent',
  'clock',
];

/**
 * A whole number of milliseconds (or bytes) from `min` to `max`, or `fallback`. Not `optionalSeconds` of
 * the shared option checks: these options count milliseconds, must be integers (timers and byte counts),
 * and the message must say so.
 */
function whole(value: unknown, option: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AuthConfigError(option, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Validates the fetch and cache options of a remote resolver. Every mistake throws an
 * {@link AuthConfigError} naming the option; unknown option names too (`allowedNames`), so a typo such
 * as `staleIfErrorMS` cannot silently keep a default.
 *
 * @example
 * ```ts
 * const policy = compileCachePolicy({ cooldownMs: 10_000 }, REMOTE_FETCH_OPTION_NAMES);
 * ```
 */
export function compileCachePolicy(options: RemoteFetchOptions, allowedNames: readonly string[]): CachePolicy {
  checkOptionNames(options, new Set(allowedNames));
  const defaultMaxAgeMs = whole(options.cacheMaxAgeMs, 'cacheMaxAgeMs', 100, WEEK, 10 * MINUTE);
  const minMaxAgeMs = whole(options.minCacheMaxAgeMs, 'minCacheMaxAgeMs', 100, WEEK, Math.min(MINUTE, defaultMaxAgeMs));
  const maxMaxAgeMs = whole(options.maxCacheMaxAgeMs, 'maxCacheMaxAgeMs', 100, WEEK, Math.max(24 * HOUR, defaultMaxAgeMs));
  if (minMaxAgeMs > defaultMaxAgeMs) throw new AuthConfigError('minCacheMaxAgeMs', `must not exceed cacheMaxAgeMs (${defaultMaxAgeMs})`);
  if (maxMaxAgeMs < defaultMaxAgeMs) throw new AuthConfigError('maxCacheMaxAgeMs', `must not be below cacheMaxAgeMs (${defaultMaxAgeMs})`);
  // Read once: a value checked on one read and used from another could turn http to any host on.
  const allowInsecureHttp: unknown = options.allowInsecureHttp;
  if (allowInsecureHttp !== undefined && typeof allowInsecureHttp !== 'boolean') throw new AuthConfigError('allowInsecureHttp', 'expected a boolean');
  const onEvent = optionalFunction<RemoteKeysListener>(options.onEvent, 'onEvent');
  const clock = optionalFunction<() => number>(options.clock, 'clock') ?? Date.now;
  return {
    timeoutMs: whole(options.timeoutMs, 'timeoutMs', 1, MINUTE, 5 * SECOND),
    maxBytes: whole(options.maxResponseBytes, 'maxResponseBytes', 1024, 16 * 1024 * 1024, 256 * 1024),
    defaultMaxAgeMs,
    minMaxAgeMs,
    maxMaxAgeMs,
    cooldownMs: whole(options.cooldownMs, 'cooldownMs', 1, 24 * HOUR, 30 * SECOND),
    staleIfErrorMs: whole(options.staleIfErrorMs, 'staleIfErrorMs', 0, WEEK, HOUR),
    allowInsecureHttp: allowInsecureHttp ?? false,
    onEvent,
    clock,
  };
}

/**
 * How long a fetched document is used: the response's `max-age` (`no-cache`/`no-store` count as 0) held
 * within the configured bounds, or the default when the header says nothing usable. `s-maxage` is for
 * shared caches and ignored; malformed or repeated `max-age` values are ignored rather than guessed at.
 *
 * @example
 * ```ts
 * freshnessMs('public, max-age=300', policy); // 300000, if within the bounds
 * ```
 */
export function freshnessMs(cacheControl: string | null, policy: CachePolicy): number {
  let noStore = false;
  const maxAges: string[] = [];
  for (const directive of (cacheControl ?? '').split(',')) {
    const [rawName = '', rawValue = ''] = directive.split('=', 2);
    const name = rawName.trim().toLowerCase();
    if (name === 'no-store' || name === 'no-cache') noStore = true;
    if (name === 'max-age') maxAges.push(rawValue.trim().replace(/^"(.*)"$/, '$1'));
  }
  if (noStore) return policy.minMaxAgeMs;
  const [value] = maxAges;
  if (maxAges.length !== 1 || value === undefined || !/^\d{1,12}$/.test(value)) return policy.defaultMaxAgeMs;
  return Math.min(policy.maxMaxAgeMs, Math.max(policy.minMaxAgeMs, Number(value) * SECOND));
}

/**
 * The wait before retrying after `failures` consecutive failed fetches: 1 s, doubling, at most the
 * cooldown. A provider in trouble gets a trickle of requests from us, not a stampede.
 *
 * @example
 * ```ts
 * retryDelayMs(3, policy); // 4000 with the default 30 s cooldown
 * ```
 */
export function retryDelayMs(failures: number, policy: CachePolicy): number {
  return backoffDelay(failures, FIRST_RETRY_MS, policy.cooldownMs);
}
