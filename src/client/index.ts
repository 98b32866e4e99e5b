/**
 * `grpc-jwt-auth/client`: access tokens for `@grpc/grpc-js` clients. Token sources that fetch and refresh
 * tokens before they expire, an interceptor and call credentials that send them, and the errors a client
 * acts on.
 *
 * @example
 * ```ts
 * import { credentials } from '@grpc/grpc-js';
 * import { clientCredentials, createTokenInterceptor } from 'grpc-jwt-auth/client';
 * const token = clientCredentials({ tokenUrl: 'https://idp.example/oauth/token', clientId: 'worker', clientSecret: process.env.WORKER_SECRET! });
 * const interceptor = createTokenInterceptor({ token, channelSecurity: 'tls' });
 * // new OrdersClient('orders.example:443', credentials.createSsl(), { interceptors: [interceptor] })
 * ```
 * @module
 */

// Token sources: where tokens come from, cached and refreshed before they expire.
export type { FetchedToken, TokenFunction, TokenProvider, TokenSource } from './token-source.ts';
export { cachedToken } from './cached-token.ts';
export type { CachedToken } from './cached-token.ts';
export type { CachedTokenOptions } from './cached-token-options.ts';
export { clientCredentials } from './client-credentials.ts';
export type { ClientCredentialsOptions } from './client-credentials.ts';
export { refreshingToken } from './refreshing-token.ts';
export type { RefreshingTokenOptions } from './refreshing-token.ts';
export type { ClientAuthMethod } from './token-endpoint-request.ts';
// The same type as the server entry's: one function can fetch keys and tokens.
export type { FetchFunction } from '../util/guarded-fetch.ts';

// The token interceptor: sends the token on every call, on any channel it may safely go over.
export { createTokenInterceptor } from './token-interceptor.ts';
export type { TokenInterceptorOptions } from './token-interceptor.ts';
export type { ChannelSecurity } from './transport-guard.ts';
// DPoP (RFC 9449): the key that binds tokens to this client and signs a proof per call and token request.
export { createDpopKey } from './dpop-key.ts';
export type { DpopKey, DpopKeyOptions } from './dpop-key.ts';

// Call credentials: the grpc-native way on TLS channels.
export { createCallCredentials } from './call-credentials.ts';

// Errors: why no token could be had, and why the server refused a call.
export { TokenError, isTokenError } from './token-error.ts';
export type { TokenErrorCode, TokenErrorOptions } from './token-error.ts';
export { ERROR_DOMAIN, decodeErrorInfo } from '../errors/error-info.ts';
export type { ErrorInfo } from '../errors/error-info.ts';
export { stepUpChallenge } from './step-up.ts';
export type { StepUpChallenge } from '../errors/step-up.ts';
// Thrown at construction by every factory here, as by the server's: the same class from either entry.
export { AuthConfigError } from '../errors/config-error.ts';
