/**
 * fromIssuer when the discovery document moves `jwks_uri`: the old key set verifies while the new URL
 * is first fetched or failing, and is dropped once the new set loads. Attacks on that handover: what a
 * readiness probe (`status()`) and `ready()` see meanwhile, a second move while the first new URL still
 * fails, a move back to the old URL, a new URL whose set has no usable key, `close()` mid-handover (no
 * fetch afterwards), cached tokens (the token cache must drop an old-key token once the new set loads),
 * and the order of events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, fromIssuer, type Authenticator } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { delayed, json, startFakeProvider, status, type FakeProvider } from '../support/fake-provider.ts';
import { eventLog, manualClock, outcome, until, type EventLog, type ManualClock } from '../support/remote-keys.ts';

const OIDC = '/.well-known/openid-configuration';
const OLD = '/jwks.json';
const MINUTE = 60_000;

interface Handover {
  readonly provider: FakeProvider;
  readonly clock: ManualClock;
  readonly log: EventLog;
  readonly keys: ReturnType<typeof fromIssuer>;
  readonly auth: Authenticator;
  readonly oldToken: string;
  readonly newToken: string;
  /** Which path the discovery document names now. */
  point(path: string): void;
  /** Advances past the discovery document's freshness, kicks its refresh, then makes one call on the new document. */
  rediscover(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An issuer whose document names `/jwks.json` (key `old-key`) until told otherwise; `replies` serves
 * the other paths (the moved key set signs with `new-key`).
 */
async function handover(
  replies: (moved: TestIssuer) => Record<string, Parameters<FakeProvider['on']>[1]>,
  cache: false | undefined = false,
  /** Whether rediscover() makes one call on the new document (which starts the new URL's first fetch). */
  follow = true,
): Promise<Handover> {
  const idp = await createTestIssuer({ alg: 'ES256', kid: 'old-key' });
  const moved = await createTestIssuer({ alg: 'ES256', kid: 'new-key', audience: idp.audience });
  const provider = await startFakeProvider();
  let path = OLD;
  provider.on(
    OIDC,
    json(() => ({ issuer: provider.url, jwks_uri: `${provider.url}${path}` }), { 'cache-control': 'max-age=3600' }),
  );
  provider.on(
    OLD,
    json(() => idp.jwks, { 'cache-control': 'max-age=300' }),
  );
  for (const [route, reply] of Object.entries(replies(moved))) provider.on(route, reply);
  const clock = manualClock();
  const log = eventLog();
  const keys = fromIssuer(provider.url, { clock: clock.now, onEvent: log.listener });
  const auth = createAuthenticator({ keys, algorithms: ['ES256'], issuer: provider.url, audience: idp.audience, ...(cache === false ? { cache: false } : {}) });
  const oldToken = await idp.sign({ iss: provider.url });
  const newToken = await moved.sign({ iss: provider.url });
  assert.equal(await outcome(auth, oldToken), 'OK');
  return {
    provider,
    clock,
    log,
    keys,
    auth,
    oldToken,
    newToken,
    point: (next) => {
      path = next;
    },
    async rediscover() {
      clock.advance(61 * MINUTE);
      const fetched = log.next('fetched');
      await outcome(auth, oldToken);
      assert.equal((await fetched).document, 'discovery');
      if (follow) await outcome(auth, oldToken); // acts on the new document: follows the jwks_uri it names
    },
    async close() {
      keys.close();
      await provider.close();
    },
  };
}

/** A reply that answers 503 until `up()` is called, then the set. */
function switchable(set: () => unknown): { reply: Parameters<FakeProvider['on']>[1]; up(): void } {
  let isUp = false;
  return {
    reply: (request, response) => (isUp ? json(set, { 'cache-control': 'max-age=300' }) : status(503))(request, response),
    up: () => {
      isUp = true;
    },
  };
}

describe('fromIssuer: attacks on the jwks_uri handover', () => {
  it('status() while the new URL fails → serving, the old set’s kids and state, the new URL’s error; after it loads → the new kids', async () => {
    let newSet: ReturnType<typeof switchable> | undefined;
    const h = await handover((moved) => {
      newSet = switchable(() => moved.jwks);
      return { '/v2/jwks.json': newSet.reply };
    });
    try {
      h.point('/v2/jwks.json');
      await h.rediscover();
      await until(() => h.log.of('failed').some((event) => event.url.endsWith('/v2/jwks.json')));
      assert.equal(await outcome(h.auth, h.oldToken), 'OK');
      // A readiness probe reading NOT_SERVING here would pull every replica at once while calls verify.
      const during = h.auth.status();
      assert.equal(during.serving, true, JSON.stringify(during));
      assert.deepEqual(during.issuers[0]?.kids, ['old-key']);
      assert.ok(during.issuers[0]?.state === 'fresh' || during.issuers[0]?.state === 'stale', during.issuers[0]?.state);
      assert.ok(during.issuers[0]?.lastError !== undefined, 'the new URL’s failure is reported');
      newSet?.up();
      h.clock.advance(MINUTE);
      await outcome(h.auth, h.newToken);
      await until(() => h.log.of('fetched').some((event) => event.url.endsWith('/v2/jwks.json')));
      const after = h.auth.status();
      assert.equal(after.serving, true);
      assert.deepEqual(after.issuers[0]?.kids, ['new-key']);
      assert.equal(after.issuers[0]?.lastError, undefined);
    } finally {
      await h.close();
    }
  });

  it('ready() while the new URL fails → resolves (the old set verifies every call)', async () => {
    const h = await handover(() => ({ '/v2/jwks.json': status(503) }));
    try {
      h.point('/v2/jwks.json');
      await h.rediscover();
      await until(() => h.log.of('failed').some((event) => event.url.endsWith('/v2/jwks.json')));
      await h.auth.ready();
      assert.equal(await outcome(h.auth, h.oldToken), 'OK');
    } finally {
      await h.close();
    }
  });

  it('a second move while the first new URL still fails → the old set goes on verifying; the abandoned URL is fetched no more; the third loads and decides', async () => {
    let third: ReturnType<typeof switchable> | undefined;
    const h = await handover((moved) => {
      third = switchable(() => moved.jwks);
      return { '/v2/jwks.json': status(503), '/v3/jwks.json': third.reply };
    });
    try {
      h.point('/v2/jwks.json');
      await h.rediscover();
      await until(() => h.provider.count('/v2/jwks.json') >= 1);
      assert.equal(await outcome(h.auth, h.oldToken), 'OK');
      h.point('/v3/jwks.json');
      await h.rediscover();
      await until(() => h.provider.count('/v3/jwks.json') >= 1);
      const abandoned = h.provider.count('/v2/jwks.json');
      assert.equal(await outcome(h.auth, h.oldToken), 'OK');
      third?.up();
      h.clock.advance(MINUTE);
      await outcome(h.auth, h.newToken);
      await until(() => h.log.of('fetched').some((event) => event.url.endsWith('/v3/jwks.json')));
      assert.equal(await outcome(h.auth, h.newToken), 'OK');
      assert.equal(await outcome(h.auth, h.oldToken), 'ERR_AUTH_KEY_NOT_FOUND');
      h.clock.advance(10 * MINUTE);
      await outcome(h.auth, h.newToken);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(h.provider.count('/v2/jwks.json'), abandoned, 'the abandoned URL is never fetched again');
    } finally {
      await h.close();
    }
  });

  it('a move back to the old URL while the new one fails → the old keys verify throughout; the failed URL is fetched no more', async () => {
    const h = await handover(() => ({ '/v2/jwks.json': status(503) }));
    try {
      h.point('/v2/jwks.json');
      await h.rediscover();
      await until(() => h.provider.count('/v2/jwks.json') >= 1);
      h.point(OLD);
      await h.rediscover();
      const abandoned = h.provider.count('/v2/jwks.json');
      for (let i = 0; i < 3; i += 1) {
        assert.equal(await outcome(h.auth, h.oldToken), 'OK');
        h.clock.advance(6 * MINUTE);
      }
      assert.equal(await outcome(h.auth, h.newToken), 'ERR_AUTH_KEY_NOT_FOUND');
      assert.equal(h.provider.count('/v2/jwks.json'), abandoned);
    } finally {
      await h.close();
    }
  });

  it('the new URL answers a set with no usable key (only an oct key) → a failed fetch: the old set goes on verifying', async () => {
    const h = await handover(() => ({ '/v2/jwks.json': json({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'old-key' }] }, { 'cache-control': 'max-age=300' }) }));
    try {
      h.point('/v2/jwks.json');
      await h.rediscover();
      await until(() => h.log.of('failed').some((event) => event.url.endsWith('/v2/jwks.json')));
      // A provider briefly publishing nothing usable must not refuse every call (the same rule as fromJwks).
      assert.equal(await outcome(h.auth, h.oldToken), 'OK');
      assert.equal(await outcome(h.auth, h.newToken), 'ERR_AUTH_KEY_NOT_FOUND');
      assert.ok(!h.log.of('fetched').some((event) => event.url.endsWith('/v2/jwks.json')));
    } finally {
      await h.close();
    }
  });

  it('while the new URL’s first fetch is in flight → a token of a kid only in the old set waits and is refused once the new set answers (it decides)', async () => {
    const h = await handover(
      (moved) => ({
        '/v2/jwks.json': delayed(
          150,
          json(() => moved.jwks, { 'cache-control': 'max-age=300' }),
        ),
      }),
      false,
      false,
    );
    try {
      h.point('/v2/jwks.json');
      await h.rediscover();
      const [old, fresh] = await Promise.all([outcome(h.auth, h.oldToken), outcome(h.auth, h.newToken)]);
      assert.deepEqual([old, fresh], ['ERR_AUTH_KEY_NOT_FOUND', 'OK']);
      // One shared first fetch, plus at most the one refetch an unknown kid (old-key) earns per cooldown.
      assert.ok(h.provider.count('/v2/jwks.json') <= 2, String(h.provider.count('/v2/jwks.json')));
    } finally {
      await h.close();
    }
  });

  it('close() during the handover → no fetch of any URL afterwards, calls refused', async () => {
    const h = await handover(() => ({ '/v2/jwks.json': status(503) }));
    try {
      h.point('/v2/jwks.json');
      await h.rediscover();
      await until(() => h.provider.count('/v2/jwks.json') >= 1);
      h.keys.close();
      const counts = [OIDC, OLD, '/v2/jwks.json'].map((path) => h.provider.count(path));
      for (let i = 0; i < 3; i += 1) {
        h.clock.advance(61 * MINUTE);
        const result = await outcome(h.auth, h.oldToken);
        assert.notEqual(result, 'OK');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(
        [OIDC, OLD, '/v2/jwks.json'].map((path) => h.provider.count(path)),
        counts,
      );
    } finally {
      await h.close();
    }
  });

  it('token cache on: a cached old-key token verifies during the handover and is refused once the new set loaded', async () => {
    let newSet: ReturnType<typeof switchable> | undefined;
    const h = await handover((moved) => {
      newSet = switchable(() => moved.jwks);
      return { '/v2/jwks.json': newSet.reply };
    }, undefined);
    try {
      assert.equal(await outcome(h.auth, h.oldToken), 'OK'); // cached now
      h.point('/v2/jwks.json');
      await h.rediscover();
      await until(() => h.provider.count('/v2/jwks.json') >= 1);
      assert.equal(await outcome(h.auth, h.oldToken), 'OK');
      newSet?.up();
      h.clock.advance(MINUTE);
      await outcome(h.auth, h.newToken);
      await until(() => h.log.of('fetched').some((event) => event.url.endsWith('/v2/jwks.json')));
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(await outcome(h.auth, h.oldToken), 'ERR_AUTH_KEY_NOT_FOUND');
    } finally {
      await h.close();
    }
  });

  it('events in order: discovery fetched, the new URL failed, then the new URL fetched; never a failure of the old URL', async () => {
    let newSet: ReturnType<typeof switchable> | undefined;
    const h = await handover((moved) => {
      newSet = switchable(() => moved.jwks);
      return { '/v2/jwks.json': newSet.reply };
    });
    try {
      const start = h.log.events.length;
      h.point('/v2/jwks.json');
      await h.rediscover();
      await until(() => h.log.of('failed').some((event) => event.url.endsWith('/v2/jwks.json')));
      newSet?.up();
      h.clock.advance(MINUTE);
      await outcome(h.auth, h.newToken);
      await until(() => h.log.of('fetched').some((event) => event.url.endsWith('/v2/jwks.json')));
      const seen = h.log.events.slice(start).map((event) => `${event.type} ${'url' in event ? new URL(event.url).pathname : ''}`);
      const firstFailed = seen.indexOf('failed /v2/jwks.json');
      const loaded = seen.indexOf('fetched /v2/jwks.json');
      assert.ok(seen.indexOf(`fetched ${OIDC}`) < firstFailed && firstFailed < loaded, seen.join(', '));
      assert.ok(!seen.includes(`failed ${OLD}`), seen.join(', '));
    } finally {
      await h.close();
    }
  });
});
