import { AuthConfigError } from '../errors/config-error.ts';
import { checkBearerToken } from './bearer-token.ts';
import { TokenError, isTokenError } from './token-error.ts';

/**
 * A function that gives the current access token. Called for every call: cache inside, or use {@link cachedToken}.
 *
 * @example
 * ```ts
 * const token: TokenFunction = async () => (await vault.read('orders-token')).value;
 * ```
 */
export type TokenFunction = () => string | Promise<string>;

/**
 * An object that gives the current access token, such as the one {@link cachedToken} returns.
 *
 * @example
 * ```ts
 * const provider: TokenProvider = {
 *   getToken: () => myIdentityClient.currentToken(),
 *   refresh: () => myIdentityClient.renew(),
 * };
 * ```
 */
export interface TokenProvider {
  /** The access token to send now. */
  getToken(): Promise<string>;
  /**
   * A token to use instead of `rejected`, which the server refused as expired. Optional: without it,
   * `getToken()` is asked again and the call is retried only if the answer differs.
   */
  refresh?(rejected: string): Promise<string>;
}

/**
 * Where access tokens come from: a fixed token, a function, or a provider such as {@link cachedToken},
 * {@link clientCredentials} or {@link refreshingToken}.
 *
 * @example
 * ```ts
 * import type { TokenSource } from 'grpc-jwt-auth';
 * const fixed: TokenSource = process.env.API_TOKEN!;
 * const dynamic: TokenSource = async () => (await vault.read('api-token')).value;
 * const refreshing: TokenSource = clientCredentials({ tokenUrl, clientId, clientSecret });
 * ```
 */
export type TokenSource = string | TokenFunction | TokenProvider;

/**
 * The one shape the interceptor and call credentials use, whatever the source.
 *
 * @example
 * ```ts
 * const supplier: TokenSupplier = toTokenSupplier(options.token, 'token');
 * const token = await supplier.get();
 * ```
 */
export interface TokenSupplier {
  get(): Promise<string>;
  /** A token other than `rejected`, or undefined when the source cannot give one (a fixed token). */
  refresh(rejected: string): Promise<string | undefined>;
}

function wrap(error: unknown): TokenError {
  // A user function's error message may say anything, tokens included: keep it only as the cause.
  return isTokenError(error) ? error : new TokenError('ERR_TOKEN_SOURCE_FAILED', 'the token source threw an error', { retryable: true, cause: error });
}

async function ask(get: () => string | Promise<string>, what: string): Promise<string> {
  let value: unknown;
  try {
    value = await get();
  } catch (error) {
    throw wrap(error);
  }
  return checkBearerToken(value, what);
}

/**
 * Turns any {@link TokenSource} into a {@link TokenSupplier}, checking it now: a bad source is a
 * configuration mistake and throws {@link AuthConfigError} naming `option`.
 *
 * @example
 * ```ts
 * const tokens = toTokenSupplier(() => process.env.API_TOKEN ?? '', 'token');
 * const fresh = await tokens.refresh(rejected); // undefined: the same token again
 * ```
 */
export function toTokenSupplier(source: TokenSource, option: string): TokenSupplier {
  if (typeof source === 'string') {
    try {
      checkBearerToken(source, option);
    } catch (error) {
      throw new AuthConfigError(option, (error as Error).message);
    }
    const fixed = Promise.resolve(source);
    return { get: () => fixed, refresh: async () => undefined };
  }
  if (typeof source === 'function') {
    return {
      get: () => ask(source, 'the token function'),
      refresh: async (rejected) => {
        const next = await ask(source, 'the token function');
        return next === rejected ? undefined : next;
      },
    };
  }
  if (typeof source === 'object' && source !== null && typeof source.getToken === 'function') {
    if (source.refresh !== undefined && typeof source.refresh !== 'function') throw new AuthConfigError(`${option}.refresh`, 'expected a function');
    const provider = source;
    return {
      get: () => ask(() => provider.getToken(), 'the token provider'),
      refresh: async (rejected) => {
        const next = await ask(() => (provider.refresh ? provider.refresh(rejected) : provider.getToken()), 'the token provider');
        return next === rejected ? undefined : next;
      },
    };
  }
  throw new AuthConfigError(option, 'expected a token string, a function returning a token, or an object with getToken()');
}
