import { AuthConfigError } from '../errors/config-error.ts';
import { backoffDelay } from '../util/backoff.ts';
import { checkOptionNames } from '../util/option-checks.ts';
import { CACHED_TOKEN_OPTION_NAMES, compileCachedTokenOptions, type CachedTokenOptions } from './cached-token-options.ts';
import { readJwtExpiry } from './jwt-expiry.ts';
import { TokenError } from './token-error.ts';
import { callTokenFunction, type CheckedToken, type TokenFunction, type TokenProvider } from './token-source.ts';

/**
 * A caching, refreshing token provider.
 *
 * @example
 * ```ts
 * import { cachedToken, type CachedToken } from 'grpc-jwt-auth/client';
 * const source: CachedToken = cachedToken(async () => ({ token: 'opaque-token', expiresIn: 3600 }));
 * const current = await source.getToken();
 * source.expiresAt; // a Date, about an hour from now
 * const fresh = await source.refresh(current); // the server refused `current`: a new token
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
  /** When the cached token expires, or undefined when none is cached. A new `Date` at every read. */
  readonly expiresAt: Date | undefined;
}

interface Entry {
  readonly token: string;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

const DEFAULT_MARGIN = 60_000;
/** Milliseconds taken off an `expiresIn` for the issuer's whole-second rounding: 1 s, at most half the lifetime. */
const wholeSecondMargin = (expiresIn: number): number => Math.max(0, Math.min(1000, expiresIn * 500));

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
 * import { Client, credentials } from '@grpc/grpc-js';
 * import { cachedToken, createTokenInterceptor } from 'grpc-jwt-auth/client';
 * declare const identity: { getToken(): Promise<{ accessToken: string; expiresIn: number }> };
 * declare const OrdersClient: typeof Client;
 * const token = cachedToken(
 *   async () => {
 *     const { accessToken, expiresIn } = await identity.getToken();
 *     return { token: accessToken, expiresIn };
 *   },
 *   { refreshBefore: 120 },
 * );
 * const client = new OrdersClient('127.0.0.1:50051', credentials.createInsecure(), { interceptors: [createTokenInterceptor({ token })] });
 * ```
 */
export function cachedToken(fetch: TokenFunction, options: CachedTokenOptions = {}): CachedToken {
  if (typeof fetch !== 'function') throw new AuthConfigError('fetch', 'expected a function returning a token');
  checkOptionNames(options, CACHED_TOKEN_OPTION_NAMES);
  return createCachedToken(fetch, options, 'the token function');
}

/**
 * The cache behind {@link cachedToken} and the OAuth grants, which check the option names themselves
 * (their options add their own to {@link CachedTokenOptions}). `what` names the fetch in errors.
 *
 * @example
 * ```ts
 * const token = createCachedToken(async () => ({ token: 'opaque', expiresIn: 60 }), { refreshBefore: 10 }, 'the token endpoint');
 * ```
 */
export function createCachedToken(fetch: TokenFunction, options: CachedTokenOptions, what: string): CachedToken {
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
  function toEntry({ token, expiresIn }: CheckedToken, startedAt: number, now: number): Entry {
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
    const attempt = callTokenFunction(fetch, what)
      .then((fetched) => toEntry(fetched, startedAt, clock()))
      .then(
        (next) => {
          inflight = undefined;
          entry = next;
          failures = 0;
          lastError = undefined;
          return next;
        },
        // callTokenFunction and toEntry throw nothing but TokenErrors.
        (error: TokenError) => {
          inflight = undefined;
          failures += 1;
          lastError = error;
          retryAt = clock() + backoff(error);
          throw error;
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
      return entry === undefined ? undefined : new Date(entry.expiresAt);
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
