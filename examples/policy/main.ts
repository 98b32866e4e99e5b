/**
 * Per-method authorization declared two ways: in the .proto file (method options read by
 * rulesFromProto) and in code (a rule map). Two servers, one per policy, answer the same calls alike.
 * Run: node --import tsx examples/policy/main.ts
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_INCLUDE_DIR, createAuthInterceptor, findAuth, requireAnyScope, requireScopes, rulesFromProto, type RuleMap } from 'grpc-jwt-auth';
import { createTestIssuer } from 'grpc-jwt-auth/testing';

const ORDERS = '/acme.orders.v1.Orders';
const protoPath = fileURLToPath(new URL('./orders.proto', import.meta.url));
// PROTO_INCLUDE_DIR lets orders.proto `import "grpc_jwt_auth/v1/auth.proto"`.
const packageDefinition = protoLoader.loadSync(protoPath, { includeDirs: [PROTO_INCLUDE_DIR] });
const proto = grpc.loadPackageDefinition(packageDefinition) as any;

// 1. The policy from orders.proto, with one method overridden in code (deletions frozen for now).
const fromProto: RuleMap = { ...rulesFromProto(packageDefinition), [`${ORDERS}/DeleteOrder`]: 'deny' };

// 2. The same policy written in code.
const inCode: RuleMap = {
  [`${ORDERS}/GetCatalog`]: 'public',
  [`${ORDERS}/GetOrder`]: requireScopes('orders:read'),
  [`${ORDERS}/WatchOrders`]: requireAnyScope('orders:read', 'orders:admin'),
  [`${ORDERS}/CreateOrder`]: requireScopes('orders:write'),
  [`${ORDERS}/DeleteOrder`]: 'deny', // requireRoles('admin') once the migration is done
};

// A throw-away identity provider; in production: keys: fromIssuer('https://idp.example/').
const idp = await createTestIssuer({ alg: 'ES256', audience: 'orders-api' });

interface Order {
  id: string;
  owner: string;
}
const order = (call: { metadata: grpc.Metadata; request: { id: string } }): Order => ({ id: call.request.id, owner: findAuth(call)?.subject ?? 'anonymous' });
const unaryHandler = (call: grpc.ServerUnaryCall<{ id: string }, Order>, callback: grpc.sendUnaryData<Order>) => callback(null, order(call));

async function startServer(rules: RuleMap): Promise<{ client: any; server: grpc.Server }> {
  const auth = createAuthInterceptor({
    keys: idp.keys,
    algorithms: ['ES256'],
    issuer: idp.issuer,
    audience: 'orders-api',
    rules,
    defaultRule: 'deny', // fail closed: a method nobody thought about is unreachable
    services: packageDefinition, // a rule naming a method that does not exist throws here
    strictRules: true, // and so does a method no rule covers
  });
  const server = new grpc.Server({ interceptors: [auth] });
  server.addService(proto.acme.orders.v1.Orders.service, {
    GetCatalog: unaryHandler,
    GetOrder: unaryHandler,
    CreateOrder: unaryHandler,
    DeleteOrder: unaryHandler,
    WatchOrders(call: grpc.ServerWritableStream<{ id: string }, Order>) {
      call.write(order(call));
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, client: new proto.acme.orders.v1.Orders(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) };
}

const callers: Record<string, grpc.Metadata> = {
  anonymous: new grpc.Metadata(),
  reader: idp.metadata(await idp.sign({ sub: 'rita', scope: 'orders:read' })),
  writer: idp.metadata(await idp.sign({ sub: 'will', scope: 'orders:read orders:write' })),
  admin: idp.metadata(await idp.sign({ sub: 'ada', scope: 'orders:admin', roles: ['admin'] })),
};

/** Calls a method and describes the outcome: `OK` or the status name, with the scope a refusal names. */
function call(client: any, method: string, metadata: grpc.Metadata): Promise<string> {
  const describe = (error: grpc.ServiceError | null): string => {
    if (!error) return 'OK';
    const challenge = error.metadata.get('www-authenticate')[0];
    const scope = typeof challenge === 'string' ? / scope="([^"]*)"/.exec(challenge)?.[1] : undefined;
    return `${grpc.status[error.code]}${scope ? ` (needs ${scope})` : ''}`;
  };
  return new Promise((resolve) => {
    if (method === 'WatchOrders') {
      const stream = client.WatchOrders({ id: 'o-1' }, metadata);
      stream.on('data', () => undefined);
      stream.on('error', (error: grpc.ServiceError) => resolve(describe(error)));
      stream.on('status', (status: grpc.StatusObject) => status.code === grpc.status.OK && resolve('OK'));
    } else {
      client[method]({ id: 'o-1' }, metadata, (error: grpc.ServiceError | null) => resolve(describe(error)));
    }
  });
}

const expectations: Array<[method: string, caller: string, expected: string]> = [
  ['GetCatalog', 'anonymous', 'OK'],
  ['GetOrder', 'anonymous', 'UNAUTHENTICATED'],
  ['GetOrder', 'reader', 'OK'],
  ['WatchOrders', 'admin', 'OK'],
  ['CreateOrder', 'reader', 'PERMISSION_DENIED (needs orders:write)'],
  ['CreateOrder', 'writer', 'OK'],
  ['DeleteOrder', 'admin', 'PERMISSION_DENIED'],
];

let failures = 0;
for (const [name, rules] of [
  ['policy from orders.proto (+1 code override)', fromProto],
  ['policy in code', inCode],
] as const) {
  const { client, server } = await startServer(rules);
  console.log(name);
  for (const [method, caller, expected] of expectations) {
    const outcome = await call(client, method, callers[caller] as grpc.Metadata);
    if (outcome !== expected) failures += 1;
    console.log(`  ${method.padEnd(12)} as ${caller.padEnd(9)} → ${outcome}${outcome === expected ? '' : `   (expected ${expected})`}`);
  }
  client.close();
  server.forceShutdown();
}
process.exit(failures === 0 ? 0 : 1);
