/**
 * OpenTelemetry over real gRPC calls and a real loopback JWKS server, read back from the real SDK in
 * memory: the decisions counter, the verification-time histogram (cache hit and miss), key fetches
 * (success and failure) and the key-state gauge, the `grpc_jwt_auth.authenticate` spans; and nothing
 * recorded with `telemetry: false`. The token, and its signature, appear in no exported data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { context, metrics, propagation, trace, type Context, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AuthConfigError, METRIC_NAMES, createAuthInterceptor, fromJwks, type AuthInterceptor } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, serverStream, unary } from '../support/calls.ts';
import { METHODS, startEchoServer, type EchoServer, withAuthServer } from '../support/echo-server.ts';
import { json, startFakeProvider, status as httpStatus, type FakeProvider } from '../support/fake-provider.ts';
import { manualClock } from '../support/remote-keys.ts';
import { startTelemetry } from '../../src/telemetry/call-telemetry.ts';
import { inMemoryMetrics, inMemoryTraces, pointsOf, valueWhere, type InMemoryMetrics, type InMemoryTraces } from '../support/telemetry-sdk.ts';

const { status, Metadata } = grpc;
const ECHO_SERVICE = METHODS.unary.slice(1, METHODS.unary.lastIndexOf('/'));
const UNARY = METHODS.unary.slice(METHODS.unary.lastIndexOf('/') + 1);

/**
 * A W3C `traceparent` reader, just enough to show the span joins the client's trace (the full
 * propagator lives in @opentelemetry/core, which this project does not depend on directly).
 */
const traceparentPropagator: TextMapPropagator = {
  inject: () => undefined,
  extract(parent: Context, carrier, getter): Context {
    const value = getter.get(carrier, 'traceparent');
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$/.exec(Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));
    if (match === null) return parent;
    return trace.setSpanContext(parent, { traceId: match[1] as string, spanId: match[2] as string, traceFlags: Number(match[3]), isRemote: true });
  },
  fields: () => ['traceparent'],
};

/** Everything an exporter would send, as text. */
function exported(data: unknown): string {
  return JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
}

