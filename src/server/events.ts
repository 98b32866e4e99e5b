import type { Metadata } from '@grpc/grpc-js';
import type { AuthError } from '../errors/auth-error.ts';
import type { TokenFacts } from '../verify/token-facts.ts';

/**
 * What every event of the interceptor's hooks tells about the call: the method, the peer and the call's
 * metadata (for request IDs and trace headers). An event adds its outcome to these, and never carries
 * the token.
 *
 * @example
 * ```ts
 * import type { AuthenticatedEvent, CallEvent, RejectedEvent } from 'grpc-jwt-auth';
 * const where = ({ method, peer, metadata }: CallEvent): string => `${method} from ${peer} [${String(metadata.get('x-request-id')[0] ?? '-')}]`;
 * const onAuthenticated = (event: AuthenticatedEvent) => console.info(`${where(event)}: ${event.subject ?? '?'}`);
 * const onRejected = (event: RejectedEvent) => console.warn(`${where(event)}: ${event.error.code}`);
 * ```
 */
export interface CallEvent {
  /** The full gRPC method path, e.g. `/acme.orders.v1.Orders/GetOrder`. */
  readonly method: string;
  /** The client's address as grpc-js reports it (`call.getPeer()`), e.g. `10.0.0.7:51234`. */
  readonly peer: string;
  /**
   * A copy of the call's metadata, for correlation (`x-request-id`, `traceparent`): without
   * `authorization`, `cookie` and `dpop` (a DPoP proof), nor any entry holding the token the call presented or anything shaped
   * like a JWT (a token the interceptor never read), so that logging the whole of it never logs a
   * credential. Changing it changes nothing for the call.
   */
  readonly metadata: Metadata;
}

/**
 * Told to `onAuthenticated` after a call is authenticated and authorized, before its handler runs: the
 * call, who the caller is ({@link TokenFacts}: subject, client, `jti`, `tokenId`, the `kid` and `alg` that
 * verified it), and what the verification cost.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type AuthenticatedEvent } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['RS256'],
 *   onAuthenticated: (event: AuthenticatedEvent) =>
 *     console.info(`${event.method} by ${event.subject ?? '?'} (client ${event.clientId ?? '?'}, kid ${event.kid ?? '-'}) ${event.cacheHit ? 'cached' : `verified in ${event.verificationTime} s`}`),
 * });
 * ```
 */
export interface AuthenticatedEvent extends CallEvent, TokenFacts {
  /** The caller's scopes, read from the configured scope claims. */
  readonly scopes: readonly string[];
  /** True when the verified-token cache answered (no signature check); false after a full verification. */
  readonly cacheHit: boolean;
  /**
   * Seconds the authentication took: parsing, key lookup (and any key fetch it waited on), the signature,
   * claims and the `validate` hook; not the rule's guard. Measured on a monotonic clock, not `clock`.
   */
  readonly verificationTime: number;
  /**
   * The `x5t#S256` of the client certificate this call proved the token is bound to (RFC 8705); undefined
   * for an unbound token. Not secret: safe to log.
   */
  readonly certificateThumbprint: string | undefined;
  /**
   * The `jkt` of the DPoP key whose proof this call verified (RFC 9449): the RFC 7638 thumbprint the
   * token is bound to; undefined for a token that is not DPoP-bound. Not secret: safe to log.
   */
  readonly dpopThumbprint: string | undefined;
}

/**
 * Told to `onRejected` when a call is refused: the call, and why. When the token was genuine (its
 * signature verified with a trusted key) and the call was refused after that (expired or wrong claims,
 * the `validate` hook, a guard, or the token ended before or during the call), `verified` says whose it
 * was; for every other refusal (no token, malformed, forged, unknown key, keys unavailable, a `'deny'`
 * rule, which reads no token) it is undefined, so nothing a forger wrote can appear in a log as fact.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type RejectedEvent } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['RS256'],
 *   onRejected: ({ method, peer, error, verified }: RejectedEvent) =>
 *     console.warn(`${method} from ${peer} refused: ${error.code} (${verified ? `subject ${verified.subject ?? '?'}, token ${verified.tokenId}` : 'token not genuine'})`),
 * });
 * ```
 */
export interface RejectedEvent extends CallEvent {
  /**
   * The refusal: `code`, `reason`, `status`, a log `message` and the jose error as `cause`. A copy of its
   * own (an `AuthError` all the same): changing it changes neither this call's status nor another's.
   */
  readonly error: AuthError;
  /** What the token says, when its signature verified and the call was refused later; see above. */
  readonly verified: TokenFacts | undefined;
  /** Whether the verified-token cache answered; undefined when no token reached verification. */
  readonly cacheHit: boolean | undefined;
  /** Seconds the authentication took until it answered or refused; undefined when no token reached it. */
  readonly verificationTime: number | undefined;
}

/**
 * Metadata keys that carry credentials: never in an event.
 *
 * @example
 * ```ts
 * CREDENTIAL_METADATA.includes('authorization'); // true
 * ```
 */
export const CREDENTIAL_METADATA: readonly string[] = ['authorization', 'cookie', 'dpop'];

/** `A`–`Z`, `a`–`z`, `0`–`9`, `-`, `_` (base64url) and `.`: the alphabet of a compact JWS or JWE. */
function isCompactChar(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 45 || code === 95 || code === 46;
}

/**
 * Whether `text` holds a compact JWT (JWS or JWE): a base64url JSON object (`eyJ` is `{"`) with at
 * least two dots after it, in one run of the compact alphabet. One pass over the text, whatever it holds.
 */
function holdsCompactJwt(text: string): boolean {
  let from = text.indexOf('eyJ');
  while (from !== -1) {
    let end = from;
    let dots = 0;
    for (; end < text.length && isCompactChar(text.charCodeAt(end)); end += 1) if (text.charCodeAt(end) === 46) dots += 1;
    if (dots >= 2) return true;
    // Every later `eyJ` of this run ends where it does, with fewer dots: look past it.
    from = text.indexOf('eyJ', end);
  }
  return false;
}

/** Whether a metadata value may carry a credential: the presented token, or any compact JWT. */
function holdsCredential(value: string | Buffer, presented: string | undefined): boolean {
  const text = typeof value === 'string' ? value : value.toString('latin1');
  return (presented !== undefined && presented !== '' && text.includes(presented)) || holdsCompactJwt(text);
}

/**
 * The metadata an event carries: a copy without the credential keys, nor any entry holding the token
 * the call presented (wherever it was read from), nor any entry holding something shaped like a JWT.
 * The last rule covers tokens the interceptor never read: a `'deny'` rule reads none, a malformed
 * `authorization` is refused before its token is taken out, and a client may put a copy under a key
 * the server does not read (a proxy's `x-forwarded-token`); none of them may reach a log.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * const metadata = new Metadata();
 * metadata.set('authorization', 'Bearer a.b.c');
 * metadata.set('x-request-id', 'r-1');
 * eventMetadata(metadata, ['authorization'], 'a.b.c').getMap(); // { 'x-request-id': 'r-1' }
 * ```
 */
export function eventMetadata(metadata: Metadata, credentialKeys: readonly string[], presented: string | undefined): Metadata {
  const copy = metadata.clone();
  for (const key of credentialKeys) copy.remove(key);
  for (const [key, values] of Object.entries(copy.toJSON())) if (values.some((value) => holdsCredential(value, presented))) copy.remove(key);
  return copy;
}
