/**
 * The per-call `Observation` (src/server/call-authorization.ts), over real gRPC for all four call
 * kinds: with events and telemetry on, each call fires exactly one event and one span and one decision
 * count, with the right cacheHit and outcome (a fresh token's first call a miss, the next a hit, even
 * across kinds); hooks and a telemetry provider that throw on every call never change a call's status.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { METRIC_NAMES, type AuthenticatedEvent, type RejectedEvent } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, bidi, clientStream, serverStream, unary, type Outcome } from '../support/calls.ts';
import { withAuthServer, type EchoServer } from '../support/echo-server.ts';
import { inMemoryMetrics, inMemoryTraces, pointsOf } from '../support/telemetry-sdk.ts';

const { status, Metadata } = grpc;
const KINDS: Record<string, (client: EchoServer['client'], metadata: grpc.Metadata) => Promise<Outcome>> = { unary, serverStream, clientStream, bidi };

function thrower(what: string): () => never {
  return () => {
    throw new Error(`${what} down`);
  };
}

describe('call observation: one event, span and decision per call, for every call kind', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
  });

  it('each kind: fresh → cacheHit false, repeated → true, refused → one rejection; counts match the calls exactly', async () => {
    const admitted: AuthenticatedEvent[] = [];
    const rejected: RejectedEvent[] = [];
    const metrics = inMemoryMetrics();
    const traces = inMemoryTraces();
    await withAuthServer(
      {
        keys: idp.keys,
        algorithms: ['ES256'],
        audience: 'echo-api',
        onAuthenticated: (event) => admitted.push(event),
        onRejected: (event) => rejected.push(event),
        telemetry: { meterProvider: metrics.meterProvider, tracerProvider: traces.tracerProvider },
      },
      async (echo) => {
        let calls = 0;
        for (const [kind, call] of Object.entries(KINDS)) {
          const token = await idp.sign({ sub: `user-${kind}` });
          for (const expected of [false, true, true]) {
            assert.equal((await call(echo.client, bearer(Metadata, token))).code, status.OK, kind);
            calls += 1;
            assert.equal(admitted.length, calls, `${kind}: one event per call`);
            assert.equal(admitted.at(-1)?.cacheHit, expected, `${kind}: cacheHit`);
            assert.equal(admitted.at(-1)?.subject, `user-${kind}`);
          }
          const before = rejected.length;
          assert.equal((await call(echo.client, bearer(Metadata, await idp.expiredToken()))).code, status.UNAUTHENTICATED, kind);
          assert.equal(rejected.length, before + 1, `${kind}: one rejection`);
          assert.equal(rejected.at(-1)?.error.code, 'ERR_AUTH_TOKEN_EXPIRED');
        }
        // The same token on another kind: the cache answers whichever kind stored it.
        const shared = await idp.sign({ sub: 'shared' });
        assert.equal((await unary(echo.client, bearer(Metadata, shared))).code, status.OK);
        assert.equal((await bidi(echo.client, bearer(Metadata, shared))).code, status.OK);
        assert.deepEqual(
          admitted.slice(-2).map((event) => event.cacheHit),
          [false, true],
        );
        const decided = pointsOf(await metrics.collect(), METRIC_NAMES.decisions).reduce((sum, point) => sum + (point.value as number), 0);
        assert.equal(decided, admitted.length + rejected.length, 'one decision count per call');
        const spans = traces.spans();
        assert.equal(spans.length, admitted.length + rejected.length, 'one span per call');
        const hits = spans.filter((span) => span.attributes['grpc_jwt_auth.cache_hit'] === true).length;
        assert.equal(hits, admitted.filter((event) => event.cacheHit === true).length);
      },
    );
  });

  it('hooks and every telemetry method throwing on each call → every kind admitted and refused as without them', async () => {
    const failingSpan = {
      isRecording: () => true,
      setAttributes: thrower('setAttributes'),
      setAttribute: thrower('setAttribute'),
      setStatus: thrower('setStatus'),
      end: thrower('end'),
    };
    const { meterProvider: real } = inMemoryMetrics();
    const meterProvider = {
      getMeter(name: string) {
        const meter = real.getMeter(name);
        return Object.assign(Object.create(Object.getPrototypeOf(meter) as object) as object, meter, {
          createCounter: () => ({ add: thrower('add') }),
          createHistogram: () => ({ record: thrower('record') }),
        });
      },
    };
    await withAuthServer(
      {
        keys: idp.keys,
        algorithms: ['ES256'],
        audience: 'echo-api',
        onAuthenticated: thrower('onAuthenticated'),
        onRejected: thrower('onRejected'),
        telemetry: { meterProvider, tracerProvider: { getTracer: () => ({ startSpan: () => failingSpan }) } } as never,
      },
      async (echo) => {
        for (const [kind, call] of Object.entries(KINDS)) {
          const token = await idp.sign({ sub: kind });
          assert.equal((await call(echo.client, bearer(Metadata, token))).code, status.OK, `${kind} fresh`);
          assert.equal((await call(echo.client, bearer(Metadata, token))).code, status.OK, `${kind} cached`);
          assert.equal((await call(echo.client, new Metadata())).code, status.UNAUTHENTICATED, `${kind} no token`);
          assert.equal((await call(echo.client, bearer(Metadata, `${token.slice(0, -4)}AAAA`))).code, status.UNAUTHENTICATED, `${kind} forged`);
        }
        assert.deepEqual(echo.runs, { unary: 2, serverStream: 2, clientStream: 2, bidi: 2, ...pickOthers(echo.runs) });
      },
    );
  });
});

/** The handler counters of methods these tests never call, as they are. */
function pickOthers(runs: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(runs).filter(([name]) => !(name in KINDS)));
}
