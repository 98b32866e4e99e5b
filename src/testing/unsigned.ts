/** base64url of a JSON value. */
export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * A token with `alg: none` and an empty signature: what a forger sends. Only for testing that it is
 * refused.
 */
export function craftUnsignedToken(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return `${encodeSegment({ alg: 'none', typ: 'JWT', ...header })}.${encodeSegment(claims)}.`;
}

/** The token with its payload replaced but the original signature kept: a forgery of the claims. */
export function replacePayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${encodeSegment(claims)}.${signature}`;
}
