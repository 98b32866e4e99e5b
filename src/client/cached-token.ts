import { backoffDelay } from '../util/backoff.ts';
import { AuthConfigError } from '../errors/config-error.ts';
import { checkBearerToken } from './bearer-token.ts';
import { readJwtExpiry } from './jwt-expiry.ts';
import { checkOptionNames, optionalFunction, optionalSeconds } from '../util/option-checks.ts';
import { TokenError, isTokenError } from './token-error.ts';
import type { TokenProvider } from './token-source.ts';

/**
 * What a fetch function may return: a token, or a token with its lifetime in seconds (OAuth `expires_in`).
 *
 * @example
 * ```ts
 * const fetched: FetchedToken = { token: body.access_token, expiresIn: body.expires_in };
 * ```
 */
export type FetchedToken =
  | string
  | {
      /** The access token. */
      readonly token: string;
      /** Its lifetime in seconds from now, as the token endpoint's `expires_in`. */
      readonly expiresIn?: number;
    };

/**
 * Fetches a new access token, e.g. from an OAuth token endpoint.
 *
 * @example
 * ```ts
 * const fetch: TokenFetcher = async () => (await vault.read('orders-token')).value;
 * ```
 */
export type TokenFetcher = () => Promise<FetchedToken>;

/**
 * Options of {@link cachedToken}. Durations are seconds.
 *
 * @example
 * ```ts
 * const options: CachedTokenOptions = { refreshBefore: 120, jitter: 0.3, maxBackoff: 30 };
 * ```
 */
