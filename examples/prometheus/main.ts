/**
 * Prometheus metrics of the auth interceptor with prom-client (no OpenTelemetry): an admitted and a
 * refused call, then a scrape of /metrics. Runs offline: the test issuer's loopback server stands in for
 * the identity provider. Run: node --import tsx examples/prometheus/main.ts
 */
import * as grpc from '@grpc/grpc-js';
import { createTestIssuer } from 'grpc-jwt-auth/testing';
import { greeterClient, startMetricsExample } from './server.ts';

const idp = await createTestIssuer({ alg: 'ES256', audience: 'greeter' });
const provider = await idp.serve();
const example = await startMetricsExample(provider.url, 'greeter');
const client = greeterClient(example.address);

const sayHello = (metadata: grpc.Metadata): Promise<string> =>
  new Promise((resolve) => {
    client.SayHello({ name: 'world' }, metadata, (error: grpc.ServiceError | null) => resolve(error ? grpc.status[error.code] : 'OK'));
  });
console.log(`with a token:    ${await sayHello(idp.metadata(await idp.sign({ sub: 'alice' })))}`);
console.log(`without a token: ${await sayHello(new grpc.Metadata())}`);

const scraped = await (await fetch(example.metricsUrl)).text();
const ours = scraped.split('\n').filter((line) => line.startsWith('grpc_jwt_auth_') && !line.includes('_bucket{'));
console.log(`\nGET ${example.metricsUrl} (grpc_jwt_auth_* lines, histogram buckets left out):`);
for (const line of ours) console.log(`  ${line}`);

client.close();
await example.close();
await provider.close();
const expected = ['outcome="admitted",reason="OK"} 1', 'outcome="refused",reason="TOKEN_MISSING"} 1', 'state="fresh"} 1'];
if (!expected.every((text) => ours.some((line) => line.includes(text)))) process.exit(1);