describe('telemetry: metrics and spans over real calls, read from the OpenTelemetry SDK', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  let auth: AuthInterceptor;
  let otelMetrics: InMemoryMetrics;
  let traces: InMemoryTraces;
  const tokens: string[] = [];

  before(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(traceparentPropagator);
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api', kid: 'signing-2026' });
    otelMetrics = inMemoryMetrics();
    traces = inMemoryTraces();
    auth = createAuthInterceptor({
      keys: fromJwks(idp.jwks),
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      rules: { [METHODS.bidi]: 'deny' },
      telemetry: { meterProvider: otelMetrics.meterProvider, tracerProvider: traces.tracerProvider },
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(async () => {
    await echo.close();
    auth.close();
    const spans = traces.spans().map(({ name, attributes, events, links, status: spanStatus }) => ({ name, attributes, events, links, spanStatus }));
    const everything = exported(await otelMetrics.collectRaw()) + exported(spans);
    for (const token of tokens) {
      assert.equal(everything.includes(token), false, 'a token in exported telemetry');
      assert.equal(everything.includes(token.slice(token.lastIndexOf('.') + 1)), false, "a token's signature in exported telemetry");
    }
  });

  it('an admitted call (fresh, then cached) and refused ones → decisions by rpc.method, outcome and reason; duration by cache hit and miss', async () => {
    const token = await idp.sign({ sub: 'alice' });
    const forged = await idp.tamperedToken({ sub: 'mallory' });
    const expired = await idp.expiredToken({ sub: 'bob' });
    tokens.push(token, forged, expired);
    assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.OK);
    assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.OK);
    assert.equal((await unary(echo.client, new Metadata())).code, status.UNAUTHENTICATED);
    assert.equal((await unary(echo.client, bearer(Metadata, expired))).code, status.UNAUTHENTICATED);
    assert.equal((await unary(echo.client, bearer(Metadata, forged))).code, status.UNAUTHENTICATED);

    const collected = await otelMetrics.collect();
    const decisions = (outcome: string, reason: string) =>
      valueWhere(collected, METRIC_NAMES.decisions, { 'rpc.system': 'grpc', 'rpc.service': ECHO_SERVICE, 'rpc.method': UNARY, outcome, reason });
    assert.equal(decisions('admitted', 'OK'), 2);
    assert.equal(decisions('refused', 'TOKEN_MISSING'), 1);
    assert.equal(decisions('refused', 'TOKEN_EXPIRED'), 1);
    assert.equal(decisions('refused', 'SIGNATURE_INVALID'), 1);
    assert.equal(collected.get(METRIC_NAMES.decisions)?.descriptor.unit, '{call}');

    const histogram = collected.get(METRIC_NAMES.verificationDuration);
    assert.equal(histogram?.descriptor.unit, 's');
    const count = (cache: string) => (valueWhere(collected, METRIC_NAMES.verificationDuration, { cache }) as { count: number } | undefined)?.count;
    assert.equal(count('hit'), 1, 'the second call with the token');
    assert.equal(count('miss'), 3, 'the first call, the expired and the forged token (the missing token never reached verification)');
  });

  it('a deny rule → refused ACCESS_DENIED, counted under its own method', async () => {
    const token = await idp.sign({ sub: 'alice' });
    tokens.push(token);
    const call = echo.client.bidi(bearer(Metadata, token));
    const code = await new Promise<number>((resolve) => {
      call.on('error', (error: grpc.ServiceError) => resolve(error.code));
      call.on('data', () => undefined);
      call.end();
    });
    assert.equal(code, status.PERMISSION_DENIED);
    const collected = await otelMetrics.collect();
    const method = METHODS.bidi.slice(METHODS.bidi.lastIndexOf('/') + 1);
    assert.equal(valueWhere(collected, METRIC_NAMES.decisions, { 'rpc.method': method, outcome: 'refused', reason: 'ACCESS_DENIED' }), 1);
  });

  it('spans: one grpc_jwt_auth.authenticate per call, with outcome, reason, cache hit, kid and alg of a genuine token, a child of the client trace; no subject by default', async () => {
    const token = await idp.sign({ sub: 'carol' });
    tokens.push(token);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const metadata = bearer(Metadata, token);
    metadata.set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`);
    const before = traces.spans().length;
    assert.equal((await unary(echo.client, metadata)).code, status.OK);
    const expired = await idp.expiredToken({ sub: 'dave' });
    tokens.push(expired);
    assert.equal((await unary(echo.client, bearer(Metadata, expired))).code, status.UNAUTHENTICATED);
    const [admitted, refused] = traces.spans().slice(before);
    assert.ok(admitted && refused, 'two spans');
    assert.equal(admitted.name, 'grpc_jwt_auth.authenticate');
    assert.equal(admitted.spanContext().traceId, traceId, "the client's trace");
    assert.deepEqual(
      { ...admitted.attributes },
      {
        'rpc.system': 'grpc',
        'rpc.service': ECHO_SERVICE,
        'rpc.method': UNARY,
        'grpc_jwt_auth.outcome': 'admitted',
        'grpc_jwt_auth.reason': 'OK',
        'grpc_jwt_auth.cache_hit': false,
        'grpc_jwt_auth.kid': 'signing-2026',
        'grpc_jwt_auth.alg': 'ES256',
      },
    );
    assert.equal(refused.attributes['grpc_jwt_auth.outcome'], 'refused');
    assert.equal(refused.attributes['grpc_jwt_auth.reason'], 'TOKEN_EXPIRED');
    assert.equal(refused.attributes['error.type'], 'TOKEN_EXPIRED');
    assert.equal(refused.attributes['grpc_jwt_auth.kid'], 'signing-2026', 'genuine: its signature verified before the expiry refused it');
    assert.equal(refused.status.code, 2, 'SpanStatusCode.ERROR');
    assert.equal(refused.attributes['enduser.id'], undefined);
  });

  it('spans: a tampered token → no kid or alg from its header, though it names a real key (nothing a forger wrote)', async () => {
    const forged = await idp.tamperedToken({ sub: 'mallory' });
    tokens.push(forged);
    const before = traces.spans().length;
    assert.equal((await unary(echo.client, bearer(Metadata, forged))).code, status.UNAUTHENTICATED);
    const [span] = traces.spans().slice(before);
    assert.equal(span?.attributes['grpc_jwt_auth.outcome'], 'refused');
    assert.equal(span?.attributes['grpc_jwt_auth.kid'], undefined);
    assert.equal(span?.attributes['grpc_jwt_auth.alg'], undefined);
    assert.equal(span?.attributes['grpc_jwt_auth.reason'], 'SIGNATURE_INVALID');
  });
});

describe('telemetry: recordSubject', () => {
  it('recordSubject: true → enduser.id on the span; never on metrics', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    const otelMetrics = inMemoryMetrics();
    const traces = inMemoryTraces();
    await withAuthServer(
      {
        keys: idp.keys,
        algorithms: ['ES256'],
        audience: 'echo-api',
        telemetry: { meterProvider: otelMetrics.meterProvider, tracerProvider: traces.tracerProvider, recordSubject: true },
      },
      async (echo) => {
        assert.equal((await unary(echo.client, bearer(Metadata, await idp.sign({ sub: 'erin' })))).code, status.OK);
        assert.equal(traces.spans()[0]?.attributes['enduser.id'], 'erin');
        assert.equal(exported(await otelMetrics.collectRaw()).includes('erin'), false);
      },
    );
  });
});

describe('telemetry: streams', () => {
  it('a stream ended by its token expiring → one decision (admitted), not a second one; its span ended at admission', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    const otelMetrics = inMemoryMetrics();
    const traces = inMemoryTraces();
    await withAuthServer(
      {
        keys: idp.keys,
        algorithms: ['ES256'],
        audience: 'echo-api',
        clockTolerance: 0,
        telemetry: { meterProvider: otelMetrics.meterProvider, tracerProvider: traces.tracerProvider },
      },
      async (echo) => {
        const outcome = await serverStream(echo.client, bearer(Metadata, await idp.sign({ sub: 'streamer' }, { expiresIn: 1 })), 'hold');
        assert.equal(outcome.code, status.UNAUTHENTICATED, 'ended by the expiry');
        const collected = await otelMetrics.collect();
        const method = METHODS.serverStream.slice(METHODS.serverStream.lastIndexOf('/') + 1);
        assert.equal(valueWhere(collected, METRIC_NAMES.decisions, { 'rpc.method': method, outcome: 'admitted' }), 1);
        assert.equal(valueWhere(collected, METRIC_NAMES.decisions, { 'rpc.method': method, outcome: 'refused' }), undefined);
        assert.deepEqual(
          traces.spans().map((span) => span.attributes['grpc_jwt_auth.outcome']),
          ['admitted'],
        );
      },
    );
  });
});

describe('telemetry: key sets', () => {
  let provider: FakeProvider;
  let idp: TestIssuer;
  before(async () => {
    provider = await startFakeProvider();
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
  });
  after(() => provider.close());

  it('key fetches counted by document, trigger and outcome; the state gauge goes fresh → stale when the provider fails past cacheMaxAge', async () => {
    provider.on(
      '/jwks.json',
      json(() => idp.jwks),
    );
    const clock = manualClock();
    const otelMetrics = inMemoryMetrics();
    const auth = createAuthInterceptor({
      keys: fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, cacheMaxAge: 60, staleIfError: 600 }),
      algorithms: ['ES256'],
      issuer: 'https://issuer.test',
      telemetry: { meterProvider: otelMetrics.meterProvider },
    });
    try {
      await auth.ready();
      let collected = await otelMetrics.collect();
      assert.equal(valueWhere(collected, METRIC_NAMES.keyFetches, { document: 'jwks', trigger: 'initial', outcome: 'success' }), 1);
      assert.equal(valueWhere(collected, METRIC_NAMES.keyState, { issuer: 'https://issuer.test', state: 'fresh' }), 1);
      assert.equal(valueWhere(collected, METRIC_NAMES.keyState, { issuer: 'https://issuer.test', state: 'stale' }), 0);
      const age = valueWhere(collected, METRIC_NAMES.keyAge, { issuer: 'https://issuer.test' });
      assert.ok(typeof age === 'number' && age >= 0, `age ${String(age)}`);
      assert.equal(collected.get(METRIC_NAMES.keyAge)?.descriptor.unit, 's');

      provider.on('/jwks.json', httpStatus(503));
      clock.advance(61_000);
      // A call now finds the keys past their age: a refresh runs, fails, and the held keys go on serving.
      const echo = await startEchoServer({ interceptors: [auth] });
      try {
        const token = await idp.sign({ sub: 'frank' });
        await unary(echo.client, bearer(Metadata, token));
      } finally {
        await echo.close();
      }
      await waitFor(async () => valueWhere(await otelMetrics.collect(), METRIC_NAMES.keyFetches, { document: 'jwks', outcome: 'failure' }) !== undefined);
      collected = await otelMetrics.collect();
      assert.ok(pointsOf(collected, METRIC_NAMES.keyFetches).some((point) => point.attributes.outcome === 'failure' && point.value === 1));
      assert.equal(valueWhere(collected, METRIC_NAMES.keyState, { issuer: 'https://issuer.test', state: 'stale' }), 1);
      assert.equal(valueWhere(collected, METRIC_NAMES.keyState, { issuer: 'https://issuer.test', state: 'fresh' }), 0);
    } finally {
      auth.close();
    }
  });
});

/** Polls until `condition` holds (bounded: fails after 5 s). */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail('condition not reached in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('telemetry: defaults and off', () => {
  it('default → off while no SDK is registered; then the global providers of @opentelemetry/api (registered before the interceptor); telemetry: false → nothing recorded', async () => {
    const idpKeys = fromJwks('https://idp.example/jwks.json');
    const noSdkYet = startTelemetry(undefined, [idpKeys], () => ({ serving: true, issuers: [], revocations: undefined }));
    assert.equal(noSdkYet, undefined, 'the api installed, no SDK registered: nothing to record, calls pay nothing');
    idpKeys.close();
    const otelMetrics = inMemoryMetrics();
    const traces = inMemoryTraces();
    metrics.setGlobalMeterProvider(otelMetrics.meterProvider);
    trace.setGlobalTracerProvider(traces.tracerProvider);
    const idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    const off = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], audience: 'echo-api', telemetry: false });
    const offServer = await startEchoServer({ interceptors: [off] });
    try {
      assert.equal((await unary(offServer.client, bearer(Metadata, await idp.sign()))).code, status.OK);
      assert.equal((await unary(offServer.client, new Metadata())).code, status.UNAUTHENTICATED);
      assert.equal((await otelMetrics.collect()).size, 0, 'no metric');
      assert.equal(traces.spans().length, 0, 'no span');
    } finally {
      await offServer.close();
      off.close();
    }
    const byDefault = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], audience: 'echo-api' });
    const server = await startEchoServer({ interceptors: [byDefault] });
    try {
      assert.equal((await unary(server.client, bearer(Metadata, await idp.sign()))).code, status.OK);
      assert.equal(valueWhere(await otelMetrics.collect(), METRIC_NAMES.decisions, { outcome: 'admitted' }), 1);
      assert.equal(traces.spans().length, 1);
    } finally {
      await server.close();
      byDefault.close();
      metrics.disable();
      trace.disable();
    }
  });

  it('a provider that throws → calls are still decided as without telemetry', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    const failing = {
      getTracer: () => ({
        startSpan: () => {
          throw new Error('tracer down');
        },
      }),
    };
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], audience: 'echo-api', telemetry: { tracerProvider: failing } });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      assert.equal((await unary(echo.client, bearer(Metadata, await idp.sign()))).code, status.OK);
      assert.equal((await unary(echo.client, new Metadata())).code, status.UNAUTHENTICATED);
    } finally {
      await echo.close();
      auth.close();
    }
  });

  it('bad shapes → AuthConfigError naming telemetry (or the field inside it)', () => {
    const base = { keys: fromJwks('https://idp.example/jwks.json'), algorithms: ['ES256'] as const };
    for (const [telemetry, option] of [
      [true, 'telemetry'],
      ['on', 'telemetry'],
      [{ meterProvider: {} }, 'telemetry.meterProvider'],
      [{ tracerProvider: { getTracer: 'x' } }, 'telemetry.tracerProvider'],
      [{ recordSubject: 'yes' }, 'telemetry.recordSubject'],
      [{ meter: {} }, 'telemetry.meter'],
    ] as const) {
      assert.throws(
        () => createAuthInterceptor({ ...base, telemetry: telemetry as never }),
        (error: unknown) => error instanceof AuthConfigError && error.option === option,
        String(option),
      );
    }
  });
});
