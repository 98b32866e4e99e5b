/**
 * The demo's gRPC server: TLS, the auth interceptor with keys found by OpenID Connect discovery at the
 * provider, a per-method policy, and handlers that read the verified caller with getAuth(call).
 */
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, fromIssuer, getAuth, requireScopes, type RejectedEvent, type RemoteKeysEvent, type RuleMap } from 'grpc-jwt-auth';
import type { Certificates } from '../support/certificates.ts';
import { ORDERS_SERVICE, ordersService, type Caller, type Order, type OrderEvent } from './orders.ts';
import { AUDIENCE } from './provider.ts';

/** The access policy, as the scope each method pattern needs. The most specific pattern wins. */
export const REQUIRED_SCOPES: Readonly<Record<string, string>> = {
  [`${ORDERS_SERVICE}/*`]: 'orders:read',
  [`${ORDERS_SERVICE}/CancelOrder`]: 'orders:write',
};
const POLICY: RuleMap = Object.fromEntries(Object.entries(REQUIRED_SCOPES).map(([pattern, scope]) => [pattern, requireScopes(scope)]));

/**
 * The origin DPoP clients name the service by (a proof's `htu` is this plus the method path). Configured,
 * never read from the call: a client could name any authority.
 */
export const DPOP_ORIGIN = 'https://orders.demo';

/** Milliseconds between two events of WatchOrders. */
const WATCH_INTERVAL_MS = 300;
/** WatchOrders ends by itself after this many events, so a stream the server failed to end cannot run forever. */
const WATCH_MAX_EVENTS = 40;

const ORDERS: readonly Omit<Order, 'caller'>[] = [
  { id: 'A-1001', item: 'espresso beans', quantity: 2 },
  { id: 'A-1002', item: 'oat milk', quantity: 6 },
  { id: 'A-1003', item: 'paper filters', quantity: 100 },
];

/** A running demo server. */
export interface DemoServer {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** The server's log of the last refused call (from `onRejected`): says more than the client is told. */
  readonly lastRejection: RejectedEvent | undefined;
  /** Resolves once the server's key set has gained `kid` on a refresh. */
  keyArrives(kid: string): Promise<void>;
  /** How often the server refetched keys because a token named a key id it did not hold. */
  readonly unknownKidFetches: number;
  close(): Promise<void>;
}

function callerOf(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): Caller {
  const auth = getAuth(call);
  return {
    subject: auth.subject ?? '',
    scopes: auth.scopes,
    keyId: auth.header.kid ?? '',
    // tokenId, not the token text: an ES256 signature can be respelt into a second string that verifies
    // with the same claims (and not jti, which a provider need not set).
    tokenId: auth.tokenId,
    tokenExpiresAtMs: auth.expiresAt?.getTime() ?? 0,
  };
}

function findOrder(id: string): Omit<Order, 'caller'> | undefined {
  return ORDERS.find((order) => order.id === id);
}

const handlers: grpc.UntypedServiceImplementation = {
  GetOrder(call: grpc.ServerUnaryCall<{ id: string }, Order>, callback: grpc.sendUnaryData<Order>) {
    const order = findOrder(call.request.id);
    if (!order) callback({ code: grpc.status.NOT_FOUND, details: `no order ${call.request.id}` });
    else callback(null, { ...order, caller: callerOf(call) });
  },
  ListOrders(call: grpc.ServerWritableStream<object, Order>) {
    const caller = callerOf(call);
    for (const order of ORDERS) call.write({ ...order, caller });
    call.end();
  },
  WatchOrders(call: grpc.ServerWritableStream<object, OrderEvent>) {
    const caller = callerOf(call);
    const statuses = ['paid', 'packed', 'shipped'];
    let sequence = 0;
    const timer = setInterval(() => {
      sequence += 1;
      const order = ORDERS[sequence % ORDERS.length] as Omit<Order, 'caller'>;
      call.write({ sequence, orderId: order.id, status: statuses[sequence % statuses.length] ?? 'paid', caller });
      if (sequence >= WATCH_MAX_EVENTS) {
        clearInterval(timer);
        call.end();
      }
    }, WATCH_INTERVAL_MS);
    // Fires when the client cancels and when the interceptor ends the call because the token expired.
    call.on('cancelled', () => clearInterval(timer));
    call.on('close', () => clearInterval(timer));
  },
  CancelOrder(call: grpc.ServerUnaryCall<{ id: string }, Order>, callback: grpc.sendUnaryData<Order>) {
    const order = findOrder(call.request.id);
    if (!order) callback({ code: grpc.status.NOT_FOUND, details: `no order ${call.request.id}` });
    else callback(null, { ...order, quantity: 0, caller: callerOf(call) });
  },
};

/**
 * Starts the server on 127.0.0.1, any free port, over TLS.
 *
 * @example
 * ```ts
 * const server = await startServer(provider.served.url, makeCertificates());
 * ```
 */
export async function startServer(issuerUrl: string, certificates: Certificates): Promise<DemoServer> {
  let lastRejection: RejectedEvent | undefined;
  let unknownKidFetches = 0;
  const added = new Set<string | undefined>();
  const waiting: Array<{ kid: string; resolve: () => void }> = [];
  const onKeysEvent = (event: RemoteKeysEvent): void => {
    if ((event.type === 'fetched' || event.type === 'failed') && event.trigger === 'unknown-kid') unknownKidFetches += 1;
    if (event.type !== 'rotated') return;
    for (const kid of event.added) added.add(kid);
    for (const waiter of waiting.filter((w) => added.has(w.kid))) {
      waiting.splice(waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const auth = createAuthInterceptor({
    // OpenID Connect discovery: the JWKS URL comes from the provider's metadata. The server honours the
    // provider's Cache-Control down to one second (the default floor is a minute) so that the demo's
    // two-second key-set lifetime applies: it refetches the keys about every 1.6 s.
    keys: fromIssuer(issuerUrl, { minCacheMaxAge: 1, onEvent: onKeysEvent }),
    algorithms: ['ES256'],
    issuer: issuerUrl,
    audience: AUDIENCE,
    // The provider and the server share this machine's clock, and the demo shows a stream ending when its
    // 4-second token expires: without this, the default 60 s of tolerated skew would keep it open a minute.
    clockTolerance: 0,
    // DPoP-bound tokens (RFC 9449) are admitted only with a proof of their key, for this origin and method.
    dpop: { origins: [DPOP_ORIGIN] },
    rules: POLICY,
    defaultRule: 'deny',
    services: ordersService,
    onRejected: (event) => {
      lastRejection = event;
    },
  });
  const server = new grpc.Server({ interceptors: [auth] });
  server.addService(ordersService, handlers);
  const credentials = grpc.ServerCredentials.createSsl(null, [{ private_key: certificates.server.key, cert_chain: certificates.server.cert }], false);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  // Discovery and keys fetched before the first call, so no call waits for them.
  await auth.ready();
  return {
    address: `127.0.0.1:${port}`,
    get lastRejection() {
      return lastRejection;
    },
    get unknownKidFetches() {
      return unknownKidFetches;
    },
    keyArrives: (kid) => (added.has(kid) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ kid, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        auth.close();
        server.tryShutdown(() => resolve());
      }),
  };
}
