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
   * `authorization` and `cookie`, nor any entry holding the token the call presented, so that logging the
   * whole of it never logs a credential. Changing it changes nothing for the call.
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
  /** The refusal: `code`, `reason`, `status`, a log `message` and the jose error as `cause`. */
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
export const CREDENTIAL_METADATA: readonly string[] = ['authorization', 'cookie'];

function holds(value: string | Buffer, token: string): boolean {
  return typeof value === 'string' ? value.includes(token) : value.includes(token, 0, 'latin1');
}

/**
 * The metadata an event carries: a copy without the credential keys, nor any entry holding the token
 * the call presented (wherever it was read from).
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
  if (presented !== undefined && presented !== '') {
    for (const [key, values] of Object.entries(copy.toJSON())) if (values.some((value) => holds(value, presented))) copy.remove(key);
  }
  return copy;
}
