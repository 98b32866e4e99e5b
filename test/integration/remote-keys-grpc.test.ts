import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, fromIssuer, fromJwks, type AuthInterceptor, type KeyResolver } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { allKinds, bearer, type Outcome } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { json, startFakeProvider, status as httpStatus, type FakeProvider } from '../support/fake-provider.ts';
import { manualClock, type ManualClock } from '../support/remote-keys.ts';

const { status, Metadata } = grpc;
const meta = (token: string) => bearer(Metadata, token);
const JWKS = '/jwks.json';
const MINUTE = 60_000;

/** Runs `rounds` rounds of all four call kinds, each call with its own token (so none is served by the token cache). */
async function callEveryKind(echo: EchoServer, idp: TestIssuer, rounds: number): Promise<Outcome[]> {
  const tokens = await Promise.all(Array.from({ length: rounds }, (_, i) => idp.sign({ sub: `user-${i}-${Math.random()}` })));
  const results = await Promise.all(tokens.map((token) => allKinds(echo.client, () => meta(token))));
  return results.flatMap((kinds) => Object.values(kinds));
}

const statuses = (outcomes: readonly Outcome[]) => {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const name = `${status[outcome.code]}${outcome.reason ? ` ${outcome.reason}` : ''}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
};

interface Rig {
  readonly idp: TestIssuer;
  readonly provider: FakeProvider;
  readonly clock: ManualClock;
  readonly auth: AuthInterceptor;
  readonly echo: EchoServer;
  close(): Promise<void>;
}

async function rig(keysFor: (provider: FakeProvider, clock: ManualClock) => KeyResolver): Promise<Rig> {
  const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
  const provider = await startFakeProvider();
  provider.on(
    JWKS,
    json(() => idp.jwks, { 'cache-control': 'max-age=300' }),
  );
  const clock = manualClock();
  const auth = createAuthInterceptor({ keys: keysFor(provider, clock), algorithms: ['ES256'], issuer: idp.issuer, audience: idp.audience });
  const echo = await startEchoServer({ interceptors: [auth] });
  return {
    idp,
    provider,
    clock,
    auth,
    echo,
    async close() {
      auth.close();
      await echo.close();
      await provider.close();
    },
  };
}

const jwksAt = (provider: FakeProvider, clock: ManualClock) => fromJwks(`${provider.url}${JWKS}`, { clock: clock.now, staleIfError: 30 * 60 });

describe('remote keys over gRPC', () => {
  it('cold start through discovery: 200 calls of every kind, distinct tokens → 1 discovery + 1 JWKS request, all OK', async (t) => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const served = await idp.serve();
    const auth = createAuthInterceptor({ keys: fromIssuer(served.url), algorithms: ['ES256'], issuer: served.url, audience: idp.audience });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const outcomes = await callEveryKind(echo, idp, 50);
      assert.deepEqual(statuses(outcomes), { OK: 200 });
      assert.equal(served.requestCount('/.well-known/openid-configuration'), 1);
      assert.equal(served.requestCount('/jwks.json'), 1);
      t.diagnostic(
        `FIGURE gRPC cold start: 200 calls → ${served.requestCount('/.well-known/openid-configuration')} discovery + ${served.requestCount('/jwks.json')} JWKS request(s)`,
      );
    } finally {
      auth.close();
      await echo.close();
      await served.close();
    }
  });

  it('provider down at start-up → UNAVAILABLE KEYS_UNAVAILABLE on every kind, no handler runs; recovers', async () => {
    const r = await rig(jwksAt);
    try {
      r.provider.on(JWKS, httpStatus(503));
      await assert.rejects(r.auth.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      assert.deepEqual(statuses(await callEveryKind(r.echo, r.idp, 10)), { 'UNAVAILABLE KEYS_UNAVAILABLE': 40 });
      assert.deepEqual(r.echo.runs, { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 });
      assert.equal(r.provider.count(JWKS), 1);
      r.provider.on(
        JWKS,
        json(() => r.idp.jwks),
      );
      r.clock.advance(1000);
      assert.deepEqual(statuses(await callEveryKind(r.echo, r.idp, 10)), { OK: 40 });
    } finally {
      await r.close();
    }
  });

  it('rotation with the new kid in tokens before the refresh → 1 refetch, 0 failed calls', async (t) => {
    const r = await rig(jwksAt);
    try {
      await r.auth.ready();
      const oldTokens = await callEveryKind(r.echo, r.idp, 10);
      r.clock.advance(31_000);
      await r.idp.rotate();
      const newTokens = await callEveryKind(r.echo, r.idp, 25);
      assert.deepEqual(statuses([...oldTokens, ...newTokens]), { OK: 140 });
      assert.equal(r.provider.count(JWKS), 2);
      t.diagnostic(`FIGURE gRPC rotation: 140 calls across the rotation → ${r.provider.count(JWKS) - 1} refetch, 0 failed`);
    } finally {
      await r.close();
    }
  });

  it('outage inside the stale bound → 0 failed calls; past it → UNAVAILABLE, even for tokens verified before', async (t) => {
    const r = await rig(jwksAt);
    try {
      await r.auth.ready();
      const seen = await r.idp.sign({ sub: 'seen-before' });
      assert.deepEqual(statuses(Object.values(await allKinds(r.echo.client, () => meta(seen)))), { OK: 4 });
      r.provider.on(JWKS, httpStatus(500));
      r.clock.advance(6 * MINUTE); // expired; 5 min + 30 min stale bound
      const inside = await callEveryKind(r.echo, r.idp, 25);
      r.clock.advance(20 * MINUTE);
      inside.push(...(await callEveryKind(r.echo, r.idp, 25)));
      assert.deepEqual(statuses(inside), { OK: 200 });
      r.clock.advance(10 * MINUTE); // 36 min: past the bound
      const runs = { ...r.echo.runs };
      const past = [...(await callEveryKind(r.echo, r.idp, 5)), ...Object.values(await allKinds(r.echo.client, () => meta(seen)))];
      assert.deepEqual(statuses(past), { 'UNAVAILABLE KEYS_UNAVAILABLE': 24 });
      assert.deepEqual(r.echo.runs, runs);
      t.diagnostic(`FIGURE gRPC outage: 200 calls inside the stale bound → 0 failed; ${r.provider.count(JWKS) - 1} JWKS requests during the outage`);
    } finally {
      await r.close();
    }
  });
});
