import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { isTokenError } from './token-error.ts';

/**
 * The status a call ends with when no token could be had. UNAVAILABLE when trying again later can help
 * (the identity provider is down or slow), UNAUTHENTICATED when it cannot (wrong client secret, refresh
 * token refused). The call never reached the server.
 *
 * @example
 * ```ts
 * import { TokenError } from './token-error.ts';
 * const down = new TokenError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', 'token endpoint answered HTTP 503', { retryable: true, httpStatus: 503 });
 * tokenFailureStatus(down); // { code: status.UNAVAILABLE, details: 'grpc-jwt-auth: no access token: ... [ERR_TOKEN_ENDPOINT_UNAVAILABLE]', ... }
 * ```
 */
export function tokenFailureStatus(error: unknown): StatusObject {
  const retryable = !isTokenError(error) || error.retryable;
  const reason = isTokenError(error) ? `${error.message} [${error.code}]` : 'the token source failed';
  return localStatus(retryable ? status.UNAVAILABLE : status.UNAUTHENTICATED, `grpc-jwt-auth: no access token: ${reason}`);
}

/**
 * A status made on this side, before or instead of a server's answer.
 *
 * @example
 * ```ts
 * import { status } from '@grpc/grpc-js';
 * const cancelled = localStatus(status.CANCELLED, 'Cancelled on client');
 * ```
 */
export function localStatus(code: status, details: string): StatusObject {
  return { code, details, metadata: new Metadata() };
}
