import type { ServerErrorResponse, StatusObject } from '@grpc/grpc-js';
import { toAuthError, type AuthError } from '../errors/auth-error.ts';
import { rejectionStatus } from './rejection.ts';

/**
 * Turns an {@link AuthError} into the error a grpc-js handler ends its call with: the same status, fixed
 * details text, `www-authenticate` and `grpc-status-details-bin` (ErrorInfo) trailers the auth
 * interceptor sends when it refuses a call. This is the way to refuse from inside a handler, e.g. after a
 * per-object check (does this subject own this order?) or when calling `createAuthenticator` yourself.
 *
 * - Unary and client-streaming handlers: `callback(toGrpcError(error))`. Pass no trailer argument:
 *   grpc-js would send it instead of ours.
 * - Server-streaming and bidi handlers: `call.emit('error', toGrpcError(error))`. Replies already
 *   written are delivered first, then the status.
 *
 * Do not `throw` it (grpc-js answers any synchronous throw with UNKNOWN, and ignores a rejected async
 * handler, leaving the call open), and do not pass it to `call.destroy()` (grpc-js then sends no status
 * at all and the client waits for its deadline). Do not pass an `AuthError` itself to the callback or
 * the 'error' event either: grpc-js takes a status only from a numeric `code`, and `AuthError.code` is
 * the string `ERR_AUTH_…`, so the call would end UNKNOWN with the log `message` as its details. Anything
 * that is not an `AuthError` becomes INTERNAL with fixed text; its message stays in `cause`. An
 * `AuthError` from another copy of this package is answered by its code, like one of this copy's.
 * It never throws, whatever a catch block hands it.
 *
 * @example
 * ```ts
 * import type * as grpc from '@grpc/grpc-js';
 * import { AuthError, getAuth, toGrpcError } from 'grpc-jwt-auth';
 * interface Order { id: string; owner: string }
 * declare const orders: Map<string, Order>;
 * declare function feed(call: grpc.ServerWritableStream<object, Order>): void;
 *
 * const impl: { getOrder: grpc.handleUnaryCall<{ id: string }, Order>; watchOrders: grpc.handleServerStreamingCall<object, Order> } = {
 *   getOrder(call, callback) {
 *     const order = orders.get(call.request.id);
 *     if (order?.owner !== getAuth(call).subject) {
 *       return callback(toGrpcError(new AuthError('ERR_AUTH_ACCESS_DENIED', `${getAuth(call).subject} does not own ${call.request.id}`)));
 *     }
 *     callback(null, order);
 *   },
 *   watchOrders(call) {
 *     if (!getAuth(call).scopes.includes('orders:watch')) {
 *       call.emit('error', toGrpcError(new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', 'no orders:watch', { requiredScopes: ['orders:watch'] })));
 *       return;
 *     }
 *     feed(call);
 *   },
 * };
 * ```
 */
export function toGrpcError(error: AuthError): ServerErrorResponse & Pick<StatusObject, 'code' | 'details' | 'metadata'> {
  // A handler calls this from its own catch blocks, with whatever was caught: never let a non-AuthError
  // (or its message) through, never throw, and rebuild an AuthError of another copy of this package
  // from its code, so its status and trailers are never undefined.
  const refusal = toAuthError(error, 'toGrpcError was given something other than an AuthError');
  const { code, details, metadata } = rejectionStatus(refusal);
  // An Error, so call sites typed for one accept it; `message` is the wire text, the original is the `cause`.
  return Object.assign(new Error(details, { cause: refusal }), { code, details, metadata });
}

/** The parts of a grpc-js server call {@link endCallWith} uses; all four call kinds have them. */
interface ErrorEmittingCall {
  emit(event: 'error', error: unknown): boolean;
  listenerCount(event: 'error'): number;
}

/**
 * Ends a grpc-js server call of any kind with a refusal, if `call` is one: grpc-js (1.10 and later)
 * listens for 'error' on every server call object and turns it into the final status. Returns false
 * when nobody listens (not a grpc-js call), where emitting would throw instead.
 */
export function endCallWith(call: unknown, error: AuthError): boolean {
  const emitter = call as Partial<ErrorEmittingCall> | null;
  if (typeof emitter?.emit !== 'function' || typeof emitter.listenerCount !== 'function' || emitter.listenerCount('error') === 0) return false;
  emitter.emit('error', toGrpcError(error));
  return true;
}
