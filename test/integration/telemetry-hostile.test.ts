/**
 * The independent review of the telemetry: hostile and broken providers, hostile trace context, paths
 * a client invents, the histogram's unit, and many interceptors created and closed on one resolver.
 * Real gRPC calls, the real OpenTelemetry SDK in memory.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { propagation, type TextMapPropagator } from '@opentelemetry/api';
import { AuthConfigError, METRIC_NAMES, createAuthInterceptor, fromJwks, type KeyResolver } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, unary } from '../support/calls.ts';
import { startEchoServer, withAuthServer } from '../support/echo-server.ts';
import { delayed, json, startFakeProvider, type FakeProvider } from '../support/fake-provider.ts';
import { manualClock, withHeader } from '../support/remote-keys.ts';
import { inMemoryMetrics, inMemoryTraces, pointsOf, valueWhere } from '../support/telemetry-sdk.ts';

const { status, Metadata } = grpc;

/** A resolver of one's own around `keys` that counts the subscriptions still open. */
function countingSubscriptions(keys: KeyResolver): { keys: KeyResolver; open: () => number } {
  let open = 0;
  const wrapper: KeyResolver = {
    kind: keys.kind,
    description: keys.description,
    checkAlgorithms: (algorithms, option) => keys.checkAlgorithms(algorithms, option),
    getKeys: (lookup) => keys.getKeys(lookup),
    holds: (key) => keys.holds(key),
    status: () => keys.status?.() as ReturnType<NonNullable<KeyResolver['status']>>,
    subscribe(listener) {
      open += 1;
      const unsubscribe = keys.subscribe?.(listener);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        open -= 1;
        unsubscribe?.();
      };
    },
  };
  return { keys: wrapper, open: () => open };
}

function thrower(what: string): () => never {
  return () => {
    throw new Error(`${what} down`);
  };
}

/** A meter whose instruments are real ones of the SDK, but with one method replaced. */
function meterProviderWith(overrides: Record<string, unknown>): { getMeter(name: string): unknown } {
  const { meterProvider } = inMemoryMetrics();
  return {
    getMeter(name: string) {
      const meter = meterProvider.getMeter(name);
      return Object.assign(Object.create(Object.getPrototypeOf(meter) as object) as object, meter, overrides);
    },
  };
}

describe('telemetry review: providers that fail or return junk when the interceptor is created', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['getMeter throws', { meterProvider: { getMeter: thrower('getMeter') } }, 'telemetry.meterProvider'],
    ['getMeter returns undefined', { meterProvider: { getMeter: () => undefined } }, 'telemetry.meterProvider'],
    ['getMeter returns null', { meterProvider: { getMeter: () => null } }, 'telemetry.meterProvider'],
    ['getMeter returns a number', { meterProvider: { getMeter: () => 42 } }, 'telemetry.meterProvider'],
    ['getMeter returns an object without createCounter', { meterProvider: { getMeter: () => ({}) } }, 'telemetry.meterProvider'],
    ['createCounter throws', { meterProvider: meterProviderWith({ createCounter: thrower('createCounter') }) }, 'telemetry.meterProvider'],
    ['createObservableGauge throws', { meterProvider: meterProviderWith({ createObservableGauge: thrower('gauge') }) }, 'telemetry.meterProvider'],
    ['addBatchObservableCallback throws', { meterProvider: meterProviderWith({ addBatchObservableCallback: thrower('callback') }) }, 'telemetry.meterProvider'],
    ['getTracer throws', { tracerProvider: { getTracer: thrower('getTracer') } }, 'telemetry.tracerProvider'],
    ['getTracer returns undefined', { tracerProvider: { getTracer: () => undefined } }, 'telemetry.tracerProvider'],
    ['getTracer returns null', { tracerProvider: { getTracer: () => null } }, 'telemetry.tracerProvider'],
    ['getTracer returns an object without startSpan', { tracerProvider: { getTracer: () => ({}) } }, 'telemetry.tracerProvider'],
  ];
  for (const [name, telemetry, option] of cases) {
    it(`${name} → AuthConfigError naming ${option} at creation (not a TypeError, not at the first call); no subscription left on the keys`, () => {
      const counted = countingSubscriptions(idp.keys);
      assert.throws(
        () => createAuthInterceptor({ keys: counted.keys, algorithms: ['ES256'], audience: 'echo-api', telemetry: telemetry as never }),
        (error: unknown) => error instanceof AuthConfigError && error.option === option,
      );
      assert.equal(counted.open(), 0, 'a failed creation leaves no listener on the resolver');
    });
  }
});

