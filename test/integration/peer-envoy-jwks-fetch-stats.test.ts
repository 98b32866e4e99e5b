/**
 * Ported from Envoy's jwt_authn `jwks_async_fetcher_test.cc` (envoyproxy/envoy): its
 * `jwks_fetch_success` / `jwks_fetch_failed` counters must count fetches exactly: none for local keys,
 * one success for a good fetch, one failure for a network failure, two of each after a refresh. Here the
 * counters are what metrics build on (`fetched` and `failed` key events, `keys.status()`), and the
 * provider is a real loopback server whose request count is the ground truth: every request is exactly
 * one event, whatever the number of calls waiting on it. Our own tests, written from the cases' intent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, fromJwks, type RemoteKeyResolver, type RemoteKeysEvent } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { json, startFakeProvider, type FakeProvider, type Reply } from '../support/fake-provider.ts';
import { manualClock, tally, until, type ManualClock } from '../support/remote-keys.ts';

const PATH = '/jwks.json';
const MAX_AGE = 600; // seconds

/** A network failure: the connection is dropped before any response. */
const dropConnection: Reply = (request) => request.socket.destroy();

interface Counted {
  readonly provider: FakeProvider;
  readonly clock: ManualClock;
  readonly keys: RemoteKeyResolver;
  readonly idp: TestIssuer;
  /** fetched and failed events of the key set so far. */
  stats(): { success: number; failed: number; requests: number };
  close(): Promise<void>;
}

async function counted(reply: 'good' | Reply): Promise<Counted> {
  const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
  const provider = await startFakeProvider();
  const good = json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` });
  provider.on(PATH, reply === 'good' ? good : reply);
  // A frozen clock: no retry or refresh becomes due unless the test moves it, so the counts are exact.
  const clock = manualClock();
  const events: RemoteKeysEvent[] = [];
  const keys = fromJwks(`${provider.url}${PATH}`, { clock: clock.now });
  keys.subscribe((event) => events.push(event));
  return {
    provider,
    clock,
    keys,
    idp,
    stats: () => ({
      success: events.filter((event) => event.type === 'fetched').length,
      failed: events.filter((event) => event.type === 'failed').length,
      requests: provider.count(PATH),
    }),
    close: async () => {
      keys.close();
      await provider.close();
    },
  };
}

describe('peer: Envoy jwt_authn JwksAsyncFetcher stats, as key events over a real provider', () => {
  it('TestNotAsyncFetch: keys given in the configuration → no fetch, no event', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const keys = fromJwks(idp.jwks);
    const events: RemoteKeysEvent[] = [];
    keys.subscribe?.((event) => events.push(event));
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'] });
    await authenticator.ready();
    assert.equal(await tally(authenticator, [await idp.sign()]).then((counts) => counts.OK), 1);
    assert.deepEqual(events, []);
    assert.equal(keys.status?.().state, 'static');
  });

  it('TestGoodFetch: one good fetch → success 1, failed 0, one request', async () => {
    const run = await counted('good');
    try {
      await run.keys.ready();
      assert.deepEqual(run.stats(), { success: 1, failed: 0, requests: 1 });
      assert.equal(run.keys.status().state, 'fresh');
    } finally {
      await run.close();
    }
  });

  it('TestNetworkFailureFetch: the connection dropped → success 0, failed 1; the status names the failure', async () => {
    const run = await counted(dropConnection);
    try {
      await assert.rejects(run.keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      assert.deepEqual(run.stats(), { success: 0, failed: 1, requests: 1 });
      assert.equal(run.keys.status().state, 'empty');
      assert.match(run.keys.status().lastError ?? '', /jwks\.json: /);
    } finally {
      await run.close();
    }
  });

  it('TestGoodFetchAndRefresh: a good fetch, then the refresh when the keys are due → success 2, failed 0', async () => {
    const run = await counted('good');
    try {
      await run.keys.ready();
      run.clock.advance(MAX_AGE * 1000);
      await run.keys.ready(); // due keys still answer, and start the refresh
      await until(() => run.stats().success === 2);
      assert.deepEqual(run.stats(), { success: 2, failed: 0, requests: 2 });
    } finally {
      await run.close();
    }
  });

  it('TestNetworkFailureFetchAndRefresh: a failure, then the retry fails too → success 0, failed 2', async () => {
    const run = await counted(dropConnection);
    try {
      await assert.rejects(run.keys.ready());
      const retryAt = run.keys.status().nextRetry?.getTime() ?? Number.NaN;
      run.clock.advance(retryAt - run.clock.now());
      await assert.rejects(run.keys.ready());
      assert.deepEqual(run.stats(), { success: 0, failed: 2, requests: 2 });
    } finally {
      await run.close();
    }
  });

  it('200 concurrent calls on a cold cache while the provider drops connections → one request, one failed event, 200 refusals', async () => {
    const run = await counted(dropConnection);
    try {
      const authenticator = createAuthenticator({ keys: run.keys, algorithms: ['ES256'] });
      const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => run.idp.sign({ sub: `user-${i}` })));
      assert.deepEqual(await tally(authenticator, tokens), { ERR_AUTH_KEYS_UNAVAILABLE: 200 });
      assert.deepEqual(run.stats(), { success: 0, failed: 1, requests: 1 });
    } finally {
      await run.close();
    }
  });
});
