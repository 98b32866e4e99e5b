/**
 * The unknown-kid cooldown at its edges, over a real loopback provider and a manual clock: the exact
 * end of a cooldown, an initial fetch still under way, a failing provider, two new kids at once, and a
 * flood of made-up kids interleaved with a real rotation (which costs the rotation at most one
 * cooldown of refusals, as the README says, and then gets through with no request of its own). Also
 * jose's remote-JWKS cases (test/jwks/remote.test.ts at commit afbc664: refresh once off cooldown,
 * refresh once stale, malformed sets), rewritten against our resolver; where our answer differs by
 * design the case says so.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { createAuthenticator, fromJwks, type RemoteJwksOptions, type RemoteKeyResolver } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { json, startFakeProvider, status, text, type FakeProvider, type Reply } from '../support/fake-provider.ts';
import { eventLog, manualClock, outcome, tally, until, withHeader, type EventLog, type ManualClock } from '../support/remote-keys.ts';

const JWKS = '/jwks.json';
const SECOND = 1000;
const COOLDOWN = 30 * SECOND;

interface Rig {
  readonly provider: FakeProvider;
  readonly keys: RemoteKeyResolver;
  readonly clock: ManualClock;
  readonly log: EventLog;
  readonly authenticator: ReturnType<typeof createAuthenticator>;
  close(): Promise<void>;
}

async function rig(idp: TestIssuer, reply: Reply, options: RemoteJwksOptions = {}): Promise<Rig> {
  const provider = await startFakeProvider();
  provider.on(JWKS, reply);
  const clock = manualClock();
  const log = eventLog();
  const keys = fromJwks(`${provider.url}${JWKS}`, { clock: clock.now, onEvent: log.listener, ...options });
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

/** The issuer's current key set, `max-age=300`; while `hold` is on, answers wait for `release()`. */
function holdable(idp: TestIssuer): { reply: Reply; hold: boolean; held: number; release(): void } {
  const waiting: Array<() => void> = [];
  const control = {
    hold: false,
    get held() {
      return waiting.length;
    },
    reply: ((request, response: ServerResponse) => {
      const send = () => json(structuredClone(idp.jwks), { 'cache-control': 'max-age=300' })(request, response);
      if (control.hold) waiting.push(send);
      else send();
    }) as Reply,
    release() {
      control.hold = false;
      for (const send of waiting.splice(0)) send();
    },
  };
  return control;
}

const forged = (idp: TestIssuer, good: string) => withHeader(good, { alg: idp.alg, typ: 'JWT', kid: randomBytes(12).toString('base64url') });
const triggers = (r: Rig) => r.log.of('fetched').map((event) => event.trigger);

describe('unknown-kid cooldown: edges', () => {
  it('an unknown kid 1 ms before the cooldown ends → refused, no request; exactly at its end → one refetch', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(idp, holdable(idp).reply);
    try {
      const good = await idp.sign();
      await r.keys.ready();
      assert.equal(await outcome(r.authenticator, forged(idp, good)), 'ERR_AUTH_KEY_NOT_FOUND'); // spends this cooldown's refetch
      assert.equal(r.provider.count(JWKS), 2);
      r.clock.advance(COOLDOWN - 1);
      const late = forged(idp, good);
      assert.equal(await outcome(r.authenticator, late), 'ERR_AUTH_KEY_NOT_FOUND');
      assert.equal(r.provider.count(JWKS), 2);
      r.clock.advance(1);
      assert.equal(await outcome(r.authenticator, late), 'ERR_AUTH_KEY_NOT_FOUND', 'remembered only until the cooldown ends');
      assert.equal(r.provider.count(JWKS), 3);
      assert.deepEqual(triggers(r), ['initial', 'unknown-kid', 'unknown-kid']);
    } finally {
      await r.close();
    }
  });

  it('unknown kids while the initial fetch is under way → they wait for it, then share one refetch; the real token passes', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const control = holdable(idp);
    control.hold = true;
    const r = await rig(idp, control.reply);
    try {
      const good = await idp.sign();
      const results = tally(r.authenticator, [good, ...Array.from({ length: 50 }, () => forged(idp, good))]);
      await until(() => control.held === 1);
      control.release();
      assert.deepEqual(await results, { OK: 1, ERR_AUTH_KEY_NOT_FOUND: 50 });
      assert.equal(r.provider.count(JWKS), 2);
      assert.deepEqual(triggers(r), ['initial', 'unknown-kid']);
    } finally {
      await r.close();
    }
  });

  it('two new kids published together, tokens of both at once → one refetch, both pass', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const other = await createTestIssuer({ alg: 'ES256', kid: 'k9', issuer: idp.issuer, audience: idp.audience });
    let published = idp.jwks.keys;
    const r = await rig(
      idp,
      json(() => ({ keys: published }), { 'cache-control': 'max-age=300' }),
    );
    try {
      await r.keys.ready();
      r.clock.advance(SECOND);
      await idp.rotate();
      published = [...idp.jwks.keys, ...other.jwks.keys];
      const tokens = [...Array.from({ length: 20 }, () => idp.sign()), ...Array.from({ length: 20 }, () => other.sign())];
      assert.deepEqual(await tally(r.authenticator, await Promise.all(tokens)), { OK: 40 });
      assert.equal(r.provider.count(JWKS), 2);
    } finally {
      await r.close();
    }
  });

  it('a flood of made-up kids, then a real rotation 1 s later → the new kid is refused (no request) until the cooldown ends, then passes', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(idp, holdable(idp).reply);
    try {
      const old = await idp.sign();
      await r.keys.ready();
      r.clock.advance(SECOND);
      assert.deepEqual(
        await tally(
          r.authenticator,
          Array.from({ length: 200 }, () => forged(idp, old)),
        ),
        { ERR_AUTH_KEY_NOT_FOUND: 200 },
      );
      assert.equal(r.provider.count(JWKS), 2, "the flood spent this cooldown's one refetch");
      r.clock.advance(SECOND);
      await idp.rotate();
      const rotated = await idp.sign();
      for (const step of [SECOND, 10 * SECOND, 17 * SECOND]) {
        assert.deepEqual(await tally(r.authenticator, [rotated, old, forged(idp, old)]), { ERR_AUTH_KEY_NOT_FOUND: 2, OK: 1 });
        r.clock.advance(step);
      }
      // 29 s after the flood's refetch: one more made-up kid and the real one, together, at the cooldown's end.
      r.clock.advance(SECOND);
      assert.deepEqual(await tally(r.authenticator, [forged(idp, old), rotated, rotated, old]), { ERR_AUTH_KEY_NOT_FOUND: 1, OK: 3 });
      assert.equal(r.provider.count(JWKS), 3, 'one refetch for the whole cooldown, flood and rotation together');
      assert.deepEqual(
        await tally(
          r.authenticator,
          Array.from({ length: 100 }, () => forged(idp, old)),
        ),
        { ERR_AUTH_KEY_NOT_FOUND: 100 },
      );
      assert.equal(await outcome(r.authenticator, rotated), 'OK');
      assert.equal(r.provider.count(JWKS), 3);
    } finally {
      await r.close();
    }
  });

  it('provider failing: unknown kids → UNAVAILABLE ("retry later"), held keys keep verifying, and the flood adds at most one request per cooldown', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(
      idp,
      json(() => idp.jwks, { 'cache-control': 'max-age=300' }),
    );
    try {
      const good = await idp.sign();
      await r.keys.ready();
      r.provider.on(JWKS, status(503));
      r.clock.advance(SECOND);
      assert.deepEqual(await tally(r.authenticator, [...Array.from({ length: 100 }, () => forged(idp, good)), good]), {
        ERR_AUTH_KEYS_UNAVAILABLE: 100,
        OK: 1,
      });
      assert.equal(r.provider.count(JWKS), 2, 'one refetch, which failed');
      r.clock.advance(COOLDOWN / 2);
      assert.deepEqual(
        await tally(
          r.authenticator,
          Array.from({ length: 100 }, () => forged(idp, good)),
        ),
        { ERR_AUTH_KEYS_UNAVAILABLE: 100 },
      );
      const requests = r.provider.count(JWKS);
      assert.ok(requests <= 3, `${requests} requests: only the background retry may add one`);
    } finally {
      await r.close();
    }
  });
});

