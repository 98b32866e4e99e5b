/**
 * base64url of a JSON value: one segment of a compact JWS.
 *
 * @example
 * ```ts
 * encodeSegment({ alg: 'none' }); // 'eyJhbGciOiJub25lIn0'
 * ```
 */
export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * A token with `alg: none` and an empty signature: what a forger sends. Only for testing that it is
 * refused. `header` adds or overrides header parameters, e.g. `{ alg: 'NONE' }`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createAuthenticator } from 'grpc-jwt-auth';
 * import { craftUnsignedToken } from 'grpc-jwt-auth/testing';
 * const authenticator = createAuthenticator({ keys, algorithms: ['ES256'] });
 * const forged = craftUnsignedToken({ sub: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 }, { alg: 'NONE' });
 * await assert.rejects(authenticator.authenticate(forged, '/acme.orders.v1.Orders/GetOrder'), { code: 'ERR_AUTH_ALG_NOT_ALLOWED' });
 * ```
 */
export function craftUnsignedToken(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return `${encodeSegment({ alg: 'none', typ: 'JWT', ...header })}.${encodeSegment(claims)}.`;
}

/**
 * The token with its payload replaced but the original signature kept: a forgery of the claims, for
 * testing that it is refused.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createAuthenticator } from 'grpc-jwt-auth';
 * import { createTestIssuer, replacePayload } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer();
 * const authenticator = createAuthenticator({ keys: idp.keys, algorithms: [idp.alg], issuer: idp.issuer, audience: idp.audience });
 * const token = await idp.sign({ sub: 'alice' });
 * const forged = replacePayload(token, { iss: idp.issuer, aud: idp.audience, sub: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 });
 * await assert.rejects(authenticator.authenticate(forged, '/acme.orders.v1.Orders/GetOrder'), { code: 'ERR_AUTH_SIGNATURE_INVALID' });
 * ```
 */
export function replacePayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${encodeSegment(claims)}.${signature}`;
}
