/**
 * examples/prometheus booted as a user would run it: its server behind the auth interceptor, a real
 * authorized call and a real refused one, then a scrape of its /metrics over loopback HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { METRIC_NAMES } from '../../src/index.ts';
import { createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { greeterClient, startMetricsExample, type MetricsExample } from '../../examples/prometheus/server.ts';

/** The value of the sample `name{labels}` in a Prometheus text exposition; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('examples/prometheus: /metrics after real calls', () => {
  let idp: TestIssuer;
  let provider: ServedIssuer;
  let example: MetricsExample;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'greeter' });
    provider = await idp.serve();
    example = await startMetricsExample(provider.url, 'greeter');
  });
  after(async () => {
    await example.close();
    await provider.close();
  });

  it('an authorized and an expired-token call → decisions, durations, key fetches and key state in the scrape; no token in it', async () => {
    const client = greeterClient(example.address);
    const call = (metadata: grpc.Metadata) =>
      new Promise<number>((resolve) => client.SayHello({ name: 'x' }, metadata, (error: grpc.ServiceError | null) => resolve(error?.code ?? grpc.status.OK)));
    const token = await idp.sign({ sub: 'alice' });
    const expired = await idp.expiredToken({ sub: 'bob' });
    try {
      assert.equal(await call(idp.metadata(token)), grpc.status.OK);
      assert.equal(await call(idp.metadata(expired)), grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
    const response = await fetch(example.metricsUrl);
    assert.equal(response.status, 200);
    const text = await response.text();
    const method = '/helloworld.Greeter/SayHello';
    assert.equal(sample(text, 'grpc_jwt_auth_decisions_total', { method, outcome: 'admitted', reason: 'OK' }), 1);
    assert.equal(sample(text, 'grpc_jwt_auth_decisions_total', { method, outcome: 'refused', reason: 'TOKEN_EXPIRED' }), 1);
    assert.equal(sample(text, 'grpc_jwt_auth_verification_duration_seconds_count', { cache: 'miss' }), 2);
    assert.equal(sample(text, 'grpc_jwt_auth_keys_fetches_total', { document: 'discovery', trigger: 'initial', outcome: 'success' }), 1);
    assert.equal(sample(text, 'grpc_jwt_auth_keys_fetches_total', { document: 'jwks', trigger: 'initial', outcome: 'success' }), 1);
    assert.equal(sample(text, 'grpc_jwt_auth_keys_state', { issuer: provider.url, state: 'fresh' }), 1);
    assert.equal(sample(text, 'grpc_jwt_auth_keys_state', { issuer: provider.url, state: 'expired' }), 0);
    // The same names as the OpenTelemetry instruments in Prometheus's spelling, so the README's alerts
    // and a dashboard keep working when a user moves from this example to the OpenTelemetry exporter.
    const prometheusName = (name: string) => name.replaceAll('.', '_');
    for (const name of [
      `${prometheusName(METRIC_NAMES.decisions)}_total`,
      `${prometheusName(METRIC_NAMES.verificationDuration)}_seconds_count`,
      `${prometheusName(METRIC_NAMES.keyFetches)}_total`,
      prometheusName(METRIC_NAMES.keyState),
    ]) {
      assert.match(text, new RegExp(`^${name}\\{`, 'm'), name);
    }
    for (const secret of [token, expired, token.slice(token.lastIndexOf('.') + 1), 'alice', 'bob']) assert.equal(text.includes(secret), false);
  });
});