describe('telemetry review: providers that fail during calls', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
  });

  it('every instrument and span method throws on each call → calls admitted and refused exactly as without telemetry', async () => {
    const failingSpan = {
      isRecording: () => true,
      setAttributes: thrower('setAttributes'),
      setAttribute: thrower('setAttribute'),
      setStatus: thrower('setStatus'),
      end: thrower('end'),
    };
    const meterProvider = meterProviderWith({
      createCounter: () => ({ add: thrower('add') }),
      createHistogram: () => ({ record: thrower('record') }),
    });
    await withAuthServer(
      {
        keys: idp.keys,
        algorithms: ['ES256'],
        audience: 'echo-api',
        telemetry: { meterProvider, tracerProvider: { getTracer: () => ({ startSpan: () => failingSpan }) } },
      },
      async (echo) => {
        const token = await idp.sign({ sub: 'alice' });
        assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.OK);
        assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.OK, 'cached');
        assert.equal((await unary(echo.client, new Metadata())).code, status.UNAUTHENTICATED);
        assert.equal((await unary(echo.client, bearer(Metadata, await idp.expiredToken()))).code, status.UNAUTHENTICATED);
        assert.equal(echo.runs.unary, 2);
      },
    );
  });

  it('a propagator whose extract throws, or a hostile traceparent (malformed, 4 KiB, 50 tracestate values) → the call decided as ever, its span recorded as a root', async () => {
    const traces = inMemoryTraces();
    const throwing: TextMapPropagator = { inject: () => undefined, extract: thrower('extract'), fields: () => ['traceparent'] };
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], audience: 'echo-api', telemetry: { tracerProvider: traces.tracerProvider } });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const token = await idp.sign({ sub: 'alice' });
      propagation.setGlobalPropagator(throwing);
      assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.OK);
      assert.equal((await unary(echo.client, new Metadata())).code, status.UNAUTHENTICATED);
      propagation.disable();
      const hostile = bearer(Metadata, token);
      hostile.set('traceparent', `00-${'f'.repeat(4096)}`);
      for (let i = 0; i < 50; i += 1) hostile.add('tracestate', `k${i}=${'v'.repeat(20)}`);
      hostile.set('traceparent-bin', Buffer.from('not a trace'));
      assert.equal((await unary(echo.client, hostile)).code, status.OK);
      const outcomes = traces.spans().map((span) => span.attributes['grpc_jwt_auth.outcome']);
      assert.deepEqual(outcomes, ['admitted', 'refused', 'admitted'], 'a propagator that throws loses the parent, not the span');
      assert.equal(new Set(traces.spans().map((span) => span.spanContext().traceId)).size, 3, 'each a root of its own');
      assert.equal(echo.runs.unary, 2);
    } finally {
      propagation.disable();
      await echo.close();
      auth.close();
    }
  });
});

describe('telemetry review: what a forger writes never reaches telemetry', () => {
  it("forged headers (alg none, a kid with controls and bidi marks, a huge kid, a kid naming the real key) with recordSubject on → spans carry no kid, alg or subject; reasons from the fixed list; the forger's text nowhere in spans or metrics", async () => {
    const idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api', kid: 'real-key' });
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
        const genuine = await idp.sign({ sub: 'forger-subject-xyz' });
        const marker = 'forger-marker';
        const forged = [
          withHeader(genuine, { alg: 'none', kid: `${marker}-none` }),
          withHeader(genuine, { alg: 'ES256', kid: `${marker}\u0000\n\u202e-controls` }),
          withHeader(genuine, { alg: 'ES256', kid: `${marker}-${'k'.repeat(2000)}` }),
          withHeader(genuine, { alg: 'HS256', kid: 'real-key' }),
          withHeader(genuine, { alg: 'ES256', kid: 'real-key', extra: marker }),
        ];
        for (const token of forged) assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.UNAUTHENTICATED);
        const spans = traces.spans();
        assert.equal(spans.length, forged.length);
        for (const span of spans) {
          assert.equal(span.attributes['grpc_jwt_auth.outcome'], 'refused');
          assert.equal(span.attributes['grpc_jwt_auth.kid'], undefined);
          assert.equal(span.attributes['grpc_jwt_auth.alg'], undefined);
          assert.equal(span.attributes['enduser.id'], undefined);
          assert.match(String(span.attributes['grpc_jwt_auth.reason']), /^[A-Z_]+$/);
        }
        const everything =
          JSON.stringify(spans.map(({ attributes, events, status: spanStatus, name }) => ({ attributes, events, spanStatus, name }))) +
          JSON.stringify(await otelMetrics.collectRaw());
        for (const text of [marker, 'forger-subject-xyz', 'real-key']) assert.equal(everything.includes(text), false, text);
      },
    );
  });
});

describe('telemetry review: series a client can make', () => {
  it('calls to 200 paths the server never registered → UNIMPLEMENTED, and not one decision series (grpc-js runs no interceptor for them)', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    const otelMetrics = inMemoryMetrics();
    await withAuthServer(
      {
        keys: idp.keys,
        algorithms: ['ES256'],
        audience: 'echo-api',
        telemetry: { meterProvider: otelMetrics.meterProvider },
      },
      async (echo) => {
        const token = await idp.sign();
        const codes = new Set<number>();
        for (let i = 0; i < 200; i += 1) {
          codes.add(
            await new Promise<number>((resolve) => {
              echo.client.makeUnaryRequest(
                `/invented.Service${i}/Method${i}`,
                (value: Buffer) => value,
                (value: Buffer) => value,
                Buffer.alloc(0),
                bearer(Metadata, token),
                (error: grpc.ServiceError | null) => resolve(error?.code ?? status.OK),
              );
            }),
          );
        }
        assert.deepEqual([...codes], [status.UNIMPLEMENTED]);
        assert.equal(pointsOf(await otelMetrics.collect(), METRIC_NAMES.decisions).length, 0);
      },
    );
  });
});

