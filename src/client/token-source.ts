import { AuthConfigError } from '../errors/config-error.ts';
import { isRecord, optionalFunction } from '../util/option-checks.ts';
import { checkBearerToken } from './bearer-token.ts';
import { TokenError, isTokenError } from './token-error.ts';

/**
 * What a {@link TokenFunction} returns: the token alone, or with its lifetime in seconds from now (as
 * an OAuth token endpoint's `expires_in`).
 *
 * @example
 * ```ts
 * import type { FetchedToken } from 'grpc-jwt-auth/client';
 * const body = { access_token: 'eyJ...', expires_in: 3600 };
 * const fetched: FetchedToken = { token: body.access_token, expiresIn: body.expires_in };
 * ```
 */
export type FetchedToken =
  | string
  | {
      /** The access token, without the `Bearer ` prefix. */
      readonly token: string;
      /** Its lifetime in seconds from now, as the token endpoint's `expires_in`. */
      readonly expiresIn?: number;
    };

/**
 * Your own code that gets an access token, synchronous or async: the one function shape of this entry.
 * Given as a {@link TokenSource} it is called for every call (cache inside, or wrap it); given to
 * {@link cachedToken} it is called only when the cached token is due, and the `expiresIn` it returns
 * (seconds) says when that is.
 *
 * @example
 * ```ts
 * import { cachedToken, createTokenInterceptor, type TokenFunction } from 'grpc-jwt-auth/client';
 * declare const vault: { read(path: string): Promise<{ value: string; ttl: number }> };
 * const readToken: TokenFunction = async () => {
 *   const stored = await vault.read('orders-token');
 *   return { token: stored.value, expiresIn: stored.ttl };
 * };
 * createTokenInterceptor({ token: readToken }); // asked on every call
 * createTokenInterceptor({ token: cachedToken(readToken) }); // asked again shortly before expiresIn runs out
 * ```
 */
export type TokenFunction = () => FetchedToken | Promise<FetchedToken>;

/**
 * An object that gives the current access token, such as the one {@link cachedToken} returns.
 *
 * @example
 * ```ts
 * import type { TokenProvider } from 'grpc-jwt-auth/client';
 * declare const identity: { currentToken(): Promise<string>; renew(): Promise<string> };
 * const provider: TokenProvider = {
 *   getToken: () => identity.currentToken(),
 *   refresh: () => identity.renew(),
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
 * Where access tokens come from: a fixed token, a {@link TokenFunction} asked on every call, or a
 * provider such as {@link cachedToken}, {@link clientCredentials} or {@link refreshingToken}.
 *
 * @example
 * ```ts
 * import { clientCredentials, type TokenSource } from 'grpc-jwt-auth/client';
 * const fixed: TokenSource = process.env.API_TOKEN!;
 * const perCall: TokenSource = async () => (await fetch('http://127.0.0.1:8200/token')).text();
 * const refreshing: TokenSource = clientCredentials({ tokenUrl: 'https://idp.example/oauth/token', clientId: 'worker', clientSecret: secret });
 * ```
 */
export type TokenSource = string | TokenFunction | TokenProvider;

/**
 * The one shape the interceptor and call credentials use, whatever the source.
 *
 * @example
 * ```ts
 * import type { TokenSupplier } from './token-source.ts';
 * const supplier: TokenSupplier = toTokenSupplier(() => 'abc.def.ghi', 'token');
 * const current = await supplier.get();
 * ```
 */
export interface TokenSupplier {
  get(): Promise<string>;
  /** A token other than `rejected`, or undefined when the source cannot give one (a fixed token). */
  refresh(rejected: string): Promise<string | undefined>;
}

/**
 * What a token function gave, checked: a bearer token, and its lifetime in seconds when it said.
 *
 * @example
 * ```ts
 * import type { CheckedToken } from './token-source.ts';
 * const checked: CheckedToken = await callTokenFunction(() => ({ token: 'abc.def.ghi', expiresIn: 60 }), 'the token function');
 * ```
 */
export interface CheckedToken {
  readonly token: string;
  readonly expiresIn: number | undefined;
}

/**
 * Calls a token function (or a provider's method) and checks what it gave, naming it `what` in errors.
 * What it throws becomes `ERR_TOKEN_SOURCE_FAILED` with the error kept only as the cause: a user
 * function's message may say anything, tokens included. The token is never put in an error.
 *
 * @example
 * ```ts
 * await callTokenFunction(() => 'Bearer abc', 'the token function'); // rejects: ERR_TOKEN_SOURCE_FAILED, the prefix is not part of the token
 * ```
 */
export async function callTokenFunction(fn: () => unknown, what: string): Promise<CheckedToken> {
  let value: unknown;
  try {
    value = await fn();
  } catch (error) {
    throw isTokenError(error) ? error : new TokenError('ERR_TOKEN_SOURCE_FAILED', `${what} threw an error`, { retryable: true, cause: error });
  }
  const { token, expiresIn } = isRecord(value) ? value : { token: value, expiresIn: undefined };
  const bearer = checkBearerToken(token, what);
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn))) {
    throw new TokenError('ERR_TOKEN_SOURCE_FAILED', `${what} gave an expiresIn that is not a number of seconds`, { retryable: false });
  }
  return { token: bearer, expiresIn };
}

/** The token `fn` gives, when it differs from `rejected`. */
async function replacement(fn: () => unknown, what: string, rejected: string): Promise<string | undefined> {
  const { token } = await callTokenFunction(fn, what);
  return token === rejected ? undefined : token;
}

/**
 * Turns any {@link TokenSource} into a {@link TokenSupplier}, checking it now: a bad source is a
 * configuration mistake and throws {@link AuthConfigError} naming `option`.
 *
 * @example
 * ```ts
 * const tokens = toTokenSupplier(() => process.env.API_TOKEN ?? '', 'token');
 * const fresh = await tokens.refresh('abc.def.ghi'); // undefined when the function gives the same token again
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
    const what = 'the token function';
    return {
      get: async () => (await callTokenFunction(source, what)).token,
      refresh: (rejected) => replacement(source, what, rejected),
    };
  }
  if (isRecord(source) && typeof source.getToken === 'function') {
    const provider = source as TokenProvider;
    const refresh = optionalFunction<(rejected: string) => Promise<string>>(provider.refresh, `${option}.refresh`);
    const what = 'the token provider';
    return {
      get: async () => (await callTokenFunction(() => provider.getToken(), what)).token,
      refresh: (rejected) => replacement(() => (refresh ? refresh.call(provider, rejected) : provider.getToken()), what, rejected),
    };
  }
  throw new AuthConfigError(option, 'expected a token string, a function returning a token, or an object with getToken()');
}
