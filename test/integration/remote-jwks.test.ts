import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createAuthenticator, fromJwks, type RemoteJwksOptions, type RemoteKeyResolver } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { delayed, hang, huge, json, redirect, startFakeProvider, status, text, type FakeProvider, type Reply } from '../support/fake-provider.ts';
import { eventLog, manualClock, outcome, tally, until, withHeader, type EventLog, type ManualClock } from '../support/remote-keys.ts';

const JWKS = '/jwks.json';
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** One provider, one resolver on a manual clock, one authenticator without the verified-token cache. */
interface Rig {
  readonly provider: FakeProvider;
  readonly keys: RemoteKeyResolver;
  readonly clock: ManualClock;
  readonly log: EventLog;
  readonly authenticator: ReturnType<typeof createAuthenticator>;
  close(): Promise<void>;
}

async function rig(idp: TestIssuer, options: RemoteJwksOptions = {}, reply = json(() => idp.jwks, { 'cache-control': 'max-age=300' })): Promise<Rig> {
  const provider = await startFakeProvider();
  provider.on(JWKS, reply);
  const clock = manualClock();
  const log = eventLog();
  const keys = fromJwks(`${provider.url}${JWKS}`, { clock: clock.now, onEvent: log.listener, ...options });
  // No verified-token cache: every call below goes to the resolver, which is what is being measured.
  const authenticator = createAuthenticator({ keys, algorithms: [idp.alg], issuer: idp.issuer, audience: idp.audience, cache: false });
  return {
    provider,
    keys,
    clock,
    log,
    authenticator,
    async close() {
      keys.close();
      await provider.close();
    },
  };
}

const randomKid = () => randomBytes(12).toString('base64url');

/** What started each fetch, in order. */
const triggers = (r: Rig) => r.log.of('fetched').map((event) => event.trigger);

/**
 * A JWKS reply the test steers: each request is answered with the keys published when it arrives and
 * the `max-age` set at that moment; while `hold` is on, the answer waits until `release()`. With
 * `max-age=0` (held at `minCacheMaxAge: 0.1`) the resolver schedules its refresh 80 ms later.
 */
interface SteeredReply {
  readonly reply: Reply;
  maxAge: number;
  hold: boolean;
  readonly held: Array<() => void>;
  release(): void;
}

function steered(idp: TestIssuer, maxAge: number): SteeredReply {
  const steer: SteeredReply = {
    maxAge,
    hold: false,
    held: [],
    reply: (request, response) => {
      const send = json(structuredClone(idp.jwks), { 'cache-control': `max-age=${steer.maxAge}` });
      if (steer.hold) steer.held.push(() => send(request, response));
      else send(request, response);
    },
    release() {
      steer.hold = false;
      for (const send of steer.held.splice(0)) send();
    },
  };
  return steer;
}

/** 200 tokens of the new key and 200 of the old one, mixed. */
const rotationMix = (newToken: string, oldToken: string) => [...Array.from({ length: 200 }, () => newToken), ...Array.from({ length: 200 }, () => oldToken)];

