/**
 * DPoP (RFC 9449): tokens bound to a key the client holds. The client gets a DPoP-bound token from the
 * provider's token endpoint and every call carries a fresh proof signed with its key; the server also
 * requires its nonces, which the client picks up by itself. A thief who copies the token off the wire, or
 * the whole request, gets nothing: each attempt below is refused.
 * Runs offline: a throw-away test issuer stands in for the identity provider.
 * Run: node --import tsx examples/dpop/main.ts
 */
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, getAuth, requireBoundToken } from 'grpc-jwt-auth';
import { clientCredentials, createDpopKey, createTokenInterceptor, decodeErrorInfo } from 'grpc-jwt-auth/client';
import { createTestIssuer } from 'grpc-jwt-auth/testing';

const GET_ORDER = '/acme.orders.v1.Orders/GetOrder';
/** The name clients address the service by: a proof names it (`htu`), so a proof made for another service is refused here. */
const ORIGIN = 'https://orders.test';

const idp = await createTestIssuer({ alg: 'ES256', audience: 'orders-api' });
const served = await idp.serve({ token: { clients: { worker: { secret: 'worker-secret', scope: 'orders:read', dpop: 'required' } } } });

const auth = createAuthInterceptor({
  keys: idp.keys,
  algorithms: ['ES256'],
  issuer: idp.issuer,
  audience: 'orders-api',
  // Proofs must name this origin; `nonce: true` makes them carry a recent server nonce too (one replica:
  // give several replicas one `{ secret }`). Replays are caught by the default in-memory replay store.
  dpop: { origins: [ORIGIN], nonce: true },
  rules: { [GET_ORDER]: requireBoundToken('dpop') },
  defaultRule: 'deny',
});

// A hand-written service definition keeps the example to one file: JSON messages instead of protobuf.
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
const server = new grpc.Server({ interceptors: [auth] });
server.addService(orders, {
  GetOrder: (call: grpc.ServerUnaryCall<{ id: string }, { id: string; boundTo?: string }>, callback: grpc.sendUnaryData<{ id: string; boundTo?: string }>) =>
    callback(null, { id: call.request.id, boundTo: getAuth(call).confirmation?.jkt ?? 'none' }),
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);
const Client = grpc.makeGenericClientConstructor(orders, 'Orders');
const address = `127.0.0.1:${port}`;

// The client: a key pair (its private key cannot be exported), tokens bound to it, a proof per call.
const key = await createDpopKey();
const token = clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
// A stand-in for a request copied off the wire: it records what the token interceptor sent (it runs after it).
let wire: grpc.Metadata | undefined;
const recorder: grpc.Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start: (metadata, listener, next) => {
      wire = metadata.clone();
      next(metadata, listener);
    },
  });
const client = new Client(address, grpc.credentials.createInsecure(), {
  interceptors: [createTokenInterceptor({ token, dpop: { key, origin: ORIGIN } }), recorder],
}) as grpc.Client & Record<string, any>;
// The thief's client: no interceptor, he sends what he copied by hand.
const thief = new Client(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;

function getOrder(on: grpc.Client & Record<string, any>, metadata = new grpc.Metadata()): Promise<string> {
  return new Promise((resolve) =>
    on.GetOrder({ id: 'A-1001' }, metadata, (error: grpc.ServiceError | null, reply?: { boundTo?: string }) => {
      if (!error) return resolve(`OK (token bound to key ${reply?.boundTo?.slice(0, 12)}…)`);
      const [details] = error.metadata.get('grpc-status-details-bin');
      const reason = details instanceof Buffer ? decodeErrorInfo(details)?.reason : undefined;
      resolve(`${grpc.status[error.code]} ${reason}`);
    }),
  );
}

function copied(scheme: 'Bearer' | 'DPoP', stolenToken: string, proof?: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `${scheme} ${stolenToken}`);
  if (proof !== undefined) metadata.set('dpop', proof);
  return metadata;
}

let unexpected = 0;
function show(what: string, outcome: string, expected: string): void {
  console.log(`${what.padEnd(52)} → ${outcome}`);
  if (!outcome.startsWith(expected)) unexpected += 1;
}

try {
  // The first call is refused for a nonce (DPOP_NONCE_REQUIRED, the nonce in a trailer); the interceptor
  // retries it once with the nonce, before the handler ever ran. The caller only sees OK.
  show('the key holder calls GetOrder', await getOrder(client), 'OK');

  const stolen = await token.getToken();
  show('a thief sends the copied token as Bearer', await getOrder(thief, copied('Bearer', stolen)), 'UNAUTHENTICATED DPOP_SCHEME_REQUIRED');
  const thiefKey = await createDpopKey();
  const htu = `${ORIGIN}${GET_ORDER}`;
  const ownProof = await thiefKey.proof({ htu, accessToken: stolen });
  show('a thief signs a proof with a key of his own', await getOrder(thief, copied('DPoP', stolen, ownProof)), 'UNAUTHENTICATED DPOP_KEY_MISMATCH');
  show('a thief replays a request copied whole', await getOrder(thief, wire), 'UNAUTHENTICATED DPOP_PROOF_REPLAYED');
  if (unexpected > 0) process.exitCode = 1;
} finally {
  client.close();
  thief.close();
  server.forceShutdown();
  auth.close();
  await served.close();
}
