/**
 * Cases ported from go-grpc-middleware's Prometheus server interceptor suite
 * (grpc-ecosystem/go-grpc-middleware, providers/prometheus/server_test.go: every call kind counted once
 * under its service and method, a handler's own error status counted as that call's outcome, streaming
 * counted at its start), rewritten for our decision counter: each kind admitted and refused once, a
 * handler error after admission is an admitted call (the auth decision, not the handler's status), a
 * public method is no decision, and a call cancelled before its decision counts nothing, even when its
 * verification finishes later. Our own code over real gRPC and the OpenTelemetry SDK in memory.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { METRIC_NAMES, createAuthInterceptor, fromJwks } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { allKinds, bearer, unary } from '../support/calls.ts';
import { METHODS, echoImplementation, startEchoServer, withAuthServer } from '../support/echo-server.ts';
import { delayed, json, startFakeProvider, type FakeProvider } from '../support/fake-provider.ts';
import { inMemoryMetrics, inMemoryTraces, pointsOf, valueWhere } from '../support/telemetry-sdk.ts';

const { status, Metadata } = grpc;
const methodName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const serviceName = (path: string) => path.slice(1, path.lastIndexOf('/'));

describe('peer go-grpc-middleware prometheus server suite, ported to the decisions counter', () => {
  let idp: TestIssuer;
  let provider: FakeProvider;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    provider = await startFakeProvider();
  });
  after(() => provider.close());

  it('unary, server, client and bidi streams: each admitted once and refused once, under its own rpc.service and rpc.method; durations only for tokens', async () => {
    const otelMetrics = inMemoryMetrics();
    await withAuthServer(
      {
        keys: idp.keys,
        algorithms: ['ES256'],
        audience: 'echo-api',
        telemetry: { meterProvider: otelMetrics.meterProvider },
      },
      async (echo) => {
        const token = await idp.sign({ sub: 'alice' });
        const admitted = await allKinds(echo.client, () => bearer(Metadata, token));
        const refused = await allKinds(echo.client, () => new Metadata());
        for (const outcome of Object.values(admitted)) assert.equal(outcome.code, status.OK);
        for (const outcome of Object.values(refused)) assert.equal(outcome.code, status.UNAUTHENTICATED);
        const collected = await otelMetrics.collect();
        for (const path of [METHODS.unary, METHODS.serverStream, METHODS.clientStream, METHODS.bidi]) {
          const where = { 'rpc.service': serviceName(path), 'rpc.method': methodName(path) };
          assert.equal(valueWhere(collected, METRIC_NAMES.decisions, { ...where, outcome: 'admitted', reason: 'OK' }), 1, path);
          assert.equal(valueWhere(collected, METRIC_NAMES.decisions, { ...where, outcome: 'refused', reason: 'TOKEN_MISSING' }), 1, path);
        }
        assert.equal(pointsOf(collected, METRIC_NAMES.decisions).length, 8);
        const counts = pointsOf(collected, METRIC_NAMES.verificationDuration).reduce((sum, point) => sum + (point.value as { count: number }).count, 0);
        assert.equal(counts, 4, 'one duration per call that presented a token');
      },
    );
  });

  it('a handler that fails with FAILED_PRECONDITION after admission → one admitted decision, no refusal (the handler’s status is not ours)', async () => {
    const otelMetrics = inMemoryMetrics();
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      audience: 'echo-api',
      telemetry: { meterProvider: otelMetrics.meterProvider },
    });
    const echo = await startEchoServer({
      interceptors: [auth],
      implementation: (runs) => ({
        ...echoImplementation(runs),
        Unary(_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
          callback({ code: status.FAILED_PRECONDITION, details: 'not now' });
        },
      }),
    });
    try {
      assert.equal((await unary(echo.client, bearer(Metadata, await idp.sign()))).code, status.FAILED_PRECONDITION);
      const collected = await otelMetrics.collect();
      assert.equal(valueWhere(collected, METRIC_NAMES.decisions, { 'rpc.method': methodName(METHODS.unary), outcome: 'admitted' }), 1);
      assert.equal(valueWhere(collected, METRIC_NAMES.decisions, { outcome: 'refused' }), undefined);
    } finally {
      await echo.close();
      auth.close();
    }
  });

  it('a public method → no decision and no span', async () => {
    const otelMetrics = inMemoryMetrics();
    const traces = inMemoryTraces();
    await withAuthServer(
      {
        keys: idp.keys,
        algorithms: ['ES256'],
        audience: 'echo-api',
        rules: { [METHODS.ping]: 'public' },
        telemetry: { meterProvider: otelMetrics.meterProvider, tracerProvider: traces.tracerProvider },
      },
      async (echo) => {
        const code = await new Promise<number>((resolve) =>
          echo.publicClient.Ping({ text: 'x' }, new Metadata(), (error: grpc.ServiceError | null) => resolve(error?.code ?? status.OK)),
        );
        assert.equal(code, status.OK);
        assert.equal(pointsOf(await otelMetrics.collect(), METRIC_NAMES.decisions).length, 0);
        assert.equal(traces.spans().length, 0);
      },
    );
  });

  it('a call cancelled while its keys are fetched → no decision and no duration, not even once the fetch answers; its span ends without an outcome', async () => {
    provider.on(
      '/slow-jwks.json',
      delayed(
        500,
        json(() => idp.jwks),
      ),
    );
    const otelMetrics = inMemoryMetrics();
    const traces = inMemoryTraces();
    await withAuthServer(
      {
        keys: fromJwks(`${provider.url}/slow-jwks.json`),
        algorithms: ['ES256'],
        audience: 'echo-api',
        telemetry: { meterProvider: otelMetrics.meterProvider, tracerProvider: traces.tracerProvider },
      },
      async (echo, auth) => {
        const outcome = await unary(echo.client, bearer(Metadata, await idp.sign()), 'hi', { deadline: Date.now() + 100 });
        assert.equal(outcome.code, status.DEADLINE_EXCEEDED);
        await auth.ready(); // the fetch the cancelled call started has answered
        await new Promise((resolve) => setTimeout(resolve, 50));
        const collected = await otelMetrics.collect();
        assert.equal(pointsOf(collected, METRIC_NAMES.decisions).length, 0);
        assert.equal(pointsOf(collected, METRIC_NAMES.verificationDuration).length, 0);
        const spans = traces.spans();
        assert.equal(spans.length, 1);
        assert.equal(spans[0]?.attributes['grpc_jwt_auth.outcome'], undefined);
        assert.equal(echo.runs.unary, 0);
      },
    );
  });
});
