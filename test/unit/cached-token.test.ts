import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachedToken, isTokenError, type CachedTokenOptions, type FetchedToken, type TokenFunction, type TokenSource } from '../../src/client/index.ts';
import { encodeSegment } from '../../src/testing/unsigned.ts';

const START = Date.UTC(2030, 0, 1);

/** A JWT-shaped token with this `exp` (seconds); the cache reads it without verifying, so no signature is needed. */
function jwt(exp: number | undefined, id: string): string {
  return `${encodeSegment({ alg: 'ES256' })}.${encodeSegment(exp === undefined ? { jti: id } : { exp, jti: id })}.c2ln`;
}

/** A fake clock and a fetch function that counts calls and answers what the test says. */
function harness(answer: (n: number, now: number) => FetchedToken | Promise<FetchedToken>, options: CachedTokenOptions = {}) {
  const state = { now: START, fetches: 0 };
  const source = cachedToken(
    async () => {
      state.fetches += 1;
      return answer(state.fetches, state.now);
    },
    { jitter: 0, clock: () => state.now, ...options },
  );
  return { state, source, advance: (seconds: number) => (state.now += seconds * 1000) };
}

/** Tokens that live `lifetime` seconds from the moment they are fetched. */
const lasting = (lifetime: number) => (n: number, now: number) => jwt(now / 1000 + lifetime, `t${n}`);

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('cachedToken: caching and expiry', () => {
  it('caches: a second call within the lifetime does not fetch', async () => {
    const { state, source } = harness(lasting(3600));
    assert.equal(await source.getToken(), await source.getToken());
    assert.equal(state.fetches, 1);
    assert.ok(source.expiresAt instanceof Date, 'an instant users see is a Date');
    assert.equal(source.expiresAt.getTime(), START + 3600_000);
  });

  it('expiresAt: undefined before the first fetch; a copy, so changing it changes nothing', async () => {
    const { source } = harness(lasting(3600));
    const before: Date | undefined = source.expiresAt;
    assert.equal(before, undefined);
    await source.getToken();
    const expiresAt = source.expiresAt;
    assert.ok(expiresAt instanceof Date);
    expiresAt.setTime(0);
    assert.equal(source.expiresAt?.getTime(), START + 3600_000, 'changing the Date it gave does not change the cache');
  });

  it('reads exp from the JWT payload; a returned expiresIn wins over exp (it is immune to clock skew)', async () => {
    const { source } = harness((n, now) => ({ token: jwt(now / 1000 + 3600, `t${n}`), expiresIn: 120 }));
    await source.getToken();
    assert.equal(source.expiresAt?.getTime(), START + 119_000, 'counted from the start of the fetch, less a second for whole-second rounding');
  });

  it('expiresIn counts from when the fetch started, not from when the slow answer arrived', async () => {
    const { state, source, advance } = harness(async () => {
      advance(5); // the identity provider takes 5 s to answer
      return { token: 'opaque', expiresIn: 60 };
    });
    await source.getToken();
    assert.equal(source.expiresAt?.getTime(), START + 59_000);
    assert.equal(state.now, START + 5000);
  });

  it('default margin: a 1-hour token is refreshed 60 s before expiry, not earlier', async () => {
    const { state, source, advance } = harness(lasting(3600));
    const first = await source.getToken();
    advance(3600 - 61);
    assert.equal(await source.getToken(), first);
    await settle();
    assert.equal(state.fetches, 1);
    advance(2);
    assert.equal(await source.getToken(), first, 'the still-valid token is served at once while the refresh runs');
    await settle();
    assert.equal(state.fetches, 2);
    assert.notEqual(await source.getToken(), first);
  });

  it('default margin: a 60-second token is refreshed in its last 10% (6 s)', async () => {
    const { state, source, advance } = harness(lasting(60));
    await source.getToken();
    advance(53);
    await source.getToken();
    await settle();
    assert.equal(state.fetches, 1);
    advance(2);
    await source.getToken();
    await settle();
    assert.equal(state.fetches, 2);
  });

  it('refreshBefore is capped at half the lifetime, so a short token is not fetched on every call', async () => {
    const { state, source, advance } = harness(lasting(10), { refreshBefore: 300 });
    await source.getToken();
    advance(4);
    await source.getToken();
    await settle();
    assert.equal(state.fetches, 1);
    advance(2);
    await source.getToken();
    await settle();
    assert.equal(state.fetches, 2);
  });

  it('jitter moves the refresh earlier by up to jitter × refreshBefore, never later', async () => {
    const sources = Array.from({ length: 20 }, () => harness(lasting(100), { refreshBefore: 10, jitter: 1 }));
    await Promise.all(sources.map(({ source }) => source.getToken()));
    const fetchedAt = async (seconds: number) => {
      for (const { source, state } of sources) {
        state.now = START + seconds * 1000;
        await source.getToken();
      }
      await settle();
      return sources.filter(({ state }) => state.fetches === 2).length;
    };
    assert.equal(await fetchedAt(79), 0, 'never before expiry − 2 × refreshBefore');
    assert.equal(await fetchedAt(90), 20, 'always by expiry − refreshBefore');
  });

  it('a token without exp and without expiresIn → ERR_TOKEN_EXPIRY_UNKNOWN; assumedLifetime caches it', async () => {
    const strict = harness((n) => jwt(undefined, `t${n}`));
    await assert.rejects(strict.source.getToken(), { code: 'ERR_TOKEN_EXPIRY_UNKNOWN', retryable: false });
    const lenient = harness(() => 'opaque-token', { assumedLifetime: 300 });
    assert.equal(await lenient.source.getToken(), 'opaque-token');
    assert.equal(lenient.source.expiresAt?.getTime(), START + 300_000);
  });

  it('a token that has already expired → ERR_TOKEN_EXPIRED, never served', async () => {
    const { source } = harness((n, now) => jwt(now / 1000 - 30, `t${n}`));
    await assert.rejects(source.getToken(), { code: 'ERR_TOKEN_EXPIRED' });
    const zero = harness(() => ({ token: 'opaque', expiresIn: 0 }));
    await assert.rejects(zero.source.getToken(), { code: 'ERR_TOKEN_EXPIRED' });
  });

  it('expiresIn of 1 s or less is served: the whole-second margin is kept below the lifetime', async () => {
    for (const [expiresIn, expiresAt] of [
      [1, START + 500],
      [0.5, START + 250],
      [2, START + 1000],
    ] as const) {
      const { source } = harness(() => ({ token: 'opaque', expiresIn }));
      assert.equal(await source.getToken(), 'opaque', `expiresIn ${expiresIn}`);
      assert.equal(source.expiresAt?.getTime(), expiresAt, `expiresIn ${expiresIn}: at most half the lifetime is given up`);
    }
    const negative = harness(() => ({ token: 'opaque', expiresIn: -5 }));
    await assert.rejects(negative.source.getToken(), { code: 'ERR_TOKEN_EXPIRED' });
  });

  it('a fetch that returns "Bearer x", a number or an empty string → ERR_TOKEN_SOURCE_FAILED without the value', async () => {
    for (const bad of ['Bearer secret-token-value', 42, '', 'has space', { token: 'x', expiresIn: 'soon' }]) {
      const { source } = harness(() => bad as never);
      await assert.rejects(
        source.getToken(),
        (error: Error & { code?: string }) => error.code === 'ERR_TOKEN_SOURCE_FAILED' && !error.message.includes('secret-token-value'),
      );
    }
  });
});

