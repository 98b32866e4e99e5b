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
export { createTestIssuer } from './test-issuer.ts';
export type { SignOptions, TestClaims, TestIssuer, TestIssuerOptions } from './test-issuer.ts';
export type { ServeOptions, ServedIssuer } from './issuer-server.ts';
export type { TestClient, TokenEndpoint, TokenEndpointOptions, TokenFault } from './token-endpoint.ts';
export { craftUnsignedToken, replacePayload } from './unsigned.ts';
