import type { Metadata } from '@grpc/grpc-js';
import type { AuthContext, JwtClaims } from '../auth-context.ts';
import { AuthError } from '../errors.ts';

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
 * The verified caller of a call that passed the auth interceptor. Throws when the call carries no
 * verified token (a `public` method, an `optional` one without token, or no interceptor installed).
 *
 * @example
 * ```ts
 * import { getAuth } from 'grpc-jwt-auth';
 * const impl = {
 *   getOrder(call, callback) {
 *     const { subject, scopes } = getAuth(call);
 *     callback(null, { id: call.request.id, owner: subject });
 *   },
 * };
 * ```
 */
export function getAuth<C extends JwtClaims = JwtClaims>(call: CallWithMetadata): AuthContext<C> {
  const context = contexts.get(call.metadata);
  if (!context) {
    throw new AuthError(
      'ERR_AUTH_INTERNAL',
      'getAuth: this call was not authenticated (public or optional method, or the auth interceptor is not installed); use findAuth for such calls',
    );
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
export function findAuth<C extends JwtClaims = JwtClaims>(call: CallWithMetadata): AuthContext<C> | undefined {
  return contexts.get(call.metadata) as AuthContext<C> | undefined;
}
