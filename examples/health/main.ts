/**
 * Readiness from the keys: the standard gRPC health service reports SERVING while the server can verify
 * tokens, and NOT_SERVING once the identity provider has been down for longer than the keys' stale
 * bound. Runs offline: a loopback server plays the provider and can be switched off, and the key set's
 * clock is moved forward instead of waiting hours. Run: node --import tsx examples/health/main.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { createAuthInterceptor, fromJwks, getAuth, type RemoteKeysEvent } from 'grpc-jwt-auth';
import { createTestIssuer } from 'grpc-jwt-auth/testing';
import { reportKeyHealth } from './key-health.ts';

// --- the identity provider, which can go down ----------------------------------------------------------
const idp = await createTestIssuer({ alg: 'ES256', audience: 'greeter' });
let providerUp = true;
const provider = createServer((_request, response) => {
  if (!providerUp) return void response.writeHead(503).end();
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(JSON.stringify(idp.jwks));
});
await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
const jwksUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}/jwks.json`;

// --- server: the auth interceptor, and the health service reporting its keys ------------------------------
let keysClock = Date.now(); // the key set's clock, moved forward below instead of waiting
const keys = fromJwks(jwksUrl, {
  clock: () => keysClock,
  staleIfError: 3600, // keys keep verifying for an hour past their 10-minute age while the provider is down
  cooldown: 0.5, // retries after a failure: 0.5 s apart at most (default up to 30 s), so the demo is quick
});
const auth = createAuthInterceptor({
  keys,
  algorithms: ['ES256'],
  issuer: idp.issuer,
  audience: 'greeter',
  rules: { '/grpc.health.v1.Health/*': 'public' }, // probes carry no token
});
const protoPath = fileURLToPath(new URL('../quickstart/greeter.proto', import.meta.url));
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as any;
const server = new grpc.Server({ interceptors: [auth] });
server.addService(proto.helloworld.Greeter.service, {
  SayHello(call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<{ message: string }>) {
    callback(null, { message: `Hello, ${getAuth(call).subject}` });
  },
});
const health = new HealthImplementation({ '': 'NOT_SERVING' });
health.addToServer(server);
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);
await auth.ready();
const keyHealth = reportKeyHealth(auth, health, { services: ['helloworld.Greeter'], keys: [keys] });

// --- a probe and a client ----------------------------------------------------------------------------------
const Health = grpc.makeClientConstructor(healthService as grpc.ServiceDefinition, 'Health');
const probe = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
const greeter = new proto.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const check = (): Promise<string> =>
  new Promise((resolve) =>
    probe.Check({ service: '' }, (error: grpc.ServiceError | null, reply: { status: string }) => resolve(error ? 'ERROR' : reply.status)),
  );
/** A call with a token not seen before (a seen one is answered by the verified-token cache, without keys). */
async function call(): Promise<string> {
  const metadata = idp.metadata(await idp.sign({ sub: 'alice' }));
  return new Promise((resolve) =>
    greeter.SayHello({ name: 'x' }, metadata, (error: grpc.ServiceError | null) => resolve(error ? grpc.status[error.code] : 'OK')),
  );
}
const nextEvent = (type: RemoteKeysEvent['type']): Promise<void> =>
  new Promise((resolve) => {
    const unsubscribe = keys.subscribe((event) => {
      if (event.type === type) resolve(unsubscribe());
    });
  });

const failures: string[] = [];
async function show(moment: string, expected: { health: string; call: string }): Promise<void> {
  keyHealth.update(); // the recipe polls every 5 s; read now so the transcript is exact
  const [probed, called] = [await check(), await call()];
  const { state, staleUntil, lastError } = auth.status().issuers[0]!;
  const minutes = Math.round(((staleUntil?.getTime() ?? keysClock) - keysClock) / 60_000);
  const usable = minutes >= 0 ? `usable ${minutes} min more` : `unusable for ${-minutes} min`;
  const error = lastError === undefined ? '' : `, last error: ${lastError.replace(`${jwksUrl}: `, '')}`;
  console.log(`${moment.padEnd(34)} health ${probed.padEnd(11)} call ${called.padEnd(11)} keys ${state} (${usable}${error})`);
  if (probed !== expected.health || called !== expected.call) failures.push(`${moment}: expected ${expected.health}/${expected.call}`);
}

await show('provider up, keys fetched', { health: 'SERVING', call: 'OK' });

providerUp = false;
keysClock += 15 * 60_000;
const failed = nextEvent('failed');
await call(); // keys past their age: the call is served from them and starts a refresh, which fails
await failed;
await show('provider down for 15 min', { health: 'SERVING', call: 'OK' });

keysClock += 2 * 3600_000;
await show('provider down for 2 h 15 min', { health: 'NOT_SERVING', call: 'UNAVAILABLE' });

providerUp = true;
keysClock += 60_000;
const fetched = nextEvent('fetched');
await fetched; // no call needed: the key set is retried in the background
await show('provider back, keys fetched again', { health: 'SERVING', call: 'OK' });

keyHealth.stop();
probe.close();
greeter.close();
auth.close();
server.forceShutdown();
provider.close();
if (failures.length > 0) {
  console.error(failures.join('\n'));
  process.exit(1);
}
