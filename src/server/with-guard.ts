import {
  status,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type Metadata,
  type sendUnaryData,
  type StatusObject,
} from '@grpc/grpc-js';
import { AuthConfigError } from '../errors/config-error.ts';
import { AuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import { judgeGuard, refusalOf, type GuardVerdict } from '../authz/guard-verdict.ts';
import { checkGuard, type Guard } from '../authz/guards.ts';
import { findAuth } from './context.ts';
import { toGrpcError } from './grpc-error.ts';

/** What the wrapper needs of any of the four grpc-js server call objects. */
interface GuardedCall {
  readonly metadata: Metadata;
  readonly cancelled: boolean;
  getPath(): string;
  emit(event: 'error', error: unknown): boolean;
}

type AnyHandler = (call: GuardedCall, callback?: sendUnaryData<unknown>) => void;

/**
 * A grpc-js handler of any of the four call kinds.
 *
 * @example
 * ```ts
 * import type { ServerWritableStream } from '@grpc/grpc-js';
 * import type { ServiceHandler } from 'grpc-jwt-auth';
 * const handler: ServiceHandler = (call: ServerWritableStream<{ id: string }, { id: string }>) => call.end();
 * ```
 */
// `any`: handlers of every message type must fit, as in grpc-js's own UntypedHandleCall.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type ServiceHandler =
  handleUnaryCall<any, any> | handleClientStreamingCall<any, any> | handleServerStreamingCall<any, any> | handleBidiStreamingCall<any, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Guards for {@link guardService}: one for every handler of the implementation `T`, or one per handler
 * name. A guard of any claims type fits (see {@link Guard}).
 *
 * @example
 * ```ts
 * import type { handleUnaryCall } from '@grpc/grpc-js';
 * import { requireClaim, requireScopes, type ServiceGuards } from 'grpc-jwt-auth';
 * interface OrdersImpl { getOrder: handleUnaryCall<{ id: string }, { id: string }>; deleteOrder: handleUnaryCall<{ id: string }, object> }
 * interface OrdersClaims { readonly tenant: string }
 * const guards: ServiceGuards<OrdersImpl> = {
 *   getOrder: requireScopes('orders:read'),
 *   deleteOrder: requireClaim<OrdersClaims>('org', (value, auth) => value === auth.claims.tenant),
 * };
 * ```
 */
// `any`: a guard may be written for any claims type. (TypeScript infers no claims type through a map
// keyed by the handler names, and a guard of the default claims would refuse a `Guard<OrdersClaims>`.)
/* eslint-disable @typescript-eslint/no-explicit-any */
export type ServiceGuards<T> = Guard<any> | { readonly [K in keyof T]?: Guard<any> };
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Wraps a handler of any call kind so its body runs only when the guard allows the verified caller.
 * A refusal ends the call with PERMISSION_DENIED (`insufficient_scope` in `www-authenticate`,
 * ErrorInfo `INSUFFICIENT_SCOPE` naming the required scopes); a call with no verified token (a
 * `public` or `optional` method called without one, or no auth interceptor installed) ends with
 * UNAUTHENTICATED, so the wrapper fails closed. A synchronous guard decides in the same tick; while an
 * asynchronous one runs, client messages wait in the call's stream buffer, and a call cancelled
 * meanwhile never reaches the handler. Returns a handler of the same type, so parameters are inferred
 * from the context (a typed service implementation) or from annotations.
 *
 * @example
 * ```ts
 * import type * as grpc from '@grpc/grpc-js';
 * import { requireScopes, withGuard } from 'grpc-jwt-auth';
 * interface Order { id: string }
 * interface OrdersServer extends grpc.UntypedServiceImplementation {
 *   getOrder: grpc.handleUnaryCall<{ id: string }, Order>;
 *   watchOrders: grpc.handleServerStreamingCall<object, Order>;
 * }
 * declare const server: grpc.Server;
 * declare const OrdersService: grpc.ServiceDefinition;
 * declare function find(id: string): Order;
 * declare function feed(call: grpc.ServerWritableStream<object, Order>): void;
 *
 * const impl: OrdersServer = {
 *   getOrder: withGuard(requireScopes('orders:read'), (call, callback) => callback(null, find(call.request.id))),
 *   watchOrders: withGuard(requireScopes('orders:read'), (call) => feed(call)),
 * };
 * server.addService(OrdersService, impl);
 * ```
 */
export function withGuard<H extends ServiceHandler, C extends object = object>(guard: Guard<C>, handler: H): H;
export function withGuard(guard: Guard, handler: ServiceHandler): AnyHandler {
  checkGuard(guard, 'withGuard(guard)');
  if (typeof handler !== 'function') throw new AuthConfigError('withGuard(handler)', `expected a handler function, got ${describeForLog(handler)}`);
  const body = handler as AnyHandler;
  return function guarded(this: unknown, call, callback) {
    const end = (final: Partial<StatusObject>): void => {
      // Unary and client-streaming calls answer through their callback; server-streaming and bidi
      // calls turn an 'error' event into their final status (grpc-js then ends the stream with it).
      if (typeof callback === 'function') callback(final);
      else call.emit('error', final);
    };
    // The same refusal a handler sends itself: one wire form for the interceptor, the wrapper and handlers.
    const refuse = (error: AuthError): void => end(toGrpcError(error));
    const run = (verdict: GuardVerdict): void => {
      const refusal = refusalOf(verdict);
      if (refusal) refuse(refusal);
      else body.call(this, call, callback);
    };
    const auth = findAuth(call);
    if (!auth) {
      refuse(
        new AuthError(
          'ERR_AUTH_TOKEN_MISSING',
          `${call.getPath()}: guarded handler called without a verified token (public or optional method, or no auth interceptor)`,
        ),
      );
      return;
    }
    // judgeGuard never throws and its promise never rejects: whatever the guard does is a verdict.
    const verdict = judgeGuard(guard, auth, { method: call.getPath() });
    if (!(verdict instanceof Promise)) {
      // Same tick: a synchronous throw of the handler reaches grpc-js exactly as without the wrapper.
      run(verdict);
      return;
    }
    void verdict.then((settled) => {
      if (call.cancelled) return;
      try {
        run(settled);
      } catch {
        // What grpc-js answers when a handler throws synchronously. After an await grpc-js can no longer
        // catch the throw, and an unhandled rejection would take the whole server down.
        end({ code: status.UNKNOWN, details: 'Unknown error' });
      }
    });
  };
}

/** Every handler name of an implementation object or class instance, own or inherited, with its function. */
function handlersOf(implementation: object): Map<string, AnyHandler> {
  const handlers = new Map<string, AnyHandler>();
  for (let level: object | null = implementation; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level)) {
    for (const name of Object.getOwnPropertyNames(level)) {
      const value: unknown = (implementation as Record<string, unknown>)[name];
      if (name !== 'constructor' && typeof value === 'function' && !handlers.has(name)) handlers.set(name, value as AnyHandler);
    }
  }
  return handlers;
}

