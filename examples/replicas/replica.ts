/**
 * One replica of the orders service: a gRPC server with the auth interceptor, whose revocation list is
 * shared with the other replicas through Redis. In production each replica is its own process (or pod);
 * here three live in one process so the example is one command, but they share nothing except Redis:
 * each has its own store, its own connections and its own mirror of the list.
 */
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createRedisRevocationStore, getAuth, type AuthInterceptor, type KeyResolver } from 'grpc-jwt-auth';
import { decodeErrorInfo } from 'grpc-jwt-auth/client';

export const GET_ORDER = '/acme.orders.v1.Orders/GetOrder';

// A hand-written service definition keeps the example small: JSON messages instead of protobuf.
const json = { serialize: (value: unknown) => Buffer.from(JSON.stringify(value)), deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) };
const orders: grpc.ServiceDefinition = {
  GetOrder: {
    path: GET_ORDER,
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
const OrdersClient = grpc.makeGenericClientConstructor(orders, 'Orders');

export interface ReplicaOptions {
  readonly name: string;
  readonly redisUrl: string;
  /** Key prefix in Redis: replicas of one service share it. */
  readonly prefix: string;
  readonly keys: KeyResolver;
  readonly issuer: string;
  readonly audience: string;
}

export interface Replica {
  readonly name: string;
  /** Its interceptor: `auth.revocations` is its store, `auth.status().revocations` its health. */
  readonly auth: AuthInterceptor;
  /** `OK`, or the refusal as `<status> <reason>`, e.g. `UNAUTHENTICATED TOKEN_REVOKED`. */
  call(token: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts a replica on a free loopback port; resolves once its keys and its revocation list are loaded. */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const revocations = createRedisRevocationStore({
    url: options.redisUrl,
    prefix: options.prefix,
    // A heartbeat every 0.25 s (default 1 s) so the outage below is noticed quickly; the list stays
    // enforced for 60 s without Redis (default 300 s) before calls are refused with UNAVAILABLE.
    heartbeat: 0.25,
    staleIfError: 60,
  });
  const auth = createAuthInterceptor({ keys: options.keys, algorithms: ['ES256'], issuer: options.issuer, audience: options.audience, revocations });
  const server = new grpc.Server({ interceptors: [auth] });
  server.addService(orders, {
    GetOrder: (call: grpc.ServerUnaryCall<{ id: string }, { id: string; for: string }>, callback: grpc.sendUnaryData<{ id: string; for: string }>) =>
      callback(null, { id: call.request.id, for: getAuth(call).subject ?? '' }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  await auth.ready(); // the keys, and the revocation list loaded from Redis
  const client = new OrdersClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;

  return {
    name: options.name,
    auth,
    call: (token) =>
      new Promise((resolve) => {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', `Bearer ${token}`);
        // Every call is bounded: none may hang while Redis is down (none waits on it).
        client.GetOrder({ id: 'A-1001' }, metadata, { deadline: Date.now() + 2000 }, (error: grpc.ServiceError | null) => {
          if (!error) return resolve('OK');
          const [details] = error.metadata.get('grpc-status-details-bin');
          const reason = details instanceof Buffer ? decodeErrorInfo(details)?.reason : undefined;
          resolve(`${grpc.status[error.code]} ${reason ?? ''}`.trim());
        });
      }),
    async close() {
      client.close();
      server.forceShutdown();
      auth.close();
      await revocations.close(); // ours to close: the interceptor closes only stores it created itself
    },
  };
}