export interface CachedTokenOptions {
  /**
   * How long before expiry a refresh starts. Default: 10% of the token's lifetime, at most 60 s. Never
   * more than half the lifetime, so a short-lived token is not refreshed on every call.
   */
  readonly refreshBefore?: number;
  /**
   * Up to this fraction of `refreshBefore` is added at random, so that many clients started together do
   * not all refresh in the same second. From 0 to 1; default 0.2.
   */
  readonly jitter?: number;
  /**
   * Lifetime assumed for a token whose expiry is unknown (no `exp` claim, no `expiresIn`). Default: such
   * a token is refused with `ERR_TOKEN_EXPIRY_UNKNOWN`, because it could not be refreshed before expiry.
   */
  readonly assumedLifetime?: number;
  /** First wait after a failed fetch; it doubles with every failure in a row. Default 1. */
  readonly minBackoff?: number;
  /** Longest wait after failures, and the wait after a non-retryable error. Default 60. */
  readonly maxBackoff?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`; tests inject their own. */
  readonly clock?: () => number;
}

/**
 * A caching, refreshing token provider.
 *
 * @example
 * ```ts
 * const token: CachedToken = cachedToken(fetchToken);
 * const fresh = await token.refresh(rejectedToken);
 * ```
 */
export interface CachedToken extends TokenProvider {
  /**
   * The cached token while it is valid; starts a background refresh once it is due (the valid token is
   * still returned meanwhile); waits for a fetch only when there is no valid token.
   */
  getToken(): Promise<string>;
  /**
   * A fresh token because the server refused `rejected`: the rejected token is dropped, and if another
   * caller already replaced it, the replacement is returned without a fetch.
   */
  refresh(rejected?: string): Promise<string>;
  /** When the cached token expires (milliseconds since the epoch), or undefined when none is cached. */
  readonly expiresAt: number | undefined;
}

/**
 * The option names of {@link CachedTokenOptions}, which every caching source accepts.
 *
 * @example
 * ```ts
 * checkOptionNames(options, new Set([...CACHED_TOKEN_OPTION_NAMES, 'tokenUrl']));
 * ```
 */
export const CACHED_TOKEN_OPTION_NAMES: readonly string[] = ['refreshBefore', 'jitter', 'assumedLifetime', 'minBackoff', 'maxBackoff', 'clock'];

interface Entry {
  readonly token: string;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

const DEFAULT_MARGIN = 60_000;
/** Milliseconds taken off an `expiresIn` for the issuer's whole-second rounding: 1 s, at most half the lifetime. */
const wholeSecondMargin = (expiresIn: number): number => Math.max(0, Math.min(1000, expiresIn * 500));
const seconds = (value: number | undefined): number | undefined => (value === undefined ? undefined : value * 1000);

/** {@link CachedTokenOptions} checked, with defaults applied and durations in milliseconds. */
interface CompiledCachedTokenOptions {
  readonly refreshBefore: number | undefined;
  readonly jitter: number;
  readonly assumedLifetime: number | undefined;
  readonly minBackoff: number;
  readonly maxBackoff: number;
  readonly clock: () => number;
}

/** Checks the options and applies their defaults. */
function compileCachedTokenOptions(options: CachedTokenOptions): CompiledCachedTokenOptions {
  const jitter = options.jitter ?? 0.2;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) throw new AuthConfigError('jitter', 'expected a fraction from 0 to 1');
  const minBackoff = optionalSeconds(options.minBackoff, 'minBackoff', 0.01, 3600) ?? 1;
  const maxBackoff = optionalSeconds(options.maxBackoff, 'maxBackoff', minBackoff, 86_400) ?? Math.max(60, minBackoff);
  return {
    refreshBefore: seconds(optionalSeconds(options.refreshBefore, 'refreshBefore', 0, 86_400)),
    jitter,
    assumedLifetime: seconds(optionalSeconds(options.assumedLifetime, 'assumedLifetime', 1, 365 * 86_400)),
    minBackoff: minBackoff * 1000,
    maxBackoff: maxBackoff * 1000,
    clock: optionalFunction<() => number>(options.clock, 'clock') ?? Date.now,
  };
}

/**
 * Wraps a fetch function in a cache that refreshes ahead of expiry. The expiry comes from the returned
 * `expiresIn` (counted on this machine's clock from when the fetch started, so immune to clock skew with
 * the identity provider), else from the token's `exp` claim (read, not verified: see why in the source),
 * else `assumedLifetime`.
 *
 * - Single flight: however many calls want a token at once, one fetch runs and they share its result.
 * - Ahead of expiry: from `expiresAt - refreshBefore` calls still get the valid token at once while one
 *   background fetch replaces it; nobody waits for a refresh while a valid token exists.
 * - Failures: a failed fetch is not repeated before a back-off (1 s doubling to 60 s; straight to the
 *   maximum for non-retryable errors such as `invalid_client`). Meanwhile a still-valid token keeps being
 *   served; without one, calls fail at once with the last error instead of piling onto a failing endpoint.
 * - No timers: refreshes are driven by calls, so an idle client costs nothing and keeps no process alive.
 *
 * @example
 * ```ts
 * import { cachedToken, createTokenInterceptor } from 'grpc-jwt-auth';
 * const token = cachedToken(async () => {
 *   const { accessToken, expiresIn } = await myIdentityClient.getToken();
 *   return { token: accessToken, expiresIn };
 * }, { refreshBefore: 120 });
 * const client = new OrdersClient(target, credentials.createInsecure(), { interceptors: [createTokenInterceptor({ token })] });
 * ```
 */
export function cachedToken(fetch: TokenFetcher, options: CachedTokenOptions = {}): CachedToken {
  if (typeof fetch !== 'function') throw new AuthConfigError('fetch', 'expected a function returning a token');
  checkOptionNames(options, new Set(CACHED_TOKEN_OPTION_NAMES));
  const { refreshBefore, jitter, assumedLifetime, minBackoff, maxBackoff, clock } = compileCachedTokenOptions(options);

  let entry: Entry | undefined;
  let inflight: Promise<Entry> | undefined;
  let failures = 0;
  let retryAt = 0;
  let lastError: TokenError | undefined;

  /**
   * `expiresIn` counts from when the issuer made the token, which lies between `startedAt` (our request
   * left) and `now` (the answer arrived). Counting from `startedAt`, minus a second because issuers work
   * in whole seconds (`iat` rounded down), never places the expiry later than the token's `exp`. The second
   * is at most half the lifetime: a whole second off `expires_in: 1` would make every such token expired
   * on arrival, so a source of very short-lived tokens could never be used.
   */
  function toEntry(fetched: FetchedToken, startedAt: number, now: number): Entry {
    const { token, expiresIn } = typeof fetched === 'object' && fetched !== null ? fetched : { token: fetched, expiresIn: undefined };
    checkBearerToken(token, 'the token fetch function');
    if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn))) {
      throw new TokenError('ERR_TOKEN_SOURCE_FAILED', 'the token fetch function gave an expiresIn that is not a number of seconds', { retryable: false });
    }
    const expiresAt =
      expiresIn !== undefined
        ? startedAt + expiresIn * 1000 - wholeSecondMargin(expiresIn)
        : (readJwtExpiry(token) ?? (assumedLifetime === undefined ? undefined : startedAt + assumedLifetime));
    if (expiresAt === undefined) {
      throw new TokenError('ERR_TOKEN_EXPIRY_UNKNOWN', 'the token has no exp claim and no expiresIn came with it; set assumedLifetime to cache such tokens', {
        retryable: false,
      });
    }
    const lifetime = expiresAt - now;
    if (lifetime <= 0) {
      throw new TokenError(
        'ERR_TOKEN_EXPIRED',
        `the token source gave a token that expired ${Math.round(-lifetime / 1000)} s ago (is this machine's clock right?)`,
        { retryable: true },
      );
    }
    const margin = refreshBefore === undefined ? Math.min(DEFAULT_MARGIN, lifetime / 10) : refreshBefore;
    const jittered = margin * (1 + jitter * Math.random());
    return { token, expiresAt, refreshAt: expiresAt - Math.min(jittered, lifetime / 2) };
  }

  function backoff(error: TokenError): number {
    if (!error.retryable) return maxBackoff;
    const delay = backoffDelay(failures, minBackoff, maxBackoff);
    // Half fixed, half random: spreads the retries of many clients without ever retrying at once.
    return delay / 2 + (delay / 2) * Math.random();
  }

  function fetchOnce(): Promise<Entry> {
    if (inflight) return inflight;
    const startedAt = clock();
    const attempt = (async () => toEntry(await fetch(), startedAt, clock()))().then(
      (next) => {
        inflight = undefined;
        entry = next;
        failures = 0;
        lastError = undefined;
        return next;
      },
      (error: unknown) => {
        inflight = undefined;
        const tokenError = isTokenError(error)
          ? error
          : new TokenError('ERR_TOKEN_SOURCE_FAILED', 'the token fetch function threw an error', { retryable: true, cause: error });
        failures += 1;
        lastError = tokenError;
        retryAt = clock() + backoff(tokenError);
        throw tokenError;
      },
    );
    inflight = attempt;
    return attempt;
  }

  /** Waits for a fetch (joining one in flight), or fails at once while backing off. */
  async function fetchNow(): Promise<string> {
    if (!inflight && lastError && clock() < retryAt) throw lastError;
    return (await fetchOnce()).token;
  }

  return {
    get expiresAt() {
      return entry?.expiresAt;
    },
    async getToken() {
      const now = clock();
      const current = entry;
      if (current && now < current.expiresAt) {
        if (now >= current.refreshAt && !inflight && now >= retryAt) {
          // The error is kept in lastError and reported to whoever needs a token once this one expires.
          fetchOnce().catch(() => undefined);
        }
        return current.token;
      }
      return fetchNow();
    },
    async refresh(rejected) {
      const current = entry;
      if (current && (rejected === undefined || current.token === rejected)) {
        // The server refused it: never serve it again, even if the refresh fails.
        entry = undefined;
      } else if (current && clock() < current.expiresAt) {
        return current.token;
      }
      return fetchNow();
    },
  };
}