/**
 * Wraps the handlers of a whole service implementation with {@link withGuard}: one guard for every
 * handler, or a guard per handler name. Returns a new plain implementation (handlers bound to the
 * original, so class instances keep their `this`); naming a handler the implementation does not have
 * throws, so a typo cannot leave a method unguarded.
 *
 * @example
 * ```ts
 * import type * as grpc from '@grpc/grpc-js';
 * import { guardService, requireRoles, requireScopes } from 'grpc-jwt-auth';
 * declare const server: grpc.Server;
 * declare const OrdersService: grpc.ServiceDefinition;
 * declare const AdminService: grpc.ServiceDefinition;
 * declare const ordersImpl: { getOrder: grpc.handleUnaryCall<object, object>; deleteOrder: grpc.handleUnaryCall<object, object> };
 * declare const adminImpl: { purge: grpc.handleUnaryCall<object, object> };
 *
 * server.addService(OrdersService, guardService(ordersImpl, {
 *   getOrder: requireScopes('orders:read'),
 *   deleteOrder: requireRoles('admin'),
 * }));
 * server.addService(AdminService, guardService(adminImpl, requireRoles('admin')));
 * ```
 */
export function guardService<T extends object>(implementation: T, guards: ServiceGuards<T>): T {
  if (typeof implementation !== 'object' || implementation === null) {
    throw new AuthConfigError('guardService(implementation)', `expected a service implementation object, got ${describeForLog(implementation)}`);
  }
  const handlers = handlersOf(implementation);
  const guardFor = new Map<string, Guard>();
  if (typeof guards === 'function') {
    for (const name of handlers.keys()) guardFor.set(name, guards);
  } else if (typeof guards === 'object' && guards !== null && !Array.isArray(guards)) {
    for (const [name, guard] of Object.entries(guards)) {
      const option = `guardService(guards).${name}`;
      if (!handlers.has(name))
        throw new AuthConfigError(option, `the implementation has no handler ${name}; its handlers are ${[...handlers.keys()].join(', ')}`);
      guardFor.set(name, checkGuard(guard, option));
    }
  } else {
    throw new AuthConfigError('guardService(guards)', `expected a guard or an object of guards by handler name, got ${describeForLog(guards)}`);
  }
  const wrapped: Record<string, unknown> = { ...(implementation as Record<string, unknown>) };
  for (const [name, handler] of handlers) {
    const bound = handler.bind(implementation) as AnyHandler;
    const guard = guardFor.get(name);
    wrapped[name] = guard ? withGuard(guard, bound) : bound;
  }
  return wrapped as T;
}