describe('cachedToken: the clock option', () => {
  it('a reading that is not milliseconds since the epoch (seconds, NaN, a throw) → ERR_TOKEN_SOURCE_FAILED, not a token kept 1000× its life or a fetch per call', async () => {
    const clocks: ReadonlyArray<readonly [string, () => number]> = [
      ['seconds', () => START / 1000],
      ['performance.now', () => 12_345.6],
      ['NaN', () => Number.NaN],
      [
        'a throw',
        () => {
          throw new Error('clock broke');
        },
      ],
    ];
    for (const [name, clock] of clocks) {
      let fetches = 0;
      const source = cachedToken(
        () => {
          fetches += 1;
          return { token: 'opaque', expiresIn: 60 };
        },
        { clock },
      );
      for (let call = 0; call < 3; call++) {
        await assert.rejects(source.getToken(), { name: 'TokenError', code: 'ERR_TOKEN_SOURCE_FAILED', retryable: false }, name);
      }
      assert.ok(fetches <= 1, `${name}: ${fetches} fetches for 3 calls`);
    }
  });
});

describe('cachedToken: the function it caches', () => {
  it('is the function a token source takes: synchronous or async, returning a string or { token, expiresIn }', async () => {
    const fn: TokenFunction = () => ({ token: 'opaque', expiresIn: 60 });
    const source = cachedToken(fn, { clock: () => START });
    assert.equal(await source.getToken(), 'opaque');
    const direct: TokenSource = fn;
    assert.equal(typeof direct, 'function');
    assert.equal(await cachedToken(() => jwt(START / 1000 + 60, 'sync'), { clock: () => START }).getToken(), jwt(START / 1000 + 60, 'sync'));
  });
});

