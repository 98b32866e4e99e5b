import type { Metadata } from '@grpc/grpc-js';
import type { AuthContext } from '../verify/auth-context.ts';
import { AuthError } from '../errors/auth-error.ts';
import { endCallWith } from './grpc-error.ts';

/**
 * Any grpc-js server call: all four kinds expose the request metadata, which is what {@link getAuth}
 * and {@link findAuth} look the verified context up by.
 *
 * @example
 * ```ts
 * import { findAuth, type CallWithMetadata } from 'grpc-jwt-auth';
 * function callerOf(call: CallWithMetadata): string {
 *   return findAuth(call)?.subject ?? 'anonymous';
 * }
 * ```
 */
export interface CallWithMetadata {
  /** The call's request metadata: the object grpc-js gave the interceptor, which the context is attached to. */
  readonly metadata: Metadata;
}

// Keyed by the Metadata object grpc-js hands to the handler as `call.metadata`. Claims never go into
// metadata headers, where a client could forge them; and a WeakMap lets them go with the call.
const contexts = new WeakMap<Metadata, AuthContext>();

/** Hands a verified context to the handler of the call whose metadata this is. */
export function attachAuth(metadata: Metadata, context: AuthContext): void {
  contexts.set(metadata, context);
}

/**
 * The verified caller of a call that passed the auth interceptor.
 *
 * On a call without a verified token (a `public` method, an `optional` one called without a token, or
 * no interceptor installed) this is a bug in the server, not a verdict on the client: getAuth first ends
 * the call with 13 INTERNAL, details `internal authentication error`, reason `INTERNAL` (the same
 * trailers as any refusal, see {@link toGrpcError}), then throws an {@link AuthError}
 * `ERR_AUTH_INTERNAL` whose message says why, for your logs. So whatever the handler then does with the
 * error (lets it escape, passes it to the callback, or rejects from an async handler, which grpc-js would
 * otherwise ignore and leave the call hanging) the client gets that status, never the log text; and a
 * handler that catches the error and answers anyway cannot serve the call as if it were authenticated.
 * INTERNAL rather than UNAUTHENTICATED because sending a token would not help: a `public` method never
 * reads one and without the interceptor nothing verifies it, so a client told UNAUTHENTICATED would
 * refresh and retry forever while the fault stays hidden among ordinary token failures. Use
 * {@link findAuth} where a call may be anonymous.
 *
 * Thrown after an `await` or inside a stream listener (`call.on('data', ...)`), the error escapes grpc-js
 * even though the call has already ended: the process sees an unhandled rejection or an uncaught
 * exception. Catch it there, or use findAuth.
 *
 * @example
 * ```ts
 * import type { handleUnaryCall } from '@grpc/grpc-js';
 * import { getAuth } from 'grpc-jwt-auth';
 * const getOrder: handleUnaryCall<{ id: string }, { id: string; owner: string | undefined }> = (call, callback) => {
 *   const { subject } = getAuth(call);
 *   callback(null, { id: call.request.id, owner: subject });
 * };
 * ```
 */
export function getAuth<C extends object = object>(call: CallWithMetadata): AuthContext<C> {
  const context = contexts.get(call.metadata);
  if (!context) {
    const misuse = new AuthError(
      'ERR_AUTH_INTERNAL',
      'getAuth: this call was not authenticated (public or optional method, or the auth interceptor is not installed); use findAuth for such calls',
    );
    // End the call before throwing: grpc-js answers a synchronous throw with UNKNOWN, an AuthError passed
    // to the callback with UNKNOWN and its log message, and a rejected async handler with nothing at all.
    // Whichever status is sent first wins; grpc-js drops the later ones.
    endCallWith(call, misuse);
    throw misuse;
  }
  return context as AuthContext<C>;
}

/**
 * Like {@link getAuth}, but undefined when the call carries no verified token: for `optional` and
 * `public` methods.
 *
 * @example
 * ```ts
 * import { findAuth } from 'grpc-jwt-auth';
 * const auth = findAuth(call);
 * const greeting = auth ? `hello ${auth.subject}` : 'hello stranger';
 * ```
 */
export function findAuth<C extends object = object>(call: CallWithMetadata): AuthContext<C> | undefined {
  return contexts.get(call.metadata) as AuthContext<C> | undefined;
}
