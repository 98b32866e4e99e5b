/**
 * RefreshingCache ages what it holds on "the clock plus every step back it has taken", so a wall clock
 * stepped back never stretches the fresh and stale-if-error windows. Attacks on that aging clock: the
 * same reading twice, many tiny steps back (jitter), a step back then forward again, the instants
 * status() reports, the failed event's staleUntil, the retry after a step back, and a value loaded
 * after a step. The loader is a plain function (no network): this is the cache's arithmetic alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CachePolicy } from '../../src/keys/key-cache-policy.ts';
import { RefreshingCache, type Loaded } from '../../src/keys/refreshing-cache.ts';

const SECOND = 1000;
const MAX_AGE = 60 * SECOND;
const STALE = 120 * SECOND;

interface Rig {
  readonly cache: RefreshingCache<string>;
  readonly failed: Array<{ staleUntil: Date | undefined; retryAt: Date }>;
  now(): number;
  step(ms: number): void;
  /** The loader's next answer: a value, or a failure. */
  answer(next: 'ok' | 'fail'): void;
}

function rig(): Rig {
  let time = Date.UTC(2026, 0, 1);
  let next: 'ok' | 'fail' = 'ok';
  const failed: Rig['failed'] = [];
  const policy: CachePolicy = {
    timeoutMs: 1000,
    maxBytes: 1024,
    defaultMaxAgeMs: MAX_AGE,
    minMaxAgeMs: 0,
    maxMaxAgeMs: MAX_AGE,
    // A cooldown long enough that no retry timer fires while a test runs.
    cooldownMs: 3_600_000,
    staleIfErrorMs: STALE,
    allowInsecureHttp: false,
    onEvent: undefined,
    clock: () => time,
  };
  const load = async (): Promise<Loaded<string>> => {
    if (next === 'fail') throw new Error('HTTP 503');
    return { value: 'keys', maxAgeMs: MAX_AGE };
  };
  const cache = new RefreshingCache(
    load,
    policy,
    { loaded: () => undefined, failed: (_error, _trigger, staleUntil, retryAt) => void failed.push({ staleUntil, retryAt }) },
    'test',
  );
  return {
    cache,
    failed,
    now: () => time,
    step: (ms) => {
      time += ms;
    },
    answer: (answer) => {
      next = answer;
    },
  };
}

describe('RefreshingCache: the aging clock under clock steps', () => {
  it('the same reading many times (a clock that does not move) → no drift: fresh until exactly fetch + max-age', async () => {
    const r = rig();
    try {
      await r.cache.refresh('initial');
      const fetched = r.now();
      for (let i = 0; i < 10_000; i += 1) r.cache.held();
      assert.equal(r.cache.snapshot().freshUntil?.getTime(), fetched + MAX_AGE);
      r.step(MAX_AGE - 1);
      assert.equal(r.cache.snapshot().state, 'fresh');
    } finally {
      r.cache.close();
    }
  });

  it('jitter: 1,000 steps of 1 ms back and forth → the entry ages by exactly the 1,000 ms stepped back, no more (bounded by the sum of the steps back)', async () => {
    const r = rig();
    try {
      await r.cache.refresh('initial');
      const fetched = r.now();
      for (let i = 0; i < 1000; i += 1) {
        r.step(-1);
        r.cache.held();
        r.step(1);
        r.cache.held();
      }
      assert.equal(r.now(), fetched);
      // Against the clock, the entry is 1 s older than it is: fresh 59 s more, not 60.
      assert.equal(r.cache.snapshot().freshUntil?.getTime(), fetched + MAX_AGE - 1000);
      r.step(MAX_AGE - 1001);
      assert.equal(r.cache.snapshot().state, 'fresh');
      r.step(1);
      assert.equal(r.cache.snapshot().state, 'stale');
    } finally {
      r.cache.close();
    }
  });

  it('a step back of 1 h then forward 1 h (a bad correction undone) → held keys expire 1 h early: errs on refetching, never on trust', async () => {
    const r = rig();
    try {
      await r.cache.refresh('initial');
      r.step(-3_600_000);
      assert.equal(r.cache.held(), 'keys'); // seen: the step back is counted
      r.step(3_600_000);
      // The clock reads the fetch instant again, but the entry has aged the hour the clock spent behind.
      assert.equal(r.cache.held(), undefined);
      assert.equal(r.cache.snapshot().state, 'expired');
    } finally {
      r.cache.close();
    }
  });

  it('a step back unseen (no reading while the clock was behind) → no early expiry', async () => {
    const r = rig();
    try {
      await r.cache.refresh('initial');
      r.step(-3_600_000);
      r.step(3_600_000);
      assert.equal(r.cache.snapshot().state, 'fresh');
    } finally {
      r.cache.close();
    }
  });

  it('status instants after a step back → on the clock as it reads now: the windows left are those left by elapsed time', async () => {
    const r = rig();
    try {
      await r.cache.refresh('initial');
      r.step(30 * SECOND);
      r.cache.held();
      r.step(-3_600_000);
      const snapshot = r.cache.snapshot();
      assert.equal((snapshot.fetchedAt?.getTime() ?? 0) - r.now(), -30 * SECOND);
      assert.equal((snapshot.freshUntil?.getTime() ?? 0) - r.now(), 30 * SECOND);
      assert.equal((snapshot.usableUntil?.getTime() ?? 0) - r.now(), 30 * SECOND + STALE);
      assert.equal(snapshot.state, 'fresh');
    } finally {
      r.cache.close();
    }
  });

  it('the failed event after a step back → staleUntil is on the clock as it reads now (the stale window left by elapsed time)', async () => {
    const r = rig();
    try {
      await r.cache.refresh('initial');
      r.step(MAX_AGE + 10 * SECOND);
      r.cache.held();
      r.step(-3_600_000);
      r.answer('fail');
      await assert.rejects(r.cache.refresh('expired'), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      const event = r.failed.at(-1);
      assert.equal((event?.staleUntil?.getTime() ?? 0) - r.now(), STALE - 10 * SECOND);
      assert.equal(r.cache.snapshot().usableUntil?.getTime(), event?.staleUntil?.getTime());
    } finally {
      r.cache.close();
    }
  });

  it('a failure then a step back → the retry is due at once (not after the step), and mayFetch says so', async () => {
    const r = rig();
    try {
      r.answer('fail');
      await assert.rejects(r.cache.refresh('initial'));
      assert.equal(r.cache.mayFetch(), false);
      r.step(-3_600_000);
      assert.equal(r.cache.mayFetch(), true);
      assert.equal(r.cache.snapshot().retryAt?.getTime(), r.now());
      r.answer('ok');
      assert.equal(await r.cache.refresh('retry'), 'keys');
    } finally {
      r.cache.close();
    }
  });

  it('a value loaded after a step back → fresh for its full max-age from the load (the step only aged what was held before)', async () => {
    const r = rig();
    try {
      await r.cache.refresh('initial');
      r.cache.held();
      r.step(-3_600_000);
      r.cache.held();
      await r.cache.refresh('expired');
      const loaded = r.now();
      assert.equal(r.cache.snapshot().freshUntil?.getTime(), loaded + MAX_AGE);
      r.step(MAX_AGE - 1);
      assert.equal(r.cache.snapshot().state, 'fresh');
    } finally {
      r.cache.close();
    }
  });
});