describe('remote JWKS: cold start and single flight', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
  });

  it('1,000 concurrent calls on a cold cache → 1 request, all OK', async (t) => {
    const r = await rig(idp);
    try {
      const token = await idp.sign();
      const counts = await tally(
        r.authenticator,
        Array.from({ length: 1000 }, () => token),
      );
      assert.deepEqual(counts, { OK: 1000 });
      assert.equal(r.provider.count(JWKS), 1);
      t.diagnostic(`FIGURE cold start: 1000 concurrent calls → ${r.provider.count(JWKS)} JWKS request(s), ${1000 - (counts.OK ?? 0)} failed`);
    } finally {
      await r.close();
    }
  });

  it('held keys answer synchronously: no call waits on a fetch once keys are in', async () => {
    const r = await rig(idp);
    try {
      await r.keys.ready();
      assert.ok(Array.isArray(r.keys.getKeys({ alg: 'ES256', kid: 'k1' })));
      r.clock.advance(10 * MINUTE); // expired, within the stale bound: still answered at once, refresh in background
      const refreshed = r.log.next('fetched');
      assert.ok(Array.isArray(r.keys.getKeys({ alg: 'ES256', kid: 'k1' })));
      assert.equal((await refreshed).trigger, 'expired');
      assert.equal(r.provider.count(JWKS), 2);
    } finally {
      await r.close();
    }
  });

  it('refreshes ahead of expiry in the background, with no call at all', async () => {
    const r = await rig(
      idp,
      { clock: Date.now, cacheMaxAge: 0.2, minCacheMaxAge: 0.2 },
      json(() => idp.jwks, { 'cache-control': 'no-store' }),
    );
    try {
      await r.keys.ready();
      const event = await r.log.next('fetched');
      assert.equal(event.trigger, 'refresh-ahead');
      assert.equal(event.maxAge, 0.2, 'no-store is held at the lower bound, in seconds');
    } finally {
      await r.close();
    }
  });

  it('an unchanged refresh keeps key identity (the verified-token cache survives it)', async () => {
    const r = await rig(idp);
    try {
      const [key] = await r.keys.getKeys({ alg: 'ES256', kid: 'k1' });
      assert.ok(key);
      r.clock.advance(10 * MINUTE);
      // Held keys answer at once; the call only kicks the background refresh awaited below.
      void r.keys.getKeys({ alg: 'ES256', kid: 'k1' });
      await r.log.next('fetched');
      assert.equal(r.keys.holds(key), true);
      assert.equal(r.log.of('rotated').length, 0);
    } finally {
      await r.close();
    }
  });
});

describe('remote JWKS: Cache-Control within bounds', () => {
  const cases: Array<[string, string | undefined, number]> = [
    ['max-age=120 → 2 min', 'public, max-age=120', 120],
    ['max-age=5 → raised to the 1 min lower bound', 'max-age=5', 60],
    ['max-age of ten years → cut to the 24 h upper bound', 'max-age=315360000', 24 * 3600],
    ['no header → 10 min default', undefined, 600],
    ['no-cache → lower bound', 'no-cache', 60],
  ];
  for (const [name, header, expected] of cases) {
    it(name, async () => {
      const idp = await createTestIssuer({ alg: 'ES256' });
      const r = await rig(
        idp,
        {},
        json(() => idp.jwks, header === undefined ? {} : { 'cache-control': header }),
      );
      try {
        await r.keys.ready();
        assert.equal(r.log.of('fetched')[0]?.maxAge, expected);
      } finally {
        await r.close();
      }
    });
  }

  it('a configured bound wins over the provider: maxCacheMaxAge 300 caps max-age=3600', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const r = await rig(
      idp,
      { cacheMaxAge: 60, maxCacheMaxAge: 300 },
      json(() => idp.jwks, { 'cache-control': 'max-age=3600' }),
    );
    try {
      await r.keys.ready();
      assert.equal(r.log.of('fetched')[0]?.maxAge, 300);
    } finally {
      await r.close();
    }
  });
});

