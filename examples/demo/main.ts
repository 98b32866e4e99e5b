/**
 * `npm run demo`: a JWT-secured gRPC service and its client, live on this machine. Everything runs on
 * loopback and offline: the test issuer stands in for the identity provider, TLS certificates are made
 * with openssl for this run only. Exits 0 when every step behaves as expected, 1 otherwise.
 * Run: node --import tsx examples/demo/main.ts
 */
import * as grpc from '@grpc/grpc-js';
import { clientCredentials, createTokenInterceptor, type DpopKey, type TokenSource } from 'grpc-jwt-auth/client';
import { makeCertificates, type Certificates } from '../support/certificates.ts';
import { BINDING_STEPS } from './binding-steps.ts';
import { CALL_STEPS } from './call-steps.ts';
import { bindCalls } from './client.ts';
import { LIFECYCLE_STEPS } from './lifecycle-steps.ts';
import { newOrdersClient, type OrdersClient } from './orders.ts';
import { CLIENT, DPOP_CLIENT, REFRESH_BEFORE_SECONDS, TOKEN_LIFETIME_SECONDS, startProvider } from './provider.ts';
import { printStep, printVerdict, StepReport } from './report.ts';
import { DPOP_ORIGIN, REQUIRED_SCOPES, startServer } from './server.ts';
import type { DemoContext, DpopClient } from './step.ts';

/** A step that takes longer than this has hung: it fails, and the demo goes on. */
const STEP_TIMEOUT_MS = 20_000;
/** The whole demo normally takes about 15 s; past this, something is stuck. */
const DEMO_TIMEOUT_MS = 50_000;

const demoStarted = Date.now();
setTimeout(() => {
  console.error(`\n✘ the demo did not finish within ${DEMO_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, DEMO_TIMEOUT_MS).unref();

function tlsCertificates(): Certificates {
  try {
    return makeCertificates();
  } catch (error) {
    console.error(`✘ could not make TLS certificates with openssl (is it installed?): ${(error as Error).message}`);
    process.exit(1);
  }
}

function timeout(ms: number): Promise<never> {
  return new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`no result after ${ms / 1000} s`)), ms).unref());
}

console.log('grpc-jwt-auth demo: a JWT-secured gRPC service and its client, live on this machine (loopback, offline)');

const certificates = tlsCertificates();
const provider = await startProvider();
const server = await startServer(provider.served.url, certificates);
const newTokenSource = (): TokenSource =>
  clientCredentials({
    tokenUrl: provider.served.tokenUrl,
    clientId: CLIENT.id,
    clientSecret: CLIENT.secret,
    scope: CLIENT.scope,
    refreshBefore: REFRESH_BEFORE_SECONDS,
  });
const clients: OrdersClient[] = [];
const connect = (token?: TokenSource): OrdersClient => {
  // The server's certificate is signed by the demo CA, which the client trusts. It is checked against the
  // name "localhost" (TLS server names cannot be IP addresses). With TLS, say so with channelSecurity:
  // 'tls', and tokens may go to any host, not only to loopback ones.
  const options: grpc.ClientOptions = { 'grpc.ssl_target_name_override': 'localhost' };
  if (token !== undefined) options.interceptors = [createTokenInterceptor({ token, channelSecurity: 'tls' })];
  const client = newOrdersClient(server.address, grpc.credentials.createSsl(certificates.ca), options);
  clients.push(client);
  return client;
};
const connectWithDpop = (key: DpopKey): DpopClient => {
  const token = clientCredentials({ tokenUrl: provider.served.tokenUrl, clientId: DPOP_CLIENT.id, clientSecret: DPOP_CLIENT.secret, dpop: key });
  // Runs after the token interceptor, so it sees the call's metadata as it goes on the wire.
  let lastSent: grpc.Metadata | undefined;
  const wiretap: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        lastSent = metadata.clone();
        next(metadata, listener);
      },
    });
  const options: grpc.ClientOptions = {
    'grpc.ssl_target_name_override': 'localhost',
    interceptors: [createTokenInterceptor({ token, channelSecurity: 'tls', dpop: { key, origin: DPOP_ORIGIN } }), wiretap],
  };
  const dpopClient = newOrdersClient(server.address, grpc.credentials.createSsl(certificates.ca), options);
  clients.push(dpopClient);
  return { client: dpopClient, token, lastSent: () => lastSent };
};
const client = connect(newTokenSource());
const context: DemoContext = { provider, server, client, calls: bindCalls(client), connect, newTokenSource, connectWithDpop };

const policy = Object.entries(REQUIRED_SCOPES).map(([pattern, scope]) => `${pattern.padEnd(34)} needs scope ${scope}`);
console.log(`
Set-up
   identity provider  ${provider.served.url}: OpenID Connect discovery, JWKS, OAuth 2.0 /token
                      (the test issuer) signs ES256 tokens with key ${provider.issuer.kid}; access tokens live ${TOKEN_LIFETIME_SECONDS} s
   TLS                a throw-away CA and server certificate for 127.0.0.1, made with openssl (files deleted)
   gRPC server        ${server.address} over TLS; createAuthInterceptor with keys: fromIssuer(provider)
                      policy: ${policy.join('\n                              ')}
   client             "${CLIENT.id}": clientCredentials token source + createTokenInterceptor, granted scope ${CLIENT.scope}
                      "${DPOP_CLIENT.id}" (step 8): the same with a DPoP key (createDpopKey), proofs for origin ${DPOP_ORIGIN}`);

const steps = [...CALL_STEPS, ...LIFECYCLE_STEPS, ...BINDING_STEPS];
let passed = 0;
for (const [index, step] of steps.entries()) {
  printStep(index + 1, step.title, step.explanation);
  const report = new StepReport();
  try {
    await Promise.race([step.run(context, report), timeout(STEP_TIMEOUT_MS)]);
  } catch (error) {
    report.expect(false, `the step to finish (${(error as Error).message})`);
  }
  if (printVerdict(report)) passed += 1;
}

for (const opened of clients) opened.close();
await server.close();
await provider.served.close();

const seconds = ((Date.now() - demoStarted) / 1000).toFixed(1);
if (passed === steps.length) {
  console.log(`\nAll ${steps.length} steps behaved as expected (${seconds} s). The code is in examples/demo/; more in examples/README.md.`);
} else {
  console.log(`\n✘ ${steps.length - passed} of ${steps.length} steps misbehaved (${seconds} s).`);
  process.exitCode = 1;
}
