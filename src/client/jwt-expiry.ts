import { decodeJwt } from 'jose';

/**
 * The `exp` of a JWT in milliseconds since the epoch, read WITHOUT verifying the signature; undefined
 * when the token is not a JWT (an opaque token) or has no numeric `exp`.
 *
 * Not verifying is fine here: the client is not the token's audience and makes no security decision
 * from its claims. It only schedules the next refresh. A wrong `exp` can at worst make the client
 * refresh early, or send a token the server then refuses, after which the client refreshes and retries
 * once. The server verifies every token it receives. Verifying on the client would need the issuer's
 * keys and often cannot be done at all (the token may be meant to be opaque to the client).
 *
 * @example
 * ```ts
 * readJwtExpiry(token); // e.g. 1767225600000, or undefined for an opaque token
 * ```
 */
export function readJwtExpiry(token: string): number | undefined {
  let exp: unknown;
  try {
    exp = decodeJwt(token).exp;
  } catch {
    return undefined;
  }
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