describe('remote JWKS: provider faults', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
  });

  it('provider down at start-up → UNAVAILABLE, one request shared, fail fast during the retry delay, recovers after', async () => {
    const r = await rig(idp, {}, status(503));
    try {
      const token = await idp.sign();
      await assert.rejects(r.keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      assert.deepEqual(
        await tally(
          r.authenticator,
          Array.from({ length: 100 }, () => token),
        ),
        { ERR_AUTH_KEYS_UNAVAILABLE: 100 },
      );
      assert.equal(r.provider.count(JWKS), 1, 'calls within the retry delay never reach the provider');
      r.provider.on(
        JWKS,
        json(() => idp.jwks),
      );
      r.clock.advance(SECOND); // first retry delay
      assert.deepEqual(
        await tally(
          r.authenticator,
          Array.from({ length: 100 }, () => token),
        ),
        { OK: 100 },
      );
      assert.equal(r.provider.count(JWKS), 2);
    } finally {
      await r.close();
    }
  });

  it('nobody listening at start-up → UNAVAILABLE', async () => {
    const keys = fromJwks('http://127.0.0.1:1/jwks.json', { timeout: 0.5 });
    await assert.rejects(keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
    keys.close();
  });

  const faults: Array<[string, () => ReturnType<typeof status>]> = [
    ['HTTP 500', () => status(500)],
    ['non-JSON body', () => text('<html>oops</html>', 'text/html')],
    ['JSON that is not a key set', () => json({ jwks: [] })],
    [
      'a key set with no usable key',
      () =>
        json({
          keys: [
            { kty: 'oct', k: 'c2VjcmV0', kid: 'k1' },
            { kty: 'RSA', n: 'AQAB', e: 'AQAB' },
          ],
        }),
    ],
    ['a key set of 101 keys', () => json({ keys: Array.from({ length: 101 }, () => idp.jwks.keys[0]) })],
    ['10 MiB body with content-length', () => huge(10 * 1024 * 1024, true)],
    ['10 MiB chunked body (cut while streaming)', () => huge(10 * 1024 * 1024, false)],
    [
      'slow beyond the timeout (no headers)',
      () =>
        delayed(
          2000,
          json(() => idp.jwks),
        ),
    ],
    [
      'headers, then a body that never ends',
      () => (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"keys":[');
      },
    ],
    ['never answers', () => hang()],
  ];
  for (const [name, fault] of faults) {
    it(`${name} at start-up → every call UNAVAILABLE, 1 request`, async () => {
      const r = await rig(idp, { timeout: 0.15 }, fault());
      try {
        const token = await idp.sign();
        assert.deepEqual(
          await tally(
            r.authenticator,
            Array.from({ length: 20 }, () => token),
          ),
          { ERR_AUTH_KEYS_UNAVAILABLE: 20 },
        );
        assert.equal(r.provider.count(JWKS), 1);
        assert.equal(r.log.of('failed').length, 1);
      } finally {
        await r.close();
      }
    });

    it(`${name} on refresh → held keys keep verifying (stale-if-error), 0 failed calls`, async () => {
      const r = await rig(idp, { timeout: 0.15 });
      try {
        const token = await idp.sign();
        await r.keys.ready();
        r.provider.on(JWKS, fault());
        r.clock.advance(6 * MINUTE); // past max-age=300
        const failed = r.log.next('failed');
        assert.deepEqual(
          await tally(
            r.authenticator,
            Array.from({ length: 20 }, () => token),
          ),
          { OK: 20 },
        );
        assert.ok((await failed).staleUntil !== undefined);
        assert.equal(r.provider.count(JWKS), 2);
      } finally {
        await r.close();
      }
    });
  }

  it('redirect → refused, the target is never requested', async () => {
    const r = await rig(idp, {}, redirect('/elsewhere.json'));
    try {
      r.provider.on(
        '/elsewhere.json',
        json(() => idp.jwks),
      );
      assert.equal(await outcome(r.authenticator, await idp.sign()), 'ERR_AUTH_KEYS_UNAVAILABLE');
      assert.equal(r.provider.count('/elsewhere.json'), 0);
      assert.equal(r.provider.count(JWKS), 1);
    } finally {
      await r.close();
    }
  });

  it('a broken key beside a good one → the good one verifies, the broken one is reported', async () => {
    const broken = { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: 'broken' };
    const encryption = { ...idp.jwks.keys[0], kid: 'enc', use: 'enc' };
    const r = await rig(
      idp,
      {},
      json(() => ({ keys: [broken, encryption, ...idp.jwks.keys] })),
    );
    try {
      assert.equal(await outcome(r.authenticator, await idp.sign()), 'OK');
      assert.deepEqual(
        r.log.of('keySkipped').map((event) => [event.kid, event.index]),
        [
          ['broken', 0],
          ['enc', 1],
        ],
      );
      assert.equal(r.log.of('fetched')[0]?.keyCount, 1);
      assert.equal(await outcome(r.authenticator, await idp.sign({}, { header: { kid: 'broken' } })), 'ERR_AUTH_KEY_NOT_FOUND');
      assert.equal(await outcome(r.authenticator, await idp.sign({}, { header: { kid: 'broken' } })), 'ERR_AUTH_KEY_NOT_FOUND');
      assert.equal(r.provider.count(JWKS), 2, 'a skipped kid is unknown: one refetch, then none within the cooldown');
    } finally {
      await r.close();
    }
  });

  it('a key published with malformed key_ops (["verify", "verify"], ["verify", 0]) → skipped and reported; tokens it signed → KEY_NOT_FOUND', async () => {
    const other = await createTestIssuer({ alg: 'ES256', kid: 'other' });
    const [own] = idp.jwks.keys;
    const r = await rig(
      idp,
      {},
      json(() => ({ keys: [{ ...own, key_ops: ['verify', 'verify'] }, { ...own, kid: 'k1-zero', key_ops: ['verify', 0] }, ...other.jwks.keys] })),
    );
    try {
      assert.equal(await outcome(r.authenticator, await idp.sign()), 'ERR_AUTH_KEY_NOT_FOUND');
      assert.equal(await outcome(r.authenticator, await idp.sign({}, { header: { kid: 'k1-zero' } })), 'ERR_AUTH_KEY_NOT_FOUND');
      // Reported at each fetch: the first, and the one refetch the unknown kid k1 caused.
      assert.equal(r.provider.count(JWKS), 2);
      assert.deepEqual(
        r.log.of('keySkipped').map((event) => [event.kid, event.index, /key_ops/.test(event.reason)]),
        [
          ['k1', 0, true],
          ['k1-zero', 1, true],
          ['k1', 0, true],
          ['k1-zero', 1, true],
        ],
      );
      assert.equal(r.log.of('fetched')[0]?.keyCount, 1);
    } finally {
      await r.close();
    }
  });

  it('down longer than the stale bound → OK inside it, UNAVAILABLE past it, OK again once the provider is back', async (t) => {
    const r = await rig(idp, { staleIfError: 30 * 60 });
    try {
      const token = await idp.sign();
      await r.keys.ready();
      r.provider.on(JWKS, status(500));
      let failedInside = 0;
      // 5 min fresh + 30 min stale bound, visited in 1-minute steps with 20 calls each.
      for (let minute = 1; minute < 35; minute++) {
        r.clock.advance(MINUTE);
        // Once stale, each burst kicks one background refresh; let it finish so the count does not depend on timing.
        const kicked = minute >= 5 ? r.log.next('failed') : undefined;
        const counts = await tally(
          r.authenticator,
          Array.from({ length: 20 }, () => token),
        );
        failedInside += 20 - (counts.OK ?? 0);
        await kicked;
        await new Promise(setImmediate);
      }
      const requestsDuringOutage = r.provider.count(JWKS) - 1;
      assert.equal(failedInside, 0);
      r.clock.advance(MINUTE + SECOND); // 36 min: past 5 + 30
      assert.deepEqual(
        await tally(
          r.authenticator,
          Array.from({ length: 20 }, () => token),
        ),
        { ERR_AUTH_KEYS_UNAVAILABLE: 20 },
      );
      const [key] = idp.jwks.keys;
      assert.ok(key);
      r.provider.on(
        JWKS,
        json(() => idp.jwks),
      );
      r.clock.advance(30 * SECOND); // the longest retry delay is the cooldown
      assert.deepEqual(
        await tally(
          r.authenticator,
          Array.from({ length: 20 }, () => token),
        ),
        { OK: 20 },
      );
      t.diagnostic(
        `FIGURE outage: 34 min of provider 500s inside a 5 min max-age + 30 min stale bound, 680 calls (20 a minute) → ${failedInside} failed, ${requestsDuringOutage} JWKS requests`,
      );
      assert.equal(requestsDuringOutage, 30, 'one background request per minute of traffic once stale (minutes 5 to 34), never one per call');
    } finally {
      await r.close();
    }
  });
});

describe('remote JWKS: rotation', () => {
  it('the new kid shows up in tokens before the key set is refreshed → 1 refetch, 0 failed calls', async (t) => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(idp);
    try {
      const oldToken = await idp.sign();
      await r.keys.ready();
      r.clock.advance(31 * SECOND); // past the cooldown, well inside max-age
      await idp.rotate(); // the provider publishes k1-2 and signs with it at once
      const newToken = await idp.sign();
      const counts = await tally(r.authenticator, [...Array.from({ length: 200 }, () => newToken), ...Array.from({ length: 200 }, () => oldToken)]);
      assert.deepEqual(counts, { OK: 400 });
      assert.equal(r.provider.count(JWKS), 2);
      assert.deepEqual(
        r.log.of('rotated').map((event) => [event.added, event.removed]),
        [[['k1-2'], []]],
      );
      assert.equal(r.log.of('fetched')[1]?.trigger, 'unknown-kid');
      t.diagnostic(`FIGURE rotation: 400 calls (200 new kid) → ${r.provider.count(JWKS) - 1} refetch, ${400 - (counts.OK ?? 0)} failed`);
    } finally {
      await r.close();
    }
  });

  it('a key set that drops the key in use → its tokens become KEY_NOT_FOUND after the refresh, holds() turns false', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(idp);
    try {
      const oldToken = await idp.sign();
      const [oldKey] = await r.keys.getKeys({ alg: 'ES256', kid: 'k1' });
      assert.ok(oldKey);
      await idp.rotate({ keepPrevious: false });
      r.clock.advance(6 * MINUTE);
      const fetched = r.log.next('fetched');
      assert.equal(await outcome(r.authenticator, oldToken), 'OK', 'served from the held set while the refresh runs');
      await fetched;
      assert.equal(r.keys.holds(oldKey), false);
      assert.deepEqual(
        await tally(
          r.authenticator,
          Array.from({ length: 50 }, () => oldToken),
        ),
        { ERR_AUTH_KEY_NOT_FOUND: 50 },
      );
      assert.equal(await outcome(r.authenticator, await idp.sign()), 'OK');
      assert.deepEqual(
        r.log.of('rotated').map((event) => [event.added, event.removed]),
        [[['k1-2'], ['k1']]],
      );
      assert.equal(r.provider.count(JWKS), 3, 'the dropped kid is unknown now: one refetch this cooldown, then refused at once');
    } finally {
      await r.close();
    }
  });

  it('a provider failing during a rotation: an unknown kid gets UNAVAILABLE (retry later), not UNAUTHENTICATED', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(idp);
    try {
      await r.keys.ready();
      r.provider.on(JWKS, status(502));
      r.clock.advance(31 * SECOND);
      await idp.rotate();
      const token = await idp.sign();
      assert.deepEqual(
        await tally(
          r.authenticator,
          Array.from({ length: 10 }, () => token),
        ),
        { ERR_AUTH_KEYS_UNAVAILABLE: 10 },
      );
      assert.equal(r.provider.count(JWKS), 2);
    } finally {
      await r.close();
    }
  });
});

