/**
 * `grpc-jwt-auth/testing`: real tokens from throw-away keys, for unit tests of authenticated services.
 *
 * @example
 * ```ts
 * import { createTestIssuer } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer({ alg: 'ES256' });
 * const token = await idp.sign({ scope: 'orders:read' });
 * ```
 * @module
 */

// A test issuer: signs tokens, rotates keys, and makes the tokens a server must refuse.
export { createTestIssuer } from './test-issuer.ts';
export type { SignOptions, TestClaims, TestIssuer, TestIssuerOptions } from './test-issuer.ts';
// The RFC 8705 thumbprint a certificate-bound token carries (the same function as the server entry's).
export { certificateThumbprint } from '../verify/certificate-thumbprint.ts';

// Calls for unit tests of handlers: a verified caller attached as the interceptor attaches it, no server.
export { anonymousCall, authenticatedCall } from './test-call.ts';
export type { AuthenticatedCallOptions, TestCall, TestCallOptions, TestCallResult } from './test-call.ts';

// A loopback identity provider (TestIssuer.serve): discovery, JWKS and an OAuth 2.0 token endpoint.
export type { ServeOptions, ServedIssuer } from './issuer-server.ts';
export type { TestClient, TokenEndpoint, TokenEndpointOptions } from './token-endpoint.ts';
export type { TokenFault } from './token-faults.ts';

// Forgeries of any token, for tests that they are refused.
export { craftUnsignedToken, replacePayload } from './unsigned.ts';
