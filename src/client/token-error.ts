/**
 * Why the client could not get an access token. Each refusal has a stable `code` and says whether trying
 * again later can help (`retryable`), so callers can tell "the identity provider is down" from "this
 * client is misconfigured" without reading messages.
 *
 * Messages never contain a token, a refresh token or a client secret.
 */

/**
 * Stable codes of {@link TokenError}; safe to match on in code and alerts.
 *
 * @example
 * ```ts
 * import { isTokenError, type CachedToken, type TokenErrorCode } from 'grpc-jwt-auth/client';
 * declare const source: CachedToken;
 * declare function signIn(): Promise<void>;
 * const signedOut: TokenErrorCode = 'ERR_TOKEN_REFRESH_TOKEN_INVALID';
 * try {
 *   await source.getToken();
 * } catch (error) {
 *   if (isTokenError(error) && error.code === signedOut) await signIn();
 * }
 * ```
 */
export type TokenErrorCode =
  /** Network error, timeout, HTTP 5xx or 429, or an OAuth `server_error`/`temporarily_unavailable`. Retryable. */
  | 'ERR_TOKEN_ENDPOINT_UNAVAILABLE'
  /** The endpoint answered 200 with something that is not a usable token response (not JSON, no `access_token`, not a Bearer token; not a DPoP token when a `dpop` key was given). */
  | 'ERR_TOKEN_RESPONSE_INVALID'
  /** The endpoint refused the request with an OAuth error such as `invalid_client` or `invalid_scope`. Not retryable, except `use_dpop_nonce` with a `dpop` key (the nonce it sent is used next time). */
  | 'ERR_TOKEN_REQUEST_REJECTED'
  /** The refresh token was refused (`invalid_grant`): already used after a rotation, revoked or expired. Sign in again. */
  | 'ERR_TOKEN_REFRESH_TOKEN_INVALID'
  /** The token source gave a token that has already expired. */
  | 'ERR_TOKEN_EXPIRED'
  /** The token has no `exp`, the source gave no `expiresIn`, and no `assumedLifetime` was configured. */
  | 'ERR_TOKEN_EXPIRY_UNKNOWN'
  /** A user-supplied token function or provider threw, or returned something that is not a bearer token. */
  | 'ERR_TOKEN_SOURCE_FAILED';

/**
 * Extra facts about a {@link TokenError}.
 *
 * @example
 * ```ts
 * import { TokenError } from 'grpc-jwt-auth/client';
 * throw new TokenError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', 'token endpoint answered HTTP 503', { retryable: true, httpStatus: 503 });
 * ```
 */
export interface TokenErrorOptions {
  /** True when trying again later can help. */
  readonly retryable: boolean;
  /** The HTTP status of the token endpoint's answer, if there was one. */
  readonly httpStatus?: number;
  /** The OAuth `error` code of the answer (RFC 6749 §5.2), e.g. `invalid_client`. */
  readonly oauthError?: string;
  /** The underlying error, kept for logs. */
  readonly cause?: unknown;
}

/**
 * The client could not get an access token.
 *
 * @example
 * ```ts
 * import { isTokenError, type CachedToken } from 'grpc-jwt-auth/client';
 * declare const source: CachedToken;
 * try {
 *   await source.getToken();
 * } catch (error) {
 *   if (isTokenError(error) && error.oauthError === 'invalid_client') console.error('check clientId and clientSecret');
 * }
 * ```
 */
export class TokenError extends Error {
  /** Always `'TokenError'`. */
  override readonly name: string = 'TokenError';
  /** Stable code, e.g. `ERR_TOKEN_ENDPOINT_UNAVAILABLE`. */
  readonly code: TokenErrorCode;
  /** True when trying again later can help; false for configuration or credential problems. */
  readonly retryable: boolean;
  /** The HTTP status of the token endpoint's answer, if there was one. */
  readonly httpStatus: number | undefined;
  /** The OAuth `error` code, e.g. `invalid_client`, if the endpoint sent one. */
  readonly oauthError: string | undefined;

  constructor(code: TokenErrorCode, message: string, options: TokenErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable;
    this.httpStatus = options.httpStatus;
    this.oauthError = options.oauthError;
  }
}

/**
 * True for any {@link TokenError} (also across copies of this package).
 *
 * @example
 * ```ts
 * import { isTokenError, type CachedToken } from 'grpc-jwt-auth/client';
 * declare const source: CachedToken;
 * await source.getToken().catch((error: unknown) => {
 *   if (isTokenError(error) && !error.retryable) process.exitCode = 1; // retrying will not help: fix the configuration
 * });
 * ```
 */
export function isTokenError(value: unknown): value is TokenError {
  return value instanceof TokenError || (value instanceof Error && value.name === 'TokenError' && typeof (value as { code?: unknown }).code === 'string');
}