describe('remote JWKS: a rotation right after a fetch (the cooldown bounds unknown-kid refetches only)', () => {
  it('new kid 1 s after the initial fetch (ready()) → 1 refetch, 0 failed calls', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(idp);
    try {
      const oldToken = await idp.sign();
      await r.keys.ready();
      r.clock.advance(SECOND);
      await idp.rotate();
      assert.deepEqual(await tally(r.authenticator, rotationMix(await idp.sign(), oldToken)), { OK: 400 });
      assert.equal(r.provider.count(JWKS), 2);
      assert.deepEqual(triggers(r), ['initial', 'unknown-kid']);
    } finally {
      await r.close();
    }
  });

  it('new kid 1 s after a scheduled refresh → 1 refetch, 0 failed calls', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const steer = steered(idp, 0);
    const r = await rig(idp, { minCacheMaxAge: 0.1 }, steer.reply);
    try {
      const oldToken = await idp.sign();
      await r.keys.ready();
      steer.maxAge = 300;
      await until(() => r.log.of('fetched').length === 2);
      assert.deepEqual(triggers(r), ['initial', 'refresh-ahead']);
      r.clock.advance(SECOND);
      await idp.rotate();
      assert.deepEqual(await tally(r.authenticator, rotationMix(await idp.sign(), oldToken)), { OK: 400 });
      assert.equal(r.provider.count(JWKS), 3);
      assert.deepEqual(triggers(r), ['initial', 'refresh-ahead', 'unknown-kid']);
    } finally {
      await r.close();
    }
  });

  it('new kid while a scheduled refresh fetched before the key was published is under way → waits for it, then 1 refetch, 0 failed calls', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const steer = steered(idp, 0);
    const r = await rig(idp, { minCacheMaxAge: 0.1 }, steer.reply);
    try {
      const oldToken = await idp.sign();
      await r.keys.ready();
      steer.maxAge = 300;
      steer.hold = true;
      await until(() => steer.held.length === 1); // the scheduled refresh has asked, and will answer without the new key
      r.clock.advance(SECOND);
      await idp.rotate();
      const first = r.keys.getKeys({ alg: 'ES256', kid: idp.kid });
      assert.ok(first instanceof Promise, 'joins the refresh under way');
      const counts = tally(r.authenticator, rotationMix(await idp.sign(), oldToken));
      steer.release();
      assert.equal((await first).length, 1);
      assert.deepEqual(await counts, { OK: 400 });
      assert.equal(r.provider.count(JWKS), 3);
      assert.deepEqual(triggers(r), ['initial', 'refresh-ahead', 'unknown-kid']);
    } finally {
      await r.close();
    }
  });

  it('new kid 100 ms after a retry recovered from a failed start (cooldown 200 ms) → 1 refetch, 0 failed calls', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(idp, { cooldown: 0.2 }, status(503));
    try {
      const oldToken = await idp.sign();
      await assert.rejects(r.keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      r.provider.on(
        JWKS,
        json(() => idp.jwks, { 'cache-control': 'max-age=300' }),
      );
      r.clock.advance(200); // the retry delay
      await until(() => r.log.of('fetched').length === 1); // the background retry
      assert.deepEqual(triggers(r), ['retry']);
      r.clock.advance(100);
      await idp.rotate();
      assert.deepEqual(await tally(r.authenticator, rotationMix(await idp.sign(), oldToken)), { OK: 400 });
      assert.equal(r.provider.count(JWKS), 3);
      assert.deepEqual(triggers(r), ['retry', 'unknown-kid']);
    } finally {
      await r.close();
    }
  });

  it('a kid remembered as unknown is taken once a scheduled refresh brings it, with no request of its own', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const steer = steered(idp, 300);
    const r = await rig(idp, { minCacheMaxAge: 0.1 }, steer.reply);
    try {
      const good = await idp.sign();
      await r.keys.ready();
      r.clock.advance(SECOND);
      steer.maxAge = 0; // the refetch below schedules a refresh 80 ms after it
      steer.hold = true;
      const forged = outcome(r.authenticator, withHeader(good, { alg: 'ES256', typ: 'JWT', kid: randomKid() }));
      await until(() => steer.held.length === 1); // this cooldown's one unknown-kid refetch, asked before the rotation
      await idp.rotate();
      const newToken = await idp.sign();
      const early = r.keys.getKeys({ alg: 'ES256', kid: idp.kid });
      steer.maxAge = 300;
      steer.release();
      assert.equal(await forged, 'ERR_AUTH_KEY_NOT_FOUND');
      await assert.rejects(Promise.resolve(early), { code: 'ERR_AUTH_KEY_NOT_FOUND' }, 'the refetch it joined predates the key');
      assert.equal(await outcome(r.authenticator, newToken), 'ERR_AUTH_KEY_NOT_FOUND', 'remembered: no second refetch this cooldown');
      assert.equal(r.provider.count(JWKS), 2);
      await until(() => r.log.of('fetched').length === 3);
      assert.deepEqual(triggers(r), ['initial', 'unknown-kid', 'refresh-ahead']);
      assert.equal(await outcome(r.authenticator, newToken), 'OK');
      assert.equal(r.provider.count(JWKS), 3);
    } finally {
      await r.close();
    }
  });
});

