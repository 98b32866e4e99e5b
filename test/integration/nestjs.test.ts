/**
 * NestJS (@nestjs/microservices, gRPC transport): the example app of examples/nestjs booted on loopback,
 * called by a real grpc-js client. Nest builds its grpc-js Server from `channelOptions`, so the auth
 * interceptor runs before Nest routes a call: refusals carry the interceptor's status and trailers, and
 * `@GrpcMethod` / `@GrpcStreamMethod` handlers read the verified caller with getAuth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Controller, Module, UseGuards, type CanActivate, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, GrpcStreamMethod, RpcException, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { map, toArray, type Observable } from 'rxjs';
import { decodeErrorInfo } from '../../src/client/index.ts';
import { createAuthInterceptor, fromIssuer, getAuth, type AuthInterceptor } from '../../src/index.ts';
import { authenticatedCall, createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { ORDERS_PROTO, startOrdersApp, type OrdersApp } from '../../examples/nestjs/orders-app.ts';
import { OrdersController } from '../../examples/nestjs/orders-controller.ts';

const OrdersClient = (grpc.loadPackageDefinition(protoLoader.loadSync(ORDERS_PROTO)) as any).demo.orders.v1.Orders as grpc.ServiceClientConstructor;

interface Order {
  readonly id: string;
  readonly owner: string;
  readonly item: string;
}

interface Outcome<T> {
  readonly code: grpc.status;
  readonly reason: string | undefined;
  readonly wwwAuthenticate: string | undefined;
  readonly reply: T | undefined;
}

function outcomeOf<T>(error: grpc.ServiceError | null, reply: T | undefined): Outcome<T> {
  if (!error) return { code: grpc.status.OK, reason: undefined, wwwAuthenticate: undefined, reply };
  const [details] = error.metadata.get('grpc-status-details-bin');
  const [challenge] = error.metadata.get('www-authenticate');
  return {
    code: error.code,
    reason: details instanceof Buffer ? decodeErrorInfo(details)?.reason : undefined,
    wwwAuthenticate: typeof challenge === 'string' ? challenge : undefined,
    reply,
  };
}

describe('NestJS gRPC transport with the auth interceptor in channelOptions', () => {
  let idp: TestIssuer;
  let provider: ServedIssuer;
  let app: OrdersApp;
  let client: grpc.Client & Record<string, any>;

  const getOrder = (id: string, metadata: grpc.Metadata): Promise<Outcome<Order>> =>
    new Promise((resolve) => client.GetOrder({ id }, metadata, (error: grpc.ServiceError | null, order?: Order) => resolve(outcomeOf(error, order))));

  const watchOrders = (metadata: grpc.Metadata): Promise<Outcome<Order[]>> =>
    new Promise((resolve) => {
      const orders: Order[] = [];
      const stream = client.WatchOrders({}, metadata) as grpc.ClientReadableStream<Order>;
      stream.on('data', (order: Order) => orders.push(order));
      stream.on('error', (error: grpc.ServiceError) => resolve(outcomeOf(error, orders)));
      stream.on('end', () => resolve(outcomeOf(null, orders)));
    });

  const importOrders = (metadata: grpc.Metadata, orders: readonly Omit<Order, 'owner'>[]): Promise<Outcome<{ imported: number; importedBy: string }>> =>
    new Promise((resolve) => {
      const stream = client.ImportOrders(metadata, (error: grpc.ServiceError | null, summary?: { imported: number; importedBy: string }) =>
        resolve(outcomeOf(error, summary)),
      ) as grpc.ClientWritableStream<object>;
      // Written at once: they reach the server while the token is still being verified.
      for (const order of orders) stream.write(order);
      stream.end();
    });

  const tokenFor = async (sub: string, scope: string): Promise<grpc.Metadata> => idp.metadata(await idp.sign({ sub, scope }));

  before(async () => {
    idp = await createTestIssuer({ alg: 'RS256', audience: 'orders-api' });
    // Keys by discovery from a loopback IdP: the first verification waits on a real fetch.
    provider = await idp.serve();
    app = await startOrdersApp({ keys: fromIssuer(provider.url), algorithms: ['RS256'], issuer: idp.issuer, audience: 'orders-api' });
    client = new OrdersClient(`127.0.0.1:${app.port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
  });

  after(async () => {
    client?.close();
    await app?.close();
    await provider?.close();
  });

  it('unary @GrpcMethod: token with orders:read → OK, the handler reads the caller with getAuth(call)', async () => {
    const outcome = await getOrder('o-1', await tokenFor('alice', 'orders:read'));
    assert.equal(outcome.code, grpc.status.OK);
    assert.deepEqual(outcome.reply, { id: 'o-1', owner: 'alice', item: 'coffee beans' });
  });

  it('unary: no token → UNAUTHENTICATED, www-authenticate Bearer, ErrorInfo TOKEN_MISSING', async () => {
    const outcome = await getOrder('o-1', new grpc.Metadata());
    assert.deepEqual([outcome.code, outcome.reason, outcome.wwwAuthenticate], [grpc.status.UNAUTHENTICATED, 'TOKEN_MISSING', 'Bearer']);
  });

  it('unary: expired token → UNAUTHENTICATED invalid_token, ErrorInfo TOKEN_EXPIRED', async () => {
    const outcome = await getOrder('o-1', idp.metadata(await idp.expiredToken({ sub: 'alice', scope: 'orders:read' })));
    assert.deepEqual([outcome.code, outcome.reason], [grpc.status.UNAUTHENTICATED, 'TOKEN_EXPIRED']);
    assert.match(outcome.wwwAuthenticate ?? '', /^Bearer error="invalid_token"/);
  });

  it('unary: token without orders:read → PERMISSION_DENIED insufficient_scope naming orders:read, ErrorInfo INSUFFICIENT_SCOPE', async () => {
    const outcome = await getOrder('o-1', await tokenFor('alice', 'orders:write'));
    assert.deepEqual([outcome.code, outcome.reason], [grpc.status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE']);
    assert.match(outcome.wwwAuthenticate ?? '', /error="insufficient_scope".*scope="orders:read"/);
  });

  it("unary: the handler's own refusal, RpcException(toGrpcError(...)) → PERMISSION_DENIED with its trailers (ACCESS_DENIED)", async () => {
    const outcome = await getOrder('o-2', await tokenFor('alice', 'orders:read'));
    assert.deepEqual([outcome.code, outcome.reason], [grpc.status.PERMISSION_DENIED, 'ACCESS_DENIED']);
    assert.match(outcome.wwwAuthenticate ?? '', /^Bearer error="insufficient_scope"/);
  });

  it("server streaming @GrpcMethod: the verified caller's orders; no token → UNAUTHENTICATED before any reply", async () => {
    const watched = await watchOrders(await tokenFor('bob', 'orders:read'));
    assert.equal(watched.code, grpc.status.OK);
    assert.deepEqual(
      watched.reply?.map((order) => [order.id, order.owner]),
      [['o-2', 'bob']],
    );
    const refused = await watchOrders(new grpc.Metadata());
    assert.deepEqual([refused.code, refused.reason, refused.reply], [grpc.status.UNAUTHENTICATED, 'TOKEN_MISSING', []]);
  });

  it('client streaming @GrpcStreamMethod: without orders:write → PERMISSION_DENIED and nothing imported; with it every message arrives and getAuth({ metadata }) names the caller', async () => {
    const refused = await importOrders(await tokenFor('carol', 'orders:read'), [{ id: 'c-1', item: 'cups' }]);
    assert.deepEqual([refused.code, refused.reason], [grpc.status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE']);
    assert.deepEqual((await watchOrders(await tokenFor('carol', 'orders:read'))).reply, []);

    const items = Array.from({ length: 20 }, (_, i) => ({ id: `c-${i}`, item: `item ${i}` }));
    const imported = await importOrders(await tokenFor('carol', 'orders:write'), items);
    assert.equal(imported.code, grpc.status.OK);
    assert.deepEqual(imported.reply, { imported: 20, importedBy: 'carol' });
    const watched = await watchOrders(await tokenFor('carol', 'orders:read'));
    assert.deepEqual(
      watched.reply?.map((order) => order.id),
      items.map((item) => item.id),
    );
  });

  it('a @GrpcMethod handler in a unit test, without Nest or a server: authenticatedCall gives it (request, metadata, call)', async () => {
    const controller = new OrdersController();
    const call = await authenticatedCall(idp, {
      claims: { sub: 'bob', scope: 'orders:read' },
      method: '/demo.orders.v1.Orders/GetOrder',
      request: { id: 'o-2' },
    });
    assert.deepEqual(controller.getOrder(call.request, call.metadata, call), { id: 'o-2', owner: 'bob', item: 'tea' });
    assert.throws(
      () => controller.getOrder({ id: 'o-1' }, call.metadata, call),
      (error) => error instanceof RpcException && (error.getError() as { code?: unknown }).code === grpc.status.PERMISSION_DENIED,
    );
  });
});

/** Counts the calls a Nest guard saw: the README says none when the interceptor refused. */
let nestGuardRuns = 0;
class CountingGuard implements CanActivate {
  canActivate(): boolean {
    nestGuardRuns += 1;
    return true;
  }
}

