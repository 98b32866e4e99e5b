/**
 * A wall clock that steps back (an NTP correction, a VM resumed from a snapshot) while a remote key set
 * is failing or waiting out a cooldown: the waits were computed as instants of the old clock, and must
 * not grow by the size of the step. The step is injected with a manual clock; the provider is a real
 * loopback server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, fromJwks } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { json, startFakeProvider, status as httpStatus } from '../support/fake-provider.ts';
import { manualClock, outcome, until } from '../support/remote-keys.ts';

const HOUR = 3_600_000;

describe('remote keys: the clock steps back', () => {
  it('while the provider is down → the next retry is still within the retry bound, and keys are fetched once it is back', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const provider = await startFakeProvider();
    const clock = manualClock();
    const keys = fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, cooldown: 0.05 });
    try {
      provider.on('/jwks.json', httpStatus(503));
      await assert.rejects(keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      clock.advance(-HOUR);
      const { nextRetry } = keys.status();
      assert.ok(nextRetry !== undefined && nextRetry.getTime() - clock.now() <= 50, `next retry ${(nextRetry?.getTime() ?? 0) - clock.now()} ms away`);
      provider.on('/jwks.json', json(idp.jwks, { 'cache-control': 'max-age=600' }));
      // The background retry (no call needed) fetches the keys.
      await until(() => keys.status().state === 'fresh');
      assert.deepEqual(keys.status().kids, ['k1']);
    } finally {
      keys.close();
      await provider.close();
    }
  });

  it('while keys are served stale (provider down) → a step back does not stretch the stale-if-error window: refused once it has passed by elapsed time', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const provider = await startFakeProvider();
    const clock = manualClock();
    provider.on('/jwks.json', json(idp.jwks, { 'cache-control': 'max-age=60' }));
    // Fresh 60 s, then stale-if-error 120 s: usable for 180 s after the fetch, whatever the wall clock says.
    const keys = fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, staleIfError: 120, cooldown: 0.05 });
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], cache: false });
    try {
      await authenticator.ready();
      provider.on('/jwks.json', httpStatus(503));
      const token = await idp.sign({ sub: 'alice' });
      clock.advance(100_000); // stale: served while the refresh fails
      assert.equal(await outcome(authenticator, token), 'OK');
      const usableUntil = keys.status().staleUntil?.getTime();
      clock.advance(-HOUR); // the wall clock steps back an hour
      assert.equal(keys.status().staleUntil?.getTime(), (usableUntil ?? 0) - HOUR, 'the bound moves with the clock: 80 s left, not 80 s + 1 h');
      clock.advance(70_000); // 170 s after the fetch: still within the 180 s
      assert.equal(await outcome(authenticator, token), 'OK');
      clock.advance(20_000); // 190 s after the fetch; before, the keys went on verifying for another hour
      assert.equal(await outcome(authenticator, token), 'ERR_AUTH_KEYS_UNAVAILABLE');
      assert.equal(keys.status().state, 'expired');
    } finally {
      authenticator.close();
      await provider.close();
    }
  });

  it('after an unknown kid was remembered → a key published under it is found after one cooldown, not after the step', async () => {
    const old = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const rotated = await createTestIssuer({ alg: 'ES256', kid: 'k2' });
    const provider = await startFakeProvider();
    const clock = manualClock();
    let published = [old.jwks.keys[0]];
    provider.on(
      '/jwks.json',
      json(() => ({ keys: published }), { 'cache-control': 'max-age=600' }),
    );
    const authenticator = createAuthenticator({ keys: fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, cooldown: 10 }), algorithms: ['ES256'] });
    try {
      await authenticator.ready();
      const token = await rotated.sign({ sub: 'alice' });
      assert.equal(await outcome(authenticator, token), 'ERR_AUTH_KEY_NOT_FOUND', 'k2 is not published yet: refetched once, then remembered');
      clock.advance(-HOUR);
      published = [old.jwks.keys[0], rotated.jwks.keys[0]];
      clock.advance(10_000); // one cooldown later, by the clock as it now reads
      assert.equal(await outcome(authenticator, await rotated.sign({ sub: 'alice' })), 'OK');
    } finally {
      authenticator.close();
      await provider.close();
    }
  });
});