describe('remote JWKS: random kid flood', () => {
  it('10,000 tokens with random kids over 5 cooldowns → at most 1 refetch per cooldown, all KEY_NOT_FOUND, real tokens unharmed', async (t) => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(idp);
    try {
      const good = await idp.sign();
      await r.keys.ready();
      const flood: Record<string, number> = {};
      for (let batch = 0; batch < 10; batch++) {
        const tokens = Array.from({ length: 1000 }, () => withHeader(good, { alg: 'ES256', typ: 'JWT', kid: randomKid() }));
        const counts = await tally(r.authenticator, tokens);
        for (const [code, n] of Object.entries(counts)) flood[code] = (flood[code] ?? 0) + n;
        assert.equal(await outcome(r.authenticator, good), 'OK');
        r.clock.advance(15 * SECOND); // ten batches spread over 150 s: five 30 s cooldowns
      }
      assert.deepEqual(flood, { ERR_AUTH_KEY_NOT_FOUND: 10_000 });
      const refetches = r.provider.count(JWKS) - 1;
      assert.ok(refetches <= 5, `${refetches} refetches for 5 cooldown windows`);
      t.diagnostic(`FIGURE random-kid flood: 10,000 tokens over 150 s (5 cooldowns of 30 s) → ${refetches} refetches`);
    } finally {
      await r.close();
    }
  });

  for (const after of ['the initial fetch', 'a scheduled refresh'] as const) {
    it(`random kids from 1 s after ${after}: one refetch per 30 s cooldown, not one per scheduled fetch; all KEY_NOT_FOUND`, async () => {
      const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
      const steer = steered(idp, after === 'a scheduled refresh' ? 0 : 300);
      const r = await rig(idp, { minCacheMaxAge: 0.1 }, steer.reply);
      try {
        const good = await idp.sign();
        await r.keys.ready();
        steer.maxAge = 300;
        if (after === 'a scheduled refresh') await until(() => r.log.of('fetched').length === 2);
        const before = r.provider.count(JWKS);
        const requests: number[] = [];
        for (const step of [SECOND, 15 * SECOND, 15 * SECOND, 15 * SECOND]) {
          r.clock.advance(step); // at 1 s, 16 s, 31 s and 46 s
          const tokens = Array.from({ length: 500 }, () => withHeader(good, { alg: 'ES256', typ: 'JWT', kid: randomKid() }));
          assert.deepEqual(await tally(r.authenticator, tokens), { ERR_AUTH_KEY_NOT_FOUND: 500 });
          assert.equal(await outcome(r.authenticator, good), 'OK');
          requests.push(r.provider.count(JWKS) - before);
        }
        assert.deepEqual(requests, [1, 1, 2, 2]);
      } finally {
        await r.close();
      }
    });
  }

  it('the same forged kid again within the cooldown → refused at once, never waits on a fetch', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(
      idp,
      {},
      delayed(
        50,
        json(() => idp.jwks),
      ),
    );
    try {
      await r.keys.ready();
      r.clock.advance(31 * SECOND);
      const first = r.keys.getKeys({ alg: 'ES256', kid: 'forged' });
      assert.ok(first instanceof Promise, 'the first unknown kid waits for the one refetch');
      await assert.rejects(first, { code: 'ERR_AUTH_KEY_NOT_FOUND' });
      assert.throws(() => r.keys.getKeys({ alg: 'ES256', kid: 'forged' }), { code: 'ERR_AUTH_KEY_NOT_FOUND' });
      assert.equal(r.provider.count(JWKS), 2);
    } finally {
      await r.close();
    }
  });
});

