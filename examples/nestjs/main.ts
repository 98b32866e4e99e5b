/**
 * NestJS: a `@nestjs/microservices` gRPC app whose calls grpc-jwt-auth authenticates, through the
 * transport's `channelOptions.interceptors` (see orders-app.ts), with handlers that read the caller with
 * `getAuth` (see orders-controller.ts). Tokens come from a test issuer, so it runs offline on loopback.
 * Run: node --import tsx examples/nestjs/main.ts
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { decodeErrorInfo } from 'grpc-jwt-auth/client';
import { createTestIssuer } from 'grpc-jwt-auth/testing';
import { ORDERS_PROTO, startOrdersApp } from './orders-app.ts';

const OrdersClient = (grpc.loadPackageDefinition(protoLoader.loadSync(ORDERS_PROTO)) as any).demo.orders.v1.Orders as grpc.ServiceClientConstructor;

const idp = await createTestIssuer({ audience: 'orders-api' });
const app = await startOrdersApp({ keys: idp.keys, algorithms: [idp.alg], issuer: idp.issuer, audience: 'orders-api' });
const client = new OrdersClient(`127.0.0.1:${app.port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
const reader = idp.metadata(await idp.sign({ sub: 'alice', scope: 'orders:read' }));

/** How a call ended: `OK <reply>`, or the status name and ErrorInfo reason of a refusal. */
function outcome(error: grpc.ServiceError | null, reply?: unknown): string {
  if (!error) return `OK ${JSON.stringify(reply)}`;
  const [details] = error.metadata.get('grpc-status-details-bin');
  return `${grpc.status[error.code]} ${details instanceof Buffer ? decodeErrorInfo(details)?.reason : ''}`;
}

function getOrder(id: string, metadata: grpc.Metadata): Promise<string> {
  return new Promise((resolve) => client.GetOrder({ id }, metadata, (error: grpc.ServiceError | null, order: unknown) => resolve(outcome(error, order))));
}

function watchOrders(metadata: grpc.Metadata): Promise<string> {
  return new Promise((resolve) => {
    const ids: string[] = [];
    const stream = client.WatchOrders({}, metadata) as grpc.ClientReadableStream<{ id: string }>;
    stream.on('data', (order) => ids.push(order.id));
    stream.on('error', (error: grpc.ServiceError) => resolve(outcome(error)));
    stream.on('end', () => resolve(`OK ${ids.join(',')}`));
  });
}

function importOrders(metadata: grpc.Metadata): Promise<string> {
  return new Promise((resolve) => {
    const stream = client.ImportOrders(metadata, (error: grpc.ServiceError | null, summary: unknown) =>
      resolve(outcome(error, summary)),
    ) as grpc.ClientWritableStream<object>;
    stream.write({ id: 'o-4', item: 'mugs' });
    stream.write({ id: 'o-5', item: 'a kettle' });
    stream.end();
  });
}

// One call after the other: the import changes what the watch lists.
const steps: Array<[string, () => Promise<string>, string]> = [
  ['alice reads her order (unary)', () => getOrder('o-1', reader), 'OK {"id":"o-1","owner":"alice","item":"coffee beans"}'],
  ['no token', () => getOrder('o-1', new grpc.Metadata()), 'UNAUTHENTICATED TOKEN_MISSING'],
  ['expired token', async () => getOrder('o-1', idp.metadata(await idp.expiredToken({ sub: 'alice', scope: 'orders:read' }))), 'UNAUTHENTICATED TOKEN_EXPIRED'],
  ["alice reads bob's order (refused by the handler)", () => getOrder('o-2', reader), 'PERMISSION_DENIED ACCESS_DENIED'],
  ['alice watches her orders (server streaming)', () => watchOrders(reader), 'OK o-1,o-3'],
  ['alice imports without orders:write', () => importOrders(reader), 'PERMISSION_DENIED INSUFFICIENT_SCOPE'],
  [
    'alice imports with orders:write (client streaming)',
    async () => importOrders(idp.metadata(await idp.sign({ sub: 'alice', scope: 'orders:write' }))),
    'OK {"imported":2,"importedBy":"alice"}',
  ],
];

let failed = false;
for (const [step, call, expected] of steps) {
  const got = await call();
  failed ||= got !== expected;
  console.log(`${got === expected ? 'ok ' : 'BAD'} ${step}: ${got}${got === expected ? '' : ` (expected ${expected})`}`);
}
client.close();
await app.close();
process.exitCode = failed ? 1 : 0;
