/**
 * The orders service as a NestJS controller. Nest calls a `@GrpcMethod` handler with the request, the
 * call's Metadata and the grpc-js call itself; a `@GrpcStreamMethod` handler with an Observable of the
 * requests instead of the request. The auth interceptor attached the verified caller to that Metadata
 * (it is `call.metadata`) before Nest saw the call, so `getAuth(call)` works in every handler, and so
 * does `getAuth({ metadata })`.
 */
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamMethod, RpcException } from '@nestjs/microservices';
import type { Metadata, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { from, map, toArray, type Observable } from 'rxjs';
import { AuthError, getAuth, toGrpcError } from 'grpc-jwt-auth';

export interface Order {
  readonly id: string;
  readonly owner: string;
  readonly item: string;
}

export interface ImportSummary {
  readonly imported: number;
  readonly importedBy: string;
}

// No constructor injection: Nest finds constructor parameters through `emitDecoratorMetadata`, which
// tsx and other esbuild-based runners do not emit. With them, inject by token: `@Inject(ORDERS) orders`.
@Controller()
export class OrdersController {
  private readonly orders = new Map<string, Order>([
    ['o-1', { id: 'o-1', owner: 'alice', item: 'coffee beans' }],
    ['o-2', { id: 'o-2', owner: 'bob', item: 'tea' }],
    ['o-3', { id: 'o-3', owner: 'alice', item: 'filters' }],
  ]);

  /** Unary. The method's rule (orders:read) was checked before Nest ran anything; the owner check is the handler's. */
  @GrpcMethod('Orders', 'GetOrder')
  getOrder(request: { id: string }, _metadata: Metadata, call: ServerUnaryCall<{ id: string }, Order>): Order {
    const { subject } = getAuth(call);
    const order = this.orders.get(request.id);
    if (order === undefined || order.owner !== subject) {
      // RpcException hands its object to grpc-js as it is: the refusal keeps its status (PERMISSION_DENIED)
      // and its trailers (www-authenticate, ErrorInfo ACCESS_DENIED). The message is for logs only.
      throw new RpcException(toGrpcError(new AuthError('ERR_AUTH_ACCESS_DENIED', `${subject} may not read order ${request.id}`)));
    }
    return order;
  }

  /** Server streaming: the caller's own orders. */
  @GrpcMethod('Orders', 'WatchOrders')
  watchOrders(_request: object, _metadata: Metadata, call: ServerWritableStream<object, Order>): Observable<Order> {
    const { subject } = getAuth(call);
    return from([...this.orders.values()].filter((order) => order.owner === subject));
  }

  /** Client streaming: Nest passes the requests as an Observable, then the Metadata, then the call. */
  @GrpcStreamMethod('Orders', 'ImportOrders')
  importOrders(incoming: Observable<Order>, metadata: Metadata): Observable<ImportSummary> {
    // The Metadata alone finds the caller too (as in a Nest guard, whose RPC context is the Metadata).
    // getAuth(call) is better where the call is at hand: on a call that is not authenticated it can end
    // the call with INTERNAL, where `{ metadata }` can only throw, which Nest answers UNKNOWN.
    const { subject = '' } = getAuth({ metadata });
    return incoming.pipe(
      toArray(),
      map((received) => {
        for (const order of received) this.orders.set(order.id, { ...order, owner: subject });
        return { imported: received.length, importedBy: subject };
      }),
    );
  }
}