describe('remote JWKS: tokens without kid', () => {
  it("default 'if-single': one fitting key → OK; two → KEY_NOT_FOUND; 'try' → OK; 'reject' → KEY_NOT_FOUND", async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const noKid = async () => idp.sign({}, { header: { kid: undefined } });
    const single = await rig(idp);
    const strict = await rig(idp, { tokensWithoutKid: 'reject' });
    try {
      assert.equal(await outcome(single.authenticator, await noKid()), 'OK');
      assert.equal(await outcome(strict.authenticator, await noKid()), 'ERR_AUTH_KEY_NOT_FOUND');
    } finally {
      await single.close();
      await strict.close();
    }
    await idp.rotate(); // two ES256 keys published
    const ambiguous = await rig(idp);
    const trying = await rig(idp, { tokensWithoutKid: 'try' });
    try {
      const token = await noKid();
      assert.equal(await outcome(ambiguous.authenticator, token), 'ERR_AUTH_KEY_NOT_FOUND');
      assert.equal(await outcome(trying.authenticator, token), 'OK');
    } finally {
      await ambiguous.close();
      await trying.close();
    }
  });
});

describe('remote JWKS: construction, close and events', () => {
  const isConfigError = (option: string) => (error: { code?: string; option?: string }) => error.code === 'ERR_AUTH_INVALID_OPTION' && error.option === option;

  it('http to a non-loopback host is refused at construction; https, loopback and the explicit opt-in are not', () => {
    assert.throws(() => fromJwks('http://idp.example/jwks.json'), isConfigError('jwksUri'));
    assert.throws(() => fromJwks('http://10.0.0.7/jwks.json'), isConfigError('jwksUri'));
    assert.throws(() => fromJwks('ftp://idp.example/jwks.json'), isConfigError('jwksUri'));
    assert.throws(() => fromJwks('https://user:pw@idp.example/jwks.json'), isConfigError('jwksUri'));
    assert.throws(() => fromJwks('not a url'), isConfigError('jwksUri'));
    for (const url of ['https://idp.example/jwks.json', 'http://127.0.0.1:8080/jwks.json', 'http://localhost/jwks.json', 'http://[::1]/jwks.json'])
      fromJwks(url).close();
    fromJwks('http://idp.example/jwks.json', { allowInsecureHttp: true }).close();
  });

  it('bad options throw an AuthConfigError naming the option', () => {
    const url = 'https://idp.example/jwks.json';
    assert.throws(() => fromJwks(url, { timeout: 0 }), isConfigError('timeout'));
    assert.throws(() => fromJwks(url, { cooldown: -1 }), isConfigError('cooldown'));
    assert.throws(() => fromJwks(url, { staleIfError: -1 }), isConfigError('staleIfError'));
    assert.throws(() => fromJwks(url, { maxResponseBytes: 10 }), isConfigError('maxResponseBytes'));
    assert.throws(() => fromJwks(url, { maxResponseBytes: 4096.5 }), isConfigError('maxResponseBytes'));
    assert.throws(() => fromJwks(url, { cacheMaxAge: 60, minCacheMaxAge: 120 }), isConfigError('minCacheMaxAge'));
    assert.throws(() => fromJwks(url, { cacheMaxAge: 600, maxCacheMaxAge: 60 }), isConfigError('maxCacheMaxAge'));
    assert.throws(() => fromJwks(url, { tokensWithoutKid: 'maybe' as never }), isConfigError('tokensWithoutKid'));
    assert.throws(() => fromJwks(url, { onEvent: 'log' as never }), isConfigError('onEvent'));
    assert.throws(() => fromJwks(url, { coolDown: 5 } as never), isConfigError('coolDown'));
    assert.throws(() => fromJwks(url).checkAlgorithms(['HS256'], 'algorithms'), isConfigError('algorithms'));
  });

  it('events speak seconds and Dates: fetched.maxAge in seconds, failed.staleUntil and failed.retryAt as Dates', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const r = await rig(idp);
    try {
      const start = r.clock.now();
      await r.keys.ready();
      assert.equal(r.log.of('fetched')[0]?.maxAge, 300);
      r.provider.on(JWKS, status(500));
      r.clock.advance(6 * MINUTE); // past max-age=300, inside the default 1 h stale bound
      const failed = r.log.next('failed');
      await r.keys.getKeys({ alg: 'ES256', kid: undefined }); // held keys answer; the refresh runs behind
      const { staleUntil, retryAt } = await failed;
      assert.ok(staleUntil instanceof Date && retryAt instanceof Date);
      assert.equal(staleUntil.getTime(), start + 300 * SECOND + 60 * MINUTE);
      assert.equal(retryAt.getTime(), start + 6 * MINUTE + SECOND);
    } finally {
      await r.close();
    }
  });

  it('close() aborts a fetch under way; afterwards no request is made and calls get UNAVAILABLE', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const r = await rig(idp, {}, hang());
    try {
      const pending = r.keys.ready();
      // Closed once the request has reached the provider (a fixed sleep raced it on a loaded machine).
      await until(() => r.provider.count(JWKS) === 1);
      r.keys.close();
      await assert.rejects(pending, { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      assert.equal(await outcome(r.authenticator, await idp.sign()), 'ERR_AUTH_KEYS_UNAVAILABLE');
      assert.equal(r.provider.count(JWKS), 1);
      assert.equal(r.log.of('failed').length, 0, 'closing is not a provider failure');
    } finally {
      await r.close();
    }
  });

  it('a throwing event listener never breaks key refresh', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const r = await rig(idp, {
      onEvent: () => {
        throw new Error('logger down');
      },
    });
    try {
      assert.equal(await outcome(r.authenticator, await idp.sign()), 'OK');
    } finally {
      await r.close();
    }
  });
});
