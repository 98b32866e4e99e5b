/**
 * grpc-jwt-auth: JWT authentication and authorization for `@grpc/grpc-js` servers, verified by jose.
 *
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js';
 * import { createAuthInterceptor, fromJwks, getAuth } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({ keys: fromJwks('https://idp.example/jwks.json'), algorithms: ['RS256'] });
 * const server = new Server({ interceptors: [auth] });
 * ```
 * @module
 */
export { createAuthInterceptor } from './server/interceptor.ts';
export type { AuthInterceptor, AuthInterceptorOptions, AuthenticatedEvent, RejectedEvent } from './server/interceptor.ts';
export { getAuth, findAuth } from './server/context.ts';
export type { CallWithMetadata } from './server/context.ts';
export { toGrpcError } from './server/grpc-error.ts';
export { compileRules } from './authz/rules.ts';
export type { Rule, RuleMap, RuleTable } from './authz/rules.ts';

export { createAuthenticator } from './verify/authenticator.ts';
export type { Authentication, Authenticator, AuthenticatorOptions, IssuerOptions } from './verify/authenticator.ts';
export type { TokenCacheOptions } from './verify/token-cache.ts';
export type { ValidateContext, ValidateHook, VerifyOptions } from './verify/options.ts';

export { fromSecret } from './keys/secret.ts';
export type { Secret } from './keys/secret.ts';
export { fromPem } from './keys/pem.ts';
export { fromJwks } from './keys/jwks.ts';
export type { JsonWebKeySet } from './keys/jwks.ts';
export type { RemoteJwksOptions } from './keys/remote-jwks.ts';
export type { KeyLookup, KeyResolver, VerificationKey } from './keys/resolver.ts';
export { SUPPORTED_ALGORITHMS } from './keys/key-algorithms.ts';
export type { Algorithm } from './keys/key-algorithms.ts';

export type { Guard, GuardDenial, GuardInfo, GuardResult } from './authz/guards.ts';
export type { AuthContext, JwtClaims, JwtHeader } from './verify/auth-context.ts';
export { DEFAULT_ROLE_CLAIMS, DEFAULT_SCOPE_CLAIMS } from './util/claim-paths.ts';
export type { ClaimPath } from './util/claim-paths.ts';
export { AuthError, isAuthError } from './errors/auth-error.ts';
export type { AuthErrorOptions } from './errors/auth-error.ts';
export type { AuthErrorCode, BearerErrorCode } from './errors/codes.ts';
export { AuthConfigError } from './errors/config-error.ts';
export { ERROR_DOMAIN, decodeErrorInfo } from './errors/error-info.ts';
export type { ErrorInfo } from './errors/error-info.ts';

export { allOf, anyOf, requireAnyRole, requireAnyScope, requireClaim, requireRoles, requireScopes } from './authz/guards.ts';
export type { ClaimPredicate, ClaimValue } from './authz/guards.ts';

export { fromIssuer } from './keys/discovery.ts';
export { PUBLIC_KEY_ALGORITHMS } from './keys/key-algorithms.ts';
export type { IssuerDiscoveryOptions } from './keys/discovery.ts';
export type { RemoteKeyResolver, TokensWithoutKid } from './keys/remote-jwks.ts';
export type { RemoteFetchOptions } from './keys/key-cache-policy.ts';
export type {
  FailedEvent,
  FetchTrigger,
  FetchedEvent,
  KeySkippedEvent,
  RemoteDocument,
  RemoteKeysEvent,
  RemoteKeysListener,
  RotatedEvent,
} from './keys/remote-events.ts';
export { checkRules } from './authz/rule-check.ts';
export type { CheckRulesOptions } from './authz/rule-check.ts';
export type {
  MethodDefinitionLike,
  PackageDefinitionLike,
  ProtobufNamespaceLike,
  ServiceClientLike,
  ServiceDefinitionLike,
  ServiceSource,
} from './authz/service-methods.ts';
export { PROTO_INCLUDE_DIR, rulesFromProto } from './authz/proto-policy.ts';
export { guardService, withGuard } from './server/with-guard.ts';
export type { ServiceGuards, ServiceHandler } from './server/with-guard.ts';

// Client: token sources that refresh before expiry, the token interceptor and call credentials.
export { createTokenInterceptor } from './client/token-interceptor.ts';
export type { TokenInterceptorOptions } from './client/token-interceptor.ts';
export { createCallCredentials } from './client/call-credentials.ts';
export type { ChannelSecurity } from './client/transport-guard.ts';
export type { TokenFunction, TokenProvider, TokenSource } from './client/token-source.ts';
export { cachedToken } from './client/cached-token.ts';
export type { CachedToken, CachedTokenOptions, FetchedToken, TokenFetcher } from './client/cached-token.ts';
export { clientCredentials } from './client/client-credentials.ts';
export type { ClientCredentialsOptions } from './client/client-credentials.ts';
export { refreshingToken } from './client/refreshing-token.ts';
export type { RefreshingTokenOptions } from './client/refreshing-token.ts';
export type { ClientAuthMethod } from './client/token-endpoint-request.ts';
export { TokenError, isTokenError } from './client/token-error.ts';
export type { TokenErrorCode, TokenErrorOptions } from './client/token-error.ts';