describe('peer cases (jose remote JWKS), against our resolver', () => {
  it('"refreshes the JWKS once off cooldown": kid "two" right after start → one refetch at once (jose waits out the cooldown); published later → passes after the cooldown', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'one' });
    let keys = idp.jwks.keys;
    const r = await rig(
      idp,
      json(() => ({ keys }), { 'cache-control': 'max-age=300' }),
    );
    try {
      const one = await idp.sign();
      assert.equal(await outcome(r.authenticator, one), 'OK');
      assert.equal(await outcome(r.authenticator, one), 'OK');
      const two = await idp.sign({}, { header: { kid: 'two' } });
      assert.equal(await outcome(r.authenticator, two), 'ERR_AUTH_KEY_NOT_FOUND');
      assert.equal(r.provider.count(JWKS), 2);
      keys = [{ ...idp.jwks.keys[0], kid: 'two' }];
      assert.equal(await outcome(r.authenticator, two), 'ERR_AUTH_KEY_NOT_FOUND', 'within the cooldown: refused, no request');
      assert.equal(r.provider.count(JWKS), 2);
      r.clock.advance(COOLDOWN);
      assert.equal(await outcome(r.authenticator, two), 'OK');
      assert.equal(r.provider.count(JWKS), 3);
    } finally {
      await r.close();
    }
  });

  it('"refreshes the JWKS once stale": after max-age (600 s) the set is refetched, and tokens never fail', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'one' });
    const r = await rig(
      idp,
      json(() => idp.jwks, { 'cache-control': 'max-age=600' }),
    );
    try {
      const token = await idp.sign({}, { expiresIn: 3600 });
      assert.equal(await outcome(r.authenticator, token), 'OK');
      assert.equal(await outcome(r.authenticator, token), 'OK');
      r.clock.advance(600 * SECOND);
      assert.equal(await outcome(r.authenticator, token), 'OK');
      await until(() => r.provider.count(JWKS) === 2);
      assert.equal(await outcome(r.authenticator, token), 'OK');
    } finally {
      await r.close();
    }
  });

  const malformed: Array<[string, Reply]> = [
    ['null', text('null')],
    ['{}', json({})],
    ['{ keys: null }', json({ keys: null })],
    ['{ keys: [null] }', json({ keys: [null] })],
    ['HTTP 404', status(404)],
    ['"{" (not JSON)', text('{')],
  ];
  for (const [name, reply] of malformed) {
    it(`"throws on invalid JWKSet": ${name} → KEYS_UNAVAILABLE (jose: ERR_JWKS_INVALID / a generic error)`, async () => {
      const idp = await createTestIssuer({ alg: 'ES256', kid: 'one' });
      const r = await rig(idp, reply);
      try {
        assert.equal(await outcome(r.authenticator, await idp.sign()), 'ERR_AUTH_KEYS_UNAVAILABLE');
        assert.equal(r.log.of('failed').length, 1);
      } finally {
        await r.close();
      }
    });
  }
});