describe('telemetry review: units and lifecycles', () => {
  let provider: FakeProvider;
  let idp: TestIssuer;
  before(async () => {
    provider = await startFakeProvider();
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
  });
  after(() => provider.close());

  it('verification.duration is in seconds: a key fetch that takes 300 ms records ≥ 0.3 (not 300), a cache hit < 0.3', async () => {
    provider.on(
      '/slow-jwks.json',
      delayed(
        300,
        json(() => idp.jwks),
      ),
    );
    const otelMetrics = inMemoryMetrics();
    await withAuthServer(
      {
        keys: fromJwks(`${provider.url}/slow-jwks.json`),
        algorithms: ['ES256'],
        audience: 'echo-api',
        telemetry: { meterProvider: otelMetrics.meterProvider },
      },
      async (echo) => {
        const token = await idp.sign();
        assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.OK);
        assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.OK);
        const collected = await otelMetrics.collect();
        const miss = valueWhere(collected, METRIC_NAMES.verificationDuration, { cache: 'miss' }) as { sum: number; count: number };
        const hit = valueWhere(collected, METRIC_NAMES.verificationDuration, { cache: 'hit' }) as { sum: number; count: number };
        assert.equal(miss.count, 1);
        assert.ok(miss.sum >= 0.3 && miss.sum < 10, `miss ${miss.sum}`);
        assert.equal(hit.count, 1);
        assert.ok(hit.sum < 0.3, `hit ${hit.sum}`);
      },
    );
  });

  it('keys.age reads the clock that says the keys are stale: one manual clock, advanced 90 s past a fetch → age 90 and state stale (not age 0 from the wall clock)', async () => {
    provider.on(
      '/jwks.json',
      json(() => idp.jwks),
    );
    const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'));
    const otelMetrics = inMemoryMetrics();
    const auth = createAuthInterceptor({
      keys: fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, cacheMaxAge: 60, staleIfError: 600 }),
      algorithms: ['ES256'],
      issuer: 'https://issuer.test',
      clock: clock.now,
      telemetry: { meterProvider: otelMetrics.meterProvider },
    });
    try {
      await auth.ready();
      clock.advance(90_000);
      const collected = await otelMetrics.collect();
      assert.equal(auth.status().issuers[0]?.state, 'stale');
      assert.equal(valueWhere(collected, METRIC_NAMES.keyState, { issuer: 'https://issuer.test', state: 'stale' }), 1);
      assert.equal(valueWhere(collected, METRIC_NAMES.keyAge, { issuer: 'https://issuer.test' }), 90);
    } finally {
      auth.close();
    }
  });

  it('two interceptors (two servers) sharing one resolver and one meter provider → each key fetch counted once, not once per interceptor', async () => {
    provider.on(
      '/shared-jwks.json',
      json(() => idp.jwks),
    );
    const otelMetrics = inMemoryMetrics();
    const keys = fromJwks(`${provider.url}/shared-jwks.json`);
    const options = { keys, algorithms: ['ES256'] as const, telemetry: { meterProvider: otelMetrics.meterProvider } };
    const first = createAuthInterceptor({ ...options, algorithms: ['ES256'] });
    const second = createAuthInterceptor({ ...options, algorithms: ['ES256'] });
    try {
      await Promise.all([first.ready(), second.ready()]);
      const fetched = (await otelMetrics.collect()).get(METRIC_NAMES.keyFetches)?.dataPoints.reduce((sum, point) => sum + (point.value as number), 0);
      assert.equal(fetched, 1, 'one fetch happened');
    } finally {
      second.close();
      first.close();
    }
  });

  it('200 interceptors created and closed on one resolver and one meter → no subscription left, no key gauge reported after close', async () => {
    const otelMetrics = inMemoryMetrics();
    const counted = countingSubscriptions(idp.keys);
    for (let i = 0; i < 200; i += 1) {
      const auth = createAuthInterceptor({
        keys: counted.keys,
        algorithms: ['ES256'],
        issuer: `https://issuer-${i}.test`,
        telemetry: { meterProvider: otelMetrics.meterProvider },
      });
      auth.close();
    }
    assert.equal(counted.open(), 0);
    const open = createAuthInterceptor({
      keys: counted.keys,
      algorithms: ['ES256'],
      issuer: 'https://open.test',
      telemetry: { meterProvider: otelMetrics.meterProvider },
    });
    try {
      const issuers = new Set(pointsOf(await otelMetrics.collect(), METRIC_NAMES.keyState).map((point) => point.attributes.issuer));
      assert.deepEqual([...issuers], ['https://open.test']);
    } finally {
      open.close();
    }
  });
});
