/**
 * The options of {@link cachedToken}, which the OAuth grants take too: the interface, its name list, and
 * its checks with defaults applied. Durations are seconds for users, milliseconds inside.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { optionNames, optionalFunction, optionalSeconds } from '../util/option-checks.ts';
import { TokenError } from './token-error.ts';

/**
 * Options of {@link cachedToken}, which {@link clientCredentials} and {@link refreshingToken} take too.
 * Durations are numbers of seconds.
 *
 * @example
 * ```ts
 * import type { CachedTokenOptions } from 'grpc-jwt-auth/client';
 * const options: CachedTokenOptions = { refreshBefore: 120, jitter: 0.3, maxBackoff: 30 }; // seconds, and a fraction
 * ```
 */
export interface CachedTokenOptions {
  /**
   * How many seconds before expiry a refresh starts. Default: 10% of the token's lifetime, at most 60 s.
   * Never more than half the lifetime, so a short-lived token is not refreshed on every call.
   */
  readonly refreshBefore?: number;
  /**
   * Up to this fraction of `refreshBefore` is added at random, so that many clients started together do
   * not all refresh in the same second. From 0 to 1; default 0.2.
   */
  readonly jitter?: number;
  /**
   * Lifetime in seconds assumed for a token whose expiry is unknown (no `exp` claim, no `expiresIn`).
   * Default: such a token is refused with `ERR_TOKEN_EXPIRY_UNKNOWN`, because it could not be refreshed
   * before expiry.
   */
  readonly assumedLifetime?: number;
  /** Seconds to wait after a failed fetch; the wait doubles with every failure in a row. Default 1. */
  readonly minBackoff?: number;
  /** Longest wait in seconds after failures, and the wait after a non-retryable error. Default 60. */
  readonly maxBackoff?: number;
  /**
   * The clock, a function like `Date.now` (milliseconds since the epoch). Default `Date.now`; tests inject
   * their own. A reading that is not a number of milliseconds after 2001 fails with `ERR_TOKEN_SOURCE_FAILED`.
   */
  readonly clock?: () => number;
}

/**
 * The names of {@link CachedTokenOptions}, typed against it: every name, and only those. The grants'
 * name lists start from it.
 *
 * @example
 * ```ts
 * import { optionNames } from '../util/option-checks.ts';
 * import type { CachedTokenOptions } from './cached-token-options.ts';
 * const names = optionNames<CachedTokenOptions & { readonly tokenUrl: string }>({ ...CACHED_TOKEN_OPTIONS, tokenUrl: true });
 * ```
 */
export const CACHED_TOKEN_OPTIONS: { readonly [K in keyof Required<CachedTokenOptions>]: true } = {
  refreshBefore: true,
  jitter: true,
  assumedLifetime: true,
  minBackoff: true,
  maxBackoff: true,
  clock: true,
};

/**
 * The same names as a set, for `checkOptionNames`.
 *
 * @example
 * ```ts
 * import { checkOptionNames } from '../util/option-checks.ts';
 * checkOptionNames({ refreshBfore: 5 }, CACHED_TOKEN_OPTION_NAMES); // throws AuthConfigError('refreshBfore', 'unknown option')
 * ```
 */
export const CACHED_TOKEN_OPTION_NAMES = optionNames<CachedTokenOptions>(CACHED_TOKEN_OPTIONS);

const seconds = (value: number | undefined): number | undefined => (value === undefined ? undefined : value * 1000);

/**
 * {@link CachedTokenOptions} checked, with defaults applied and durations in milliseconds.
 *
 * @example
 * ```ts
 * const { minBackoff, maxBackoff }: CompiledCachedTokenOptions = compileCachedTokenOptions({ minBackoff: 2 }); // 2000, 60000
 * ```
 */
export interface CompiledCachedTokenOptions {
  readonly refreshBefore: number | undefined;
  readonly jitter: number;
  readonly assumedLifetime: number | undefined;
  readonly minBackoff: number;
  readonly maxBackoff: number;
  readonly clock: () => number;
}

/** 2001-01-01 in milliseconds: a smaller reading comes from a clock in seconds or `performance.now`, not `Date.now`. */
const EARLIEST_READING = Date.UTC(2001, 0, 1);

/**
 * The clock option, its readings checked. A clock in seconds would make every token look valid a thousand
 * times its lifetime (refreshed only once the server refuses it), and NaN would make none ever cached (a
 * request to the identity provider per call). Either is refused, as the server refuses such a clock.
 */
function checkedClock(clock: () => number): () => number {
  return () => {
    let now: unknown;
    try {
      now = clock();
    } catch (cause) {
      throw new TokenError('ERR_TOKEN_SOURCE_FAILED', 'the clock option threw an error', { retryable: false, cause });
    }
    if (typeof now !== 'number' || !Number.isFinite(now) || now < EARLIEST_READING) {
      throw new TokenError('ERR_TOKEN_SOURCE_FAILED', 'the clock option must return milliseconds since the epoch, like Date.now()', { retryable: false });
    }
    return now;
  };
}

/** A number from 0 to 1, or undefined when not given. */
function optionalFraction(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new AuthConfigError(option, 'expected a fraction from 0 to 1');
  return value;
}

/**
 * Checks the options (names are checked by the caller, which may take more) and applies their defaults.
 *
 * @example
 * ```ts
 * compileCachedTokenOptions({ jitter: 2 }); // throws AuthConfigError('jitter', 'expected a fraction from 0 to 1')
 * ```
 */
export function compileCachedTokenOptions(options: CachedTokenOptions): CompiledCachedTokenOptions {
  const minBackoff = optionalSeconds(options.minBackoff, 'minBackoff', 0.01, 3600) ?? 1;
  const maxBackoff = optionalSeconds(options.maxBackoff, 'maxBackoff', minBackoff, 86_400) ?? Math.max(60, minBackoff);
  return {
    refreshBefore: seconds(optionalSeconds(options.refreshBefore, 'refreshBefore', 0, 86_400)),
    jitter: optionalFraction(options.jitter, 'jitter') ?? 0.2,
    assumedLifetime: seconds(optionalSeconds(options.assumedLifetime, 'assumedLifetime', 1, 365 * 86_400)),
    minBackoff: minBackoff * 1000,
    maxBackoff: maxBackoff * 1000,
    clock: checkedClock(optionalFunction<() => number>(options.clock, 'clock') ?? Date.now),
  };
}