/** A controller that misuses getAuth on public methods, one way per handler, behind a Nest guard that counts. */
@UseGuards(CountingGuard)
@Controller()
class MisusingController {
  @GrpcMethod('Orders', 'GetOrder')
  getOrder(_request: object, _metadata: grpc.Metadata, call: grpc.ServerUnaryCall<object, object>): object {
    return { id: getAuth(call).subject };
  }

  @GrpcMethod('Orders', 'WatchOrders')
  watchOrders(): object[] {
    return [];
  }

  @GrpcStreamMethod('Orders', 'ImportOrders')
  importOrders(incoming: Observable<object>, metadata: grpc.Metadata): Observable<object> {
    return incoming.pipe(
      toArray(),
      map((received) => ({ imported: received.length, importedBy: getAuth({ metadata }).subject })),
    );
  }
}

@Module({ controllers: [MisusingController] })
class MisusingModule {}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('NestJS: what the README promises about getAuth misuse and Nest guards', () => {
  let idp: TestIssuer;
  let auth: AuthInterceptor;
  let app: INestMicroservice;
  let client: grpc.Client & Record<string, any>;

  before(async () => {
    idp = await createTestIssuer({ audience: 'orders-api' });
    auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: [idp.alg],
      issuer: idp.issuer,
      audience: 'orders-api',
      rules: { '/demo.orders.v1.Orders/GetOrder': 'public', '/demo.orders.v1.Orders/ImportOrders': 'public', '/demo.orders.v1.Orders/WatchOrders': 'deny' },
    });
    const port = await freePort();
    app = await NestFactory.createMicroservice<MicroserviceOptions>(MisusingModule, {
      transport: Transport.GRPC,
      logger: false,
      options: { url: `127.0.0.1:${port}`, package: 'demo.orders.v1', protoPath: ORDERS_PROTO, channelOptions: { interceptors: [auth] } },
    });
    await app.listen();
    client = new OrdersClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
  });

  after(async () => {
    client?.close();
    await app?.close();
    auth?.close();
  });

  it("getAuth(call) in a @GrpcMethod handler of a public method → INTERNAL, reason INTERNAL, fixed text (not Nest's UNKNOWN)", async () => {
    const guardRuns = nestGuardRuns;
    const outcome = await new Promise<{ error: grpc.ServiceError | null }>((resolve) =>
      client.GetOrder({ id: 'o-1' }, new grpc.Metadata(), (error: grpc.ServiceError | null) => resolve({ error })),
    );
    const [details] = outcome.error?.metadata.get('grpc-status-details-bin') ?? [];
    assert.deepEqual(
      [outcome.error?.code, details instanceof Buffer ? decodeErrorInfo(details)?.reason : undefined, outcome.error?.details],
      [grpc.status.INTERNAL, 'INTERNAL', 'internal authentication error'],
    );
    assert.equal(nestGuardRuns, guardRuns + 1, 'the Nest guard runs on calls the interceptor admits');
  });

  it('getAuth({ metadata }) in a @GrpcStreamMethod handler of a public method → UNKNOWN, as the README warns; the log text never reaches the client', async () => {
    const error = await new Promise<grpc.ServiceError | null>((resolve) => {
      const stream = client.ImportOrders(new grpc.Metadata(), (failure: grpc.ServiceError | null) => resolve(failure)) as grpc.ClientWritableStream<object>;
      stream.write({ id: 'o-9', item: 'spoons' });
      stream.end();
    });
    assert.equal(error?.code, grpc.status.UNKNOWN);
    assert.doesNotMatch(error?.details ?? '', /getAuth|not authenticated/);
  });

  it('a method the interceptor denies, called with a valid token → PERMISSION_DENIED, and the Nest guard on it never ran', async () => {
    const before = nestGuardRuns;
    const token = await idp.sign({ sub: 'alice' });
    const error = await new Promise<grpc.ServiceError | undefined>((resolve) => {
      const stream = client.WatchOrders({}, idp.metadata(token)) as grpc.ClientReadableStream<object>;
      stream.on('data', () => undefined);
      stream.on('error', resolve);
      stream.on('end', () => resolve(undefined));
    });
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(nestGuardRuns, before);
  });
});
