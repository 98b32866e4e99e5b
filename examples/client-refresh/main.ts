/**
 * Client token refresh: a worker calls an inventory service for 4 seconds with access tokens that live
 * 3 seconds. It gets them from an OAuth 2.0 token endpoint (client credentials grant) and refreshes each
 * one shortly before it expires, so no call is ever refused. Everything runs offline: the identity
 * provider is the test issuer's loopback server. Run: node --import tsx examples/client-refresh/main.ts
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createAuthInterceptor, fromIssuer, getAuth, requireScopes } from 'grpc-jwt-auth';
import { clientCredentials, createTokenInterceptor } from 'grpc-jwt-auth/client';
import { createTestIssuer } from 'grpc-jwt-auth/testing';

const protoPath = fileURLToPath(new URL('./inventory.proto', import.meta.url));
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as any;

// --- identity provider: discovery, JWKS and /token on a loopback port --------------------------------
const idp = await createTestIssuer({ alg: 'ES256', audience: 'inventory' });
const provider = await idp.serve({
  token: { clients: { 'inventory-worker': { secret: 'demo-secret-do-not-reuse', scope: 'inventory:read' } }, accessTokenLifetime: 3 },
});

// --- server: verifies every call against the provider's published keys -------------------------------
const auth = createAuthInterceptor({
  keys: fromIssuer(provider.url),
  algorithms: ['ES256'],
  issuer: provider.url,
  audience: 'inventory',
  rules: { '/demo.inventory.v1.Inventory/GetStock': requireScopes('inventory:read') },
});
const server = new grpc.Server({ interceptors: [auth] });
server.addService(proto.demo.inventory.v1.Inventory.service, {
  GetStock(call: grpc.ServerUnaryCall<{ sku: string }, unknown>, callback: grpc.sendUnaryData<{ sku: string; count: number; caller: string }>) {
    callback(null, { sku: call.request.sku, count: 42, caller: getAuth(call).subject ?? '' });
  },
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);

// --- client: the token interceptor with a client-credentials token source ----------------------------
const token = clientCredentials({
  tokenUrl: provider.tokenUrl,
  clientId: 'inventory-worker',
  clientSecret: 'demo-secret-do-not-reuse', // in production: from your secret store
  scope: 'inventory:read',
});
// A loopback channel may be plaintext; for a remote host use TLS and channelSecurity: 'tls'.
const client = new proto.demo.inventory.v1.Inventory(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
  interceptors: [createTokenInterceptor({ token })],
});

function getStock(sku: string): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => client.GetStock({ sku }, (error: grpc.ServiceError | null) => resolve(error)));
}

let calls = 0;
const failures: string[] = [];
const started = Date.now();
while (Date.now() - started < 4000) {
  const error = await getStock(`sku-${calls}`);
  calls += 1;
  if (error) failures.push(`${grpc.status[error.code]}: ${error.details}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const fetched = provider.requestCount('/token');

console.log(`${calls} calls over 4 s with 3-second access tokens`);
console.log(`access tokens fetched from ${provider.tokenUrl}: ${fetched} (each one shortly before the last expired)`);
console.log(`calls refused: ${failures.length}`);
for (const failure of failures) console.log(`  ${failure}`);

client.close();
server.forceShutdown();
auth.close();
await provider.close();
if (failures.length > 0 || fetched < 2) process.exit(1);
