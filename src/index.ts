/**
 * grpc-jwt-auth: JWT authentication and authorization for `@grpc/grpc-js` servers, verified by jose.
 * One interceptor verifies the bearer token of every call and applies per-method rules before any
 * handler runs; handlers read the verified caller with `getAuth`.
 *
 * The client side is `grpc-jwt-auth/client`; test tokens and a loopback identity provider are
 * `grpc-jwt-auth/testing`.
 *
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js';
 * import { createAuthInterceptor, fromJwks, requireScopes } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys: fromJwks('https://idp.example/.well-known/jwks.json'),
 *   algorithms: ['RS256'],
 *   issuer: 'https://idp.example/',
 *   audience: 'orders-api',
 *   rules: { '/acme.orders.v1.Orders/GetOrder': requireScopes('orders:read') },
 * });
 * const server = new Server({ interceptors: [auth] });
 * ```
 * @module
 */

// The interceptor: authenticates and authorizes every call before its handler runs.
export { createAuthInterceptor } from './server/interceptor.ts';
export type { AuthInterceptor, AuthInterceptorOptions } from './server/interceptor.ts';
export type { AuthenticatedEvent, CallEvent, RejectedEvent } from './server/events.ts';
export type { TokenFacts } from './verify/token-facts.ts';
export type { AuthStatus, IssuerStatus } from './verify/auth-status.ts';
export type { MeterProviderLike, TelemetryOptions, TracerProviderLike } from './telemetry/telemetry-options.ts';
export { METRIC_NAMES } from './telemetry/metric-names.ts';
export type { TokenExtractor, TokenSource } from './server/token-source.ts';
export type { LogFunction, Logger } from './server/logger.ts';
export type { ClientCertificateCall, ClientCertificateHook, TransportAuthContext } from './server/client-certificate.ts';
export type { DpopAlgorithm, DpopOptions } from './verify/dpop-options.ts';
export { createMemoryReplayStore } from './stores/memory-replay-store.ts';
export type { MemoryReplayStoreOptions } from './stores/memory-replay-store.ts';
export type { ReplayStore } from './stores/replay-store.ts';

// Revocations and one-time state shared by replicas: in memory for one process, in Redis for many.
export { createMemoryRevocationStore } from './stores/memory-revocation-store.ts';
export type { MemoryRevocationStoreOptions } from './stores/memory-revocation-store.ts';
export { createRedisRevocationStore } from './stores/redis-revocation-store.ts';
export type { RedisRevocationStoreOptions } from './stores/redis-revocation-store.ts';
export { createRedisReplayStore } from './stores/redis-replay-store.ts';
export type { RedisReplayStore } from './stores/redis-replay-store.ts';
export type { RedisConnectionOptions } from './stores/redis-client.ts';
export { revocationOf } from './stores/revocation-of.ts';
export type {
  RevocableToken,
  Revocation,
  RevocationEntry,
  RevocationEvent,
  RevocationMatch,
  RevocationStore,
  RevocationTarget,
  RevocationsState,
  RevocationsStatus,
} from './stores/revocation-store.ts';

// Verification without gRPC: the same checks for an HTTP gateway, a queue consumer or a script.
export { createAuthenticator } from './verify/authenticator.ts';
export type { AuthenticateProof, Authentication, Authenticator, AuthenticatorOptions } from './verify/authenticator.ts';
export type { IssuerOptions } from './verify/issuers.ts';
export type { ValidateContext, ValidateHook, VerifyOptions } from './verify/options.ts';
export type { TokenCacheOptions } from './verify/token-cache.ts';
export { certificateThumbprint } from './verify/certificate-thumbprint.ts';
export type { CertificateBinding, Confirmation, DpopBinding } from './verify/confirmation.ts';

// Keys: where verification keys come from. One slot, one type, whatever the source.
export { fromSecret } from './keys/secret.ts';
export type { Secret } from './keys/secret.ts';
export { fromPem } from './keys/pem.ts';
export { fromJwks } from './keys/jwks.ts';
export type { JsonWebKeySet } from './keys/jwks.ts';
export { fromIssuer } from './keys/discovery.ts';
export type { RemoteJwksOptions, TokensWithoutKid } from './keys/remote-options.ts';
export type { FetchFunction } from './util/guarded-fetch.ts';
export type { RemoteKeyResolver } from './keys/remote-jwks.ts';
export type { FetchTrigger, RemoteKeysEvent } from './keys/remote-events.ts';
export type { KeysListener } from './keys/key-events.ts';
export type { KeysState, KeysStatus } from './keys/key-status.ts';
export type { KeyLookup, KeyResolver, VerificationKey } from './keys/resolver.ts';
export { SUPPORTED_ALGORITHMS } from './keys/key-algorithms.ts';
export type { Algorithm } from './keys/key-algorithms.ts';

// Rules and guards: which methods need what, in code or in the .proto file.
export type { Rule, RuleMap } from './authz/rules.ts';
export { allOf, anyOf, requireAnyRole, requireAnyScope, requireClaim, requireRoles, requireScopes } from './authz/guards.ts';
export type { ClaimPredicate, ClaimValue, Guard, GuardDenial, GuardInfo, GuardResult } from './authz/guards.ts';
export { requireAcr, requireAuthTime } from './authz/step-up-guards.ts';
export type { RequireAuthTimeOptions } from './authz/step-up-guards.ts';
export { requireBoundToken, type BoundTokenKind } from './authz/bound-token-guard.ts';
export type { StepUpChallenge } from './errors/step-up.ts';
export { guardService, withGuard } from './server/with-guard.ts';
export type { ServiceGuards, ServiceHandler } from './server/with-guard.ts';
export { PROTO_INCLUDE_DIR, rulesFromProto } from './authz/proto-policy.ts';
export type { ServiceSource } from './authz/service-methods.ts';

// The verified caller, as handlers read it.
export { findAuth, getAuth } from './server/context.ts';
export type { CallWithMetadata } from './server/context.ts';
export type { AuthContext, JwtClaims, JwtHeader } from './verify/auth-context.ts';
export { DEFAULT_ROLE_CLAIMS, DEFAULT_SCOPE_CLAIMS } from './util/claim-paths.ts';
export type { ClaimPath } from './util/claim-paths.ts';

// Errors: one code per refusal, its gRPC status and wire form; configuration mistakes at construction.
export { AuthError, isAuthError } from './errors/auth-error.ts';
export type { AuthErrorOptions } from './errors/auth-error.ts';
export type { AuthErrorCode, BearerErrorCode } from './errors/codes.ts';
export { toGrpcError } from './server/grpc-error.ts';
export { AuthConfigError } from './errors/config-error.ts';
