/**
 * Keys from an identity provider found by OpenID Connect discovery, through a key rotation. Runs offline:
 * the test issuer's loopback server stands in for the provider. Run: node --import tsx examples/jwks-oidc/main.ts
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createAuthInterceptor, fromIssuer, getAuth, type RemoteKeysEvent } from 'grpc-jwt-auth';
import { createTestIssuer } from 'grpc-jwt-auth/testing';

// --- the identity provider (in production: your Keycloak, Auth0, Okta, Entra ID, ...) -------------------
const idp = await createTestIssuer({ alg: 'ES256', audience: 'greeter' });
const provider = await idp.serve(); // discovery + JWKS on http://127.0.0.1:<port>, issuer = that URL

// --- server ------------------------------------------------------------------------------------------
const describe = (event: RemoteKeysEvent): string => {
  switch (event.type) {
    case 'fetched':
      return `fetched ${event.document} (${event.trigger}), cached ${event.maxAge} s`;
    case 'rotated':
      return `key set rotated: added ${event.added.join(', ')}; removed ${event.removed.join(', ') || 'none'}`;
    case 'failed':
      return `fetch of ${event.document} failed: ${event.error.message}`;
    case 'keySkipped':
      return `skipped key ${event.kid ?? `#${event.index}`}: ${event.reason}`;
  }
};
const keys = fromIssuer(provider.url, {
  onEvent: (event) => console.log(`  [keys] ${describe(event)}`),
  // Defaults: 30 s between refetches for unknown kids. Shortened so the demo need not wait.
  cooldown: 0.2,
});
const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], issuer: provider.url, audience: 'greeter' });
const protoPath = fileURLToPath(new URL('../quickstart/greeter.proto', import.meta.url));
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as any;
const server = new grpc.Server({ interceptors: [auth] });
server.addService(proto.helloworld.Greeter.service, {
  SayHello(call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<{ message: string }>) {
    callback(null, { message: `Hello ${call.request.name}, you are ${getAuth(call).subject}` });
  },
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);
await auth.ready(); // discovery and keys fetched before the first call, so no call waits

// --- client ------------------------------------------------------------------------------------------
const client = new proto.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
function sayHello(token: string): Promise<string> {
  return new Promise((resolve) => {
    client.SayHello({ name: 'world' }, idp.metadata(token), (error: grpc.ServiceError | null, reply: { message: string }) => {
      resolve(error ? `refused: ${grpc.status[error.code]}` : `accepted: ${reply.message}`);
    });
  });
}

const results: Array<[string, string, string]> = [];
const run = async (label: string, token: string, expected: string) => {
  const result = await sayHello(token);
  results.push([label, result, expected]);
  console.log(`${label.padEnd(44)} ${result}`);
};

await run('token signed with the current key', await idp.sign({ sub: 'alice' }), 'accepted');
await new Promise((resolve) => setTimeout(resolve, 250)); // past the (shortened) cooldown
await idp.rotate(); // the provider publishes a new key and signs with it at once
await run('token with the new kid, before any refresh', await idp.sign({ sub: 'bob' }), 'accepted');
await run('token from an issuer we do not trust', await idp.wrongIssuerToken(), 'refused: UNAUTHENTICATED');
console.log(`provider requests: discovery ${provider.requestCount('/.well-known/openid-configuration')}, JWKS ${provider.requestCount('/jwks.json')}`);

client.close();
auth.close();
server.forceShutdown();
await provider.close();
if (results.some(([, result, expected]) => !result.startsWith(expected))) process.exit(1);
