/**
 * The demo's service contract, shared by server and client: orders.proto loaded with proto-loader, and
 * TypeScript shapes of its messages and of the generated client.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** What the handler read from the verified token (see `Caller` in orders.proto). */
export interface Caller {
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly keyId: string;
  readonly tokenId: string;
  readonly tokenExpiresAtMs: number;
}

export interface Order {
  readonly id: string;
  readonly item: string;
  readonly quantity: number;
  readonly caller: Caller;
}

export interface OrderEvent {
  readonly sequence: number;
  readonly orderId: string;
  readonly status: string;
  readonly caller: Caller;
}

/** The generated client, typed for the four methods. */
export interface OrdersClient extends grpc.Client {
  GetOrder(request: { id: string }, metadata: grpc.Metadata, callback: grpc.requestCallback<Order>): grpc.ClientUnaryCall;
  CancelOrder(request: { id: string }, metadata: grpc.Metadata, callback: grpc.requestCallback<Order>): grpc.ClientUnaryCall;
  ListOrders(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<Order>;
  WatchOrders(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<OrderEvent>;
}

/** The full method path prefix, as rules name it. */
export const ORDERS_SERVICE = '/demo.orders.v1.Orders';

const definition = protoLoader.loadSync(fileURLToPath(new URL('./orders.proto', import.meta.url)), { longs: Number, defaults: true });
const Orders = (grpc.loadPackageDefinition(definition) as any).demo.orders.v1.Orders as grpc.ServiceClientConstructor;

/** The service definition for `server.addService`. */
export const ordersService: grpc.ServiceDefinition = Orders.service;

/**
 * A client of the Orders service.
 *
 * @example
 * ```ts
 * const client = newOrdersClient('127.0.0.1:50051', grpc.credentials.createSsl(ca), { interceptors: [tokens] });
 * ```
 */
export function newOrdersClient(address: string, channel: grpc.ChannelCredentials, options: grpc.ClientOptions = {}): OrdersClient {
  return new Orders(address, channel, options) as unknown as OrdersClient;
}
