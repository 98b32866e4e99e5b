/**
 * A server on a company network: the identity provider is reachable only through an HTTP proxy, clients
 * send their token in an `x-api-token` header set by the gateway in front, and the library logs to the
 * application's logger. Runs offline: a test issuer stands in for the provider and a small CONNECT proxy
 * for the corporate one. Run: node --import tsx examples/outbound/main.ts
 */
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createAuthInterceptor, fromIssuer, getAuth, type FetchFunction, type Logger } from 'grpc-jwt-auth';
import { createTestIssuer } from 'grpc-jwt-auth/testing';
import { fetch, ProxyAgent } from 'undici';

// --- the network: an identity provider, and the only way to it, a CONNECT proxy ---------------------------
const idp = await createTestIssuer({ alg: 'ES256', audience: 'greeter' });
const provider = await idp.serve(); // discovery + JWKS on http://127.0.0.1:<port>
const tunnels: string[] = [];
const corporateProxy = createServer().on('connect', (request, client) => {
  tunnels.push(request.url ?? '');
  const [host, port] = (request.url ?? '').split(':');
  const upstream = connect(Number(port), host, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.pipe(client).pipe(upstream);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
});
await new Promise<void>((resolve) => corporateProxy.listen(0, '127.0.0.1', resolve));
const proxyUrl = `http://127.0.0.1:${(corporateProxy.address() as AddressInfo).port}`;

// --- server ---------------------------------------------------------------------------------------------
// Node's own fetch ignores HTTPS_PROXY: the library's requests go through undici's ProxyAgent instead.
// (In production: new EnvHttpProxyAgent() reads HTTPS_PROXY / NO_PROXY.)
const proxyAgent = new ProxyAgent(proxyUrl);
const viaProxy: FetchFunction = (url, init) => fetch(url, { ...init, dispatcher: proxyAgent });

// Any pino-compatible logger (pino(), a child logger); this one prints one line per record.
const logLine =
  (level: string) =>
  (fields: object, message?: string): void =>
    console.log(`  [${level}] ${message ?? ''} ${JSON.stringify(fields)}`);
const logger: Logger = { debug: logLine('debug'), info: logLine('info'), warn: logLine('warn'), error: logLine('error') };

const auth = createAuthInterceptor({
  keys: fromIssuer(provider.url, { fetch: viaProxy }),
  algorithms: ['ES256'],
  issuer: provider.url,
  audience: 'greeter',
  tokenFrom: { metadata: 'x-api-token' }, // the gateway forwards the caller's token here, without a scheme
  logger,
});
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
await auth.ready(); // discovery and keys, through the proxy, before the first call
console.log(`keys fetched through the proxy: ${tunnels.length} tunnel(s) to ${[...new Set(tunnels)].join(', ')}`);
const [issuerStatus] = auth.status().issuers;
console.log(`auth.status(): serving ${auth.status().serving}, state ${issuerStatus?.state}, kids ${issuerStatus?.kids.join(', ')}`);

// --- client ---------------------------------------------------------------------------------------------
const client = new proto.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
function sayHello(metadata: grpc.Metadata): Promise<string> {
  return new Promise((resolve) => {
    client.SayHello({ name: 'world' }, metadata, (error: grpc.ServiceError | null, reply: { message: string }) => {
      resolve(error ? `refused: ${grpc.status[error.code]}` : `accepted: ${reply.message}`);
    });
  });
}
const inHeader = (name: string, value: string): grpc.Metadata => {
  const metadata = new grpc.Metadata();
  metadata.set(name, value);
  return metadata;
};

const token = await idp.sign({ sub: 'alice' });
const steps: Array<[string, grpc.Metadata, string]> = [
  ['token in x-api-token', inHeader('x-api-token', token), 'accepted'],
  ['token in authorization only (not read here)', inHeader('authorization', `Bearer ${token}`), 'refused: UNAUTHENTICATED'],
  ['x-api-token with a scheme in front', inHeader('x-api-token', `Bearer ${token}`), 'refused: UNAUTHENTICATED'],
  ['expired token in x-api-token', inHeader('x-api-token', await idp.expiredToken({ sub: 'alice' })), 'refused: UNAUTHENTICATED'],
];
let failed = false;
for (const [label, metadata, expected] of steps) {
  const result = await sayHello(metadata);
  failed ||= !result.startsWith(expected);
  console.log(`${label.padEnd(46)} ${result}`);
}

client.close();
auth.close();
server.forceShutdown();
await proxyAgent.close();
corporateProxy.close();
await provider.close();
process.exitCode = failed ? 1 : 0;
