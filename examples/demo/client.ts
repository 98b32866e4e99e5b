/**
 * The demo's client side: calls as promises that never reject, and refusals decoded into what a client
 * program can act on (status, reason from the ErrorInfo trailer, required scopes).
 */
import * as grpc from '@grpc/grpc-js';
import { decodeErrorInfo } from 'grpc-jwt-auth/client';
import type { Order, OrdersClient } from './orders.ts';

/** A call that ended with a status other than OK, as the client sees it. */
export interface Refusal {
  readonly code: grpc.status;
  /** The status name, e.g. `PERMISSION_DENIED`. */
  readonly status: string;
  readonly details: string;
  /** `ErrorInfo.reason` from `grpc-status-details-bin`, e.g. `INSUFFICIENT_SCOPE`. */
  readonly reason: string | undefined;
  /** `ErrorInfo.metadata.requiredScopes`, when a scope was missing. */
  readonly requiredScopes: string | undefined;
  /** The `www-authenticate` trailer (RFC 6750). */
  readonly challenge: string | undefined;
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: Refusal };

/**
 * Decodes a grpc-js error: the reason is machine-readable, so a client can tell "refresh and retry"
 * (TOKEN_EXPIRED) from "ask for more access" (INSUFFICIENT_SCOPE) without parsing text.
 *
 * @example
 * ```ts
 * client.GetOrder({ id }, metadata, (error) => { if (error) console.log(refusalOf(error).reason); });
 * ```
 */
export function refusalOf(error: grpc.ServiceError): Refusal {
  const [details] = error.metadata?.get('grpc-status-details-bin') ?? [];
  const info = details instanceof Buffer ? decodeErrorInfo(details) : undefined;
  const [challenge] = error.metadata?.get('www-authenticate') ?? [];
  return {
    code: error.code,
    status: grpc.status[error.code] ?? String(error.code),
    details: error.details,
    reason: info?.reason,
    requiredScopes: info?.metadata.requiredScopes,
    challenge: typeof challenge === 'string' ? challenge : undefined,
  };
}

/** `STATUS "details", reason REASON` for printing. */
export function describeRefusal(refusal: Refusal): string {
  const reason = refusal.reason === undefined ? 'no reason given' : `reason ${refusal.reason}`;
  return `${refusal.status} "${refusal.details}", ${reason}`;
}

type Unary<T> = (request: { id: string }, metadata: grpc.Metadata, callback: grpc.requestCallback<T>) => grpc.ClientUnaryCall;

/**
 * A unary call as a promise of its outcome.
 *
 * @example
 * ```ts
 * const outcome = await unary(client.GetOrder.bind(client), { id: 'A-1001' });
 * ```
 */
export function unary<T>(method: Unary<T>, request: { id: string }, metadata = new grpc.Metadata()): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    method(request, metadata, (error, value) => resolve(error ? { ok: false, refusal: refusalOf(error) } : { ok: true, value: value as T }));
  });
}

/** What a server stream delivered, and how it ended. */
export interface StreamResult<T> {
  readonly messages: readonly T[];
  /** OK, CANCELLED (the client stopped after `limit`), or the refusal. */
  readonly end: Outcome<void>;
}

/**
 * Reads a server stream to its end, or cancels it after `limit` messages.
 *
 * @example
 * ```ts
 * const { messages, end } = await readStream(client.ListOrders({}, new grpc.Metadata()));
 * ```
 */
export function readStream<T>(
  stream: grpc.ClientReadableStream<T>,
  options: { limit?: number; onMessage?: (message: T) => void } = {},
): Promise<StreamResult<T>> {
  return new Promise((resolve) => {
    const messages: T[] = [];
    stream.on('data', (message: T) => {
      messages.push(message);
      options.onMessage?.(message);
      if (messages.length === options.limit) stream.cancel();
    });
    // 'error' carries every non-OK status (CANCELLED included); 'status' alone comes for OK.
    stream.on('error', (error: grpc.ServiceError) => resolve({ messages, end: { ok: false, refusal: refusalOf(error) } }));
    stream.on('status', (status: grpc.StatusObject) => {
      if (status.code === grpc.status.OK) resolve({ messages, end: { ok: true, value: undefined } });
    });
  });
}

/** The client's calls, bound. */
export interface Calls {
  getOrder(id: string, metadata?: grpc.Metadata): Promise<Outcome<Order>>;
  cancelOrder(id: string): Promise<Outcome<Order>>;
}

/**
 * Binds the unary calls of a client.
 *
 * @example
 * ```ts
 * const calls = bindCalls(client);
 * const outcome = await calls.getOrder('A-1001');
 * ```
 */
export function bindCalls(client: OrdersClient): Calls {
  return {
    getOrder: (id, metadata) => unary(client.GetOrder.bind(client), { id }, metadata),
    cancelOrder: (id) => unary(client.CancelOrder.bind(client), { id }),
  };
}
