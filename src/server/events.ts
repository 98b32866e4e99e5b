import type { AuthError } from '../errors/auth-error.ts';

/**
 * What every event of the interceptor's hooks tells about the call: the method and the peer. An event
 * adds its outcome to these, and never carries the token.
 *
 * @example
 * ```ts
 * import type { AuthenticatedEvent, CallEvent, RejectedEvent } from 'grpc-jwt-auth';
 * const where = ({ method, peer }: CallEvent): string => `${method} from ${peer}`;
 * const onAuthenticated = (event: AuthenticatedEvent) => console.info(`${where(event)}: ${event.subject ?? '?'}`);
 * const onRejected = (event: RejectedEvent) => console.warn(`${where(event)}: ${event.error.code}`);
 * ```
 */
export interface CallEvent {
  /** The full gRPC method path, e.g. `/acme.orders.v1.Orders/GetOrder`. */
  readonly method: string;
  /** The client's address as grpc-js reports it (`call.getPeer()`), e.g. `10.0.0.7:51234`. */
  readonly peer: string;
}

/**
 * Told to `onAuthenticated` after a call is authenticated and authorized, before its handler runs: the
 * call, and who the caller is.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type AuthenticatedEvent } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['RS256'],
 *   onAuthenticated: (event: AuthenticatedEvent) => console.info(`${event.method} by ${event.subject ?? '?'} from ${event.peer}`),
 * });
 * ```
 */
export interface AuthenticatedEvent extends CallEvent {
  /** The token's `sub`, when present. */
  readonly subject: string | undefined;
  /** The token's `iss`, when present. */
  readonly issuer: string | undefined;
  /** The caller's scopes, read from the configured scope claims. */
  readonly scopes: readonly string[];
}

/**
 * Told to `onRejected` when a call is refused: the call, and why.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type RejectedEvent } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['RS256'],
 *   onRejected: ({ method, peer, error }: RejectedEvent) => console.warn(`${method} from ${peer} refused: ${error.code}: ${error.message}`),
 * });
 * ```
 */
export interface RejectedEvent extends CallEvent {
  /** The refusal: `code`, `reason`, `status`, a log `message` and the jose error as `cause`. */
  readonly error: AuthError;
}
