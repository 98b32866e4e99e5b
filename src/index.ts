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
export type { AuthInterceptor, AuthInterceptorOptions } from './server/interceptor.ts';
export type { AuthenticatedEvent, CallEvent, RejectedEvent } from './server/events.ts';
export { getAuth, findAuth } from './server/context.ts';
export type { CallWithMetadata } from './server/context.ts';
export { toGrpcError } from './server/grpc-error.ts';
export type { Rule, RuleMap } from './authz/rules.ts';

export { createAuthenticator } from './verify/authenticator.ts';
export type { Authentication, Authenticator, AuthenticatorOptions, IssuerOptions } from './verify/authenticator.ts';
export type { TokenCacheOptions } from './verify/token-cache.ts';
export type { ValidateContext, ValidateHook, VerifyOptions } from './verify/options.ts';

export { fromSecret } from './keys/secret.ts';
export type { Secret } from './keys/secret.ts';
export { fromPem } from './keys/pem.ts';
export { fromJwks } from './keys/jwks.ts';
export type { JsonWebKeySet } from './keys/jwks.ts';
export type { RemoteJwksOptions } from './keys/remote-options.ts';
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

export { allOf, anyOf, requireAnyRole, requireAnyScope, requireClaim, requireRoles, requireScopes } from './authz/guards.ts';
export type { ClaimPredicate, ClaimValue } from './authz/guards.ts';

export { fromIssuer } from './keys/discovery.ts';
export type { RemoteKeyResolver } from './keys/remote-jwks.ts';
export type { TokensWithoutKid } from './keys/remote-options.ts';
export type { FetchTrigger, RemoteKeysEvent } from './keys/remote-events.ts';
export type { ServiceSource } from './authz/service-methods.ts';
export { PROTO_INCLUDE_DIR, rulesFromProto } from './authz/proto-policy.ts';
export { guardService, withGuard } from './server/with-guard.ts';
export type { ServiceGuards, ServiceHandler } from './server/with-guard.ts';