describe('cachedToken: single flight', () => {
  it('1,000 concurrent calls with no token → one fetch, one token for all', async () => {
    const { state, source } = harness(async (n, now) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return jwt(now / 1000 + 60, `t${n}`);
    });
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => source.getToken()));
    assert.equal(state.fetches, 1);
    assert.equal(new Set(tokens).size, 1);
  });

  it('1,000 concurrent calls at the refresh point → one background fetch; all served at once', async () => {
    const { state, source, advance } = harness(lasting(60));
    const first = await source.getToken();
    advance(57);
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => source.getToken()));
    await settle();
    assert.equal(state.fetches, 2);
    assert.deepEqual(new Set(tokens), new Set([first]));
  });

  it('forced refresh: 100 concurrent refresh(rejected) → one fetch; a refresh of a token already replaced does not fetch', async () => {
    const { state, source } = harness(lasting(3600));
    const first = await source.getToken();
    const fresh = await Promise.all(Array.from({ length: 100 }, () => source.refresh(first)));
    assert.equal(state.fetches, 2);
    assert.equal(new Set(fresh).size, 1);
    assert.notEqual(fresh[0], first);
    assert.equal(await source.refresh(first), fresh[0], 'late callers get the replacement');
    assert.equal(state.fetches, 2);
  });
});

describe('cachedToken: failures and back-off', () => {
  it('a failed fetch is not repeated before the back-off; calls meanwhile fail fast with the same error', async () => {
    let fail = true;
    const { state, source, advance } = harness((n, now) => {
      if (fail) throw new Error('idp down: secret=hunter2');
      return jwt(now / 1000 + 60, `t${n}`);
    });
    const error = await source.getToken().catch((e: unknown) => e);
    assert.ok(isTokenError(error));
    assert.equal(error.code, 'ERR_TOKEN_SOURCE_FAILED');
    assert.equal(error.message.includes('hunter2'), false, 'the thrown message is kept as the cause only');
    assert.equal((error.cause as Error).message, 'idp down: secret=hunter2');
    await assert.rejects(source.getToken(), (again) => again === error);
    assert.equal(state.fetches, 1);
    fail = false;
    advance(1.01);
    assert.ok(await source.getToken());
    assert.equal(state.fetches, 2);
  });

  it('the back-off doubles with each failure in a row, up to maxBackoff', async () => {
    const { state, source, advance } = harness(
      () => {
        throw new Error('down');
      },
      { minBackoff: 1, maxBackoff: 4 },
    );
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      await source.getToken().catch(() => undefined);
      const before = state.fetches;
      let waited = 0;
      while (state.fetches === before) {
        advance(0.25);
        waited += 0.25;
        await source.getToken().catch(() => undefined);
      }
      waits.push(waited);
    }
    // Each wait lies in [delay/2, delay]: 1, 2, 4, 4, 4.
    const limits = [1, 2, 4, 4, 4];
    waits.forEach((waited, i) => assert.ok(waited >= (limits[i] as number) / 2 && waited <= (limits[i] as number) + 0.25, `wait ${i}: ${waited}`));
  });

  it('a refresh that fails while the old token is valid: the old token keeps being served until it expires', async () => {
    let down = false;
    const { state, source, advance } = harness((n, now) => {
      if (down) throw new Error('down');
      return jwt(now / 1000 + 60, `t${n}`);
    });
    const first = await source.getToken();
    down = true;
    advance(55);
    for (let i = 0; i < 10; i++) {
      assert.equal(await source.getToken(), first);
      await settle();
      advance(0.49);
    }
    assert.ok(state.fetches >= 2, 'refreshes were attempted');
    advance(1);
    await assert.rejects(source.getToken(), { code: 'ERR_TOKEN_SOURCE_FAILED' });
    down = false;
    advance(60);
    assert.notEqual(await source.getToken(), first);
  });

  it('a rejected token is dropped even when the refresh fails', async () => {
    let down = false;
    const { source } = harness((n, now) => {
      if (down) throw new Error('down');
      return jwt(now / 1000 + 3600, `t${n}`);
    });
    const first = await source.getToken();
    down = true;
    await assert.rejects(source.refresh(first));
    await assert.rejects(source.getToken(), 'the rejected token is not served again');
  });
});

describe('cachedToken: options', () => {
  const fetch = async () => 'x';
  const cases: Array<[string, () => unknown, string]> = [
    ['fetch not a function', () => cachedToken('x' as never), 'fetch'],
    ['negative refreshBefore', () => cachedToken(fetch, { refreshBefore: -1 }), 'refreshBefore'],
    ['jitter above 1', () => cachedToken(fetch, { jitter: 2 }), 'jitter'],
    ['assumedLifetime zero', () => cachedToken(fetch, { assumedLifetime: 0 }), 'assumedLifetime'],
    ['maxBackoff below minBackoff', () => cachedToken(fetch, { minBackoff: 10, maxBackoff: 5 }), 'maxBackoff'],
    ['clock not a function', () => cachedToken(fetch, { clock: 5 as never }), 'clock'],
    ['misspelt option', () => cachedToken(fetch, { refreshBfore: 5 } as never), 'refreshBfore'],
  ];
  for (const [name, create, option] of cases) {
    it(`${name} → AuthConfigError naming ${option}`, () => {
      assert.throws(create, (error: { code?: string; option?: string }) => error.code === 'ERR_AUTH_INVALID_OPTION' && error.option === option);
    });
  }
});
