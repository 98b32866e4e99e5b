/**
 * Review of the verified-token cache's 2Q admission (src/verify/token-cache.ts): random get/set/delete
 * sequences from a seeded generator against a model (size bound, a hit only for the exact string last
 * stored and only while usable), each time limit on each path (probation hit, protected hit, ghost
 * admission, demoted entry), deletes around promotion, the same token stored twice, fingerprint
 * collisions, the ghost memory's bound, and what a flood of tokens each used twice costs a hot set.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenCache, type CacheEntry } from '../../src/verify/token-cache.ts';
import type { KeyResolver, VerificationKey } from '../../src/keys/resolver.ts';

/** mulberry32: a small seeded generator, so a failing sequence replays exactly. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A key set whose keys can be dropped one by one (a rotation). */
function keySet() {
  const dropped = new Set<VerificationKey>();
  const keys = { holds: (key: VerificationKey) => !dropped.has(key) } as unknown as KeyResolver;
  return { keys, drop: (key: VerificationKey) => dropped.add(key) };
}

const newKey = (): VerificationKey => ({}) as VerificationKey;
const plain = { holds: () => true } as unknown as KeyResolver;
const entry = (usableUntil = Number.POSITIVE_INFINITY, usableFrom = Number.NEGATIVE_INFINITY, keys = plain, key = newKey()): CacheEntry => ({
  key,
  keys,
  usableFrom,
  usableUntil,
});

let counter = 0;
function flood(cache: TokenCache<CacheEntry>, count: number, now = 0): void {
  counter += 1;
  for (let i = 0; i < count; i++) cache.set(`flood-${counter}-${i}`, entry(), now);
}

/** Promotes `token` to protected: stored, then a second call. */
function protect(cache: TokenCache<CacheEntry>, token: string, value: CacheEntry, now = 0): void {
  cache.set(token, value, now);
  assert.equal(cache.get(token, now), value);
}

/** Leaves a ghost for `token`: stored, then pushed out of probation unused by `maxEntries` new tokens. */
function ghost(cache: TokenCache<CacheEntry>, token: string, maxEntries: number, now = 0): void {
  cache.set(token, entry(), now);
  flood(cache, maxEntries, now);
  assert.equal(cache.get(token, now), undefined, `${token} left probation`);
}

const BOUNDS = [1, 2, 3, 7, 8, 9, 10, 11, 100];

describe('TokenCache review: random sequences against a model', () => {
  for (const maxEntries of BOUNDS) {
    it(`maxEntries ${maxEntries}: size never above the bound; a hit only for the exact string last stored, only while usable; a store then a get hits`, () => {
      const random = generator(0x5eed + maxEntries);
      const maxTtl = 50;
      const cache = new TokenCache<CacheEntry>({ maxEntries, maxTtl });
      const { keys, drop } = keySet();
      // Tokens sharing their last 12 characters in pairs: fingerprint collisions on purpose.
      const pool = Array.from({ length: maxEntries * 3 + 6 }, (_, i) => `${i}.${'x'.repeat(i % 3)}.sig-${String(i >> 1).padStart(8, '0')}`);
      const model = new Map<string, { value: CacheEntry; evictAt: number }>();
      const heldKeys: VerificationKey[] = [];
      let now = 1000;
      for (let step = 0; step < 20_000; step++) {
        const token = pool[Math.floor(random() * pool.length)] as string;
        const roll = random();
        if (roll < 0.4) {
          const key = newKey();
          heldKeys.push(key);
          const value = entry(now + 1 + random() * 100, now - random() * 10, keys, key);
          cache.set(token, value, now);
          model.set(token, { value, evictAt: Math.min(value.usableUntil, now + maxTtl) });
          if (random() < 0.3) assert.equal(cache.get(token, now), value, `step ${step}: a store then a get hits`);
        } else if (roll < 0.85) {
          const hit = cache.get(token, now);
          if (hit !== undefined) {
            const expected = model.get(token);
            assert.ok(expected !== undefined, `step ${step}: hit for ${token}, never stored or deleted`);
            assert.equal(hit, expected.value, `step ${step}: hit is the entry last stored for ${token}`);
            assert.ok(now < expected.evictAt && now >= hit.usableFrom && hit.keys.holds(hit.key), `step ${step}: hit while usable`);
          }
        } else if (roll < 0.93) {
          cache.delete(token);
          model.delete(token);
        } else if (roll < 0.98) {
          now += random() * 5;
        } else if (heldKeys.length > 0) {
          drop(heldKeys[Math.floor(random() * heldKeys.length)] as VerificationKey);
        }
        assert.ok(cache.size <= maxEntries, `step ${step}: size ${cache.size} > ${maxEntries}`);
      }
    });
  }
});

describe('TokenCache review: time limits and key rotation on every path', () => {
  // maxEntries 20: probation 8, protected 12.
  const paths: Record<string, (cache: TokenCache<CacheEntry>, token: string, value: CacheEntry) => void> = {
    'probation hit': (cache, token, value) => cache.set(token, value, 0),
    'protected hit': (cache, token, value) => protect(cache, token, value),
    'ghost admission': (cache, token, value) => {
      ghost(cache, token, 20);
      cache.set(token, value, 0);
      flood(cache, 30); // it went straight to protected: still there after a flood
      assert.equal(cache.get(token, 0), value);
    },
    'demoted entry': (cache, token, value) => {
      protect(cache, token, value);
      for (let i = 0; i < 12; i++) protect(cache, `${token}-pusher-${i}`, entry());
      assert.equal(cache.size, 13);
    },
  };
  for (const [path, reach] of Object.entries(paths)) {
    it(`${path}: a miss past usableUntil, past maxTtl, before usableFrom and once the key set no longer holds the key`, () => {
      const limits: Array<[string, (keys: KeyResolver, key: VerificationKey) => CacheEntry, number, (drop: () => void) => void]> = [
        ['usableUntil', (keys, key) => entry(10, Number.NEGATIVE_INFINITY, keys, key), 10, () => undefined],
        ['maxTtl', (keys, key) => entry(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, keys, key), 100, () => undefined],
        ['usableFrom', (keys, key) => entry(Number.POSITIVE_INFINITY, 0, keys, key), -1, () => undefined],
        ['keys.holds', (keys, key) => entry(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, keys, key), 0, (drop) => drop()],
      ];
      for (const [limit, make, at, before] of limits) {
        const cache = new TokenCache<CacheEntry>({ maxEntries: 20, maxTtl: 100 });
        const { keys, drop } = keySet();
        const key = newKey();
        const value = make(keys, key);
        reach(cache, 'the-token', value);
        const size = cache.size;
        assert.equal(cache.get('the-token', 0), value, `${path}/${limit}: usable before`);
        before(() => drop(key));
        assert.equal(cache.get('the-token', at), undefined, `${path}/${limit}: a miss`);
        if (limit !== 'usableFrom') assert.equal(cache.size, size - 1, `${path}/${limit}: the dead entry is dropped`);
      }
    });
  }
});

describe('TokenCache review: deletes, repeated stores, collisions, ghosts', () => {
  it('delete right after the promoting hit, after a demotion, and after a ghost admission: a miss; stored again it is a new probation entry', () => {
    const cache = new TokenCache<CacheEntry>({ maxEntries: 20 });
    protect(cache, 'a', entry());
    cache.delete('a');
    assert.equal(cache.get('a', 0), undefined);
    protect(cache, 'b', entry());
    for (let i = 0; i < 12; i++) protect(cache, `pusher-${i}`, entry());
    cache.delete('b');
    assert.equal(cache.get('b', 0), undefined);
    ghost(cache, 'c', 20);
    cache.set('c', entry(), 0);
    cache.delete('c');
    assert.equal(cache.get('c', 0), undefined);
    // A delete is not an eviction: no ghost, so 'a' stored again waits in probation and a flood takes it.
    cache.set('a', entry(), 0);
    flood(cache, 20);
    assert.equal(cache.get('a', 0), undefined);
  });

  it('the same token stored twice (probation, then protected): one slot, the second entry served', () => {
    for (const promoted of [false, true]) {
      const cache = new TokenCache<CacheEntry>({ maxEntries: 20 });
      const first = entry();
      const second = entry();
      if (promoted) protect(cache, 't', first);
      else cache.set('t', first, 0);
      cache.set('t', second, 0);
      assert.equal(cache.size, 1);
      assert.equal(cache.get('t', 0), second);
      if (promoted) {
        flood(cache, 50);
        assert.equal(cache.get('t', 0), second, 'stored again while protected: stays protected');
      }
    }
  });

  it('a token sharing the last 12 characters of a cached or ghost token is a miss: only the exact string hits', () => {
    const cache = new TokenCache<CacheEntry>({ maxEntries: 20 });
    const signature = 'AAAABBBBCCCC';
    cache.set(`header.claims-1.${signature}`, entry(), 0);
    protect(cache, `header.claims-2.${signature}`, entry());
    for (const forged of [`header.claims-3.${signature}`, `header.claims-1.${signature} `, `header.claims-1.${signature.toLowerCase()}`, signature]) {
      assert.equal(cache.get(forged, 0), undefined, forged);
    }
  });

  it('a fingerprint collision admits a one-shot token straight into protected: one protected slot, and the ghost is spent', () => {
    const cache = new TokenCache<CacheEntry>({ maxEntries: 20 });
    ghost(cache, 'victim.claims.AAAABBBBCCCC', 20);
    // Verified once, never used again, but its last 12 characters match the ghost's.
    cache.set('collider.claims.AAAABBBBCCCC', entry(), 0);
    flood(cache, 50);
    assert.ok(cache.get('collider.claims.AAAABBBBCCCC', 0), 'admitted to protected: a flood cannot take it (the cost: one slot)');
    // The ghost went to the collider: the real token, verified again, waits in probation.
    cache.set('victim.claims.AAAABBBBCCCC', entry(), 0);
    flood(cache, 20);
    assert.equal(cache.get('victim.claims.AAAABBBBCCCC', 0), undefined);
  });

  it('ghost memory: a fingerprint is remembered for at least maxEntries later evictions and forgotten after 2 × maxEntries', () => {
    const maxEntries = 50;
    const survives = (evictionsAfter: number): boolean => {
      const cache = new TokenCache<CacheEntry>({ maxEntries });
      ghost(cache, 'slow', maxEntries);
      // `ghost` already evicted ~maxEntries fingerprints after it (the flood, minus what probation holds).
      flood(cache, evictionsAfter);
      cache.set('slow', entry(), 0);
      flood(cache, maxEntries);
      return cache.get('slow', 0) !== undefined;
    };
    assert.equal(survives(0), true, 'fresh ghost: straight to protected');
    assert.equal(survives(maxEntries / 2), true, 'still remembered with fewer than maxEntries evictions after it');
    assert.equal(survives(3 * maxEntries), false, 'after 2 × maxEntries more evictions the ghost is gone (the memory is bounded)');
  });
});

describe('TokenCache review: a flood of tokens each used twice against a hot set', () => {
  /** Rounds of: every hot token called once, then `attackers` new tokens each called twice. Returns the hot misses after warm-up. */
  function hotMisses(maxEntries: number, hot: number, attackers: number, rounds: number): number {
    const cache = new TokenCache<CacheEntry>({ maxEntries });
    let misses = 0;
    let serial = 0;
    for (let round = 0; round < rounds; round++) {
      for (let h = 0; h < hot; h++) {
        const token = `hot-${h}`;
        if (cache.get(token, 0) === undefined) {
          if (round > 1) misses += 1;
          cache.set(token, entry(), 0);
        }
      }
      for (let a = 0; a < attackers; a++) {
        const token = `attacker-${serial++}`;
        cache.set(token, entry(), 0);
        cache.get(token, 0);
      }
      assert.ok(cache.size <= maxEntries);
    }
    return misses;
  }

  it('fewer promotions between two calls of a hot token than half of protected: the hot set never misses', () => {
    // maxEntries 1000: probation 100, protected 900; a hot token is moved to the tail once 450 insertions passed it.
    assert.equal(hotMisses(1000, 100, 400, 30), 0);
  });

  it('a larger flood costs each hot token at most one verification per round, while the attacker pays one per token', () => {
    const rounds = 30;
    const hot = 100;
    const attackers = 5000;
    const misses = hotMisses(1000, hot, attackers, rounds);
    // Pinned, not a defect of 2Q: a hot token called less often than every ~maxEntries promotions is
    // indistinguishable from the attacker's. Bounded: ≤ one miss per hot token per round, i.e. at most
    // hot/attackers = 2% extra verifications on top of the attacker's own.
    assert.ok(misses <= hot * (rounds - 2), `hot misses ${misses}`);
    assert.ok(misses / (attackers * rounds) <= hot / attackers);
  });
});

describe('TokenCache review: loop workloads (a peer idea: Caffeine’s and lru-cache’s looping access tests)', () => {
  it('tokens reused in a loop of up to maxEntries - 1: every call from the second cycle on is a hit, as with plain LRU', () => {
    for (const [maxEntries, loop] of [
      [1000, 500],
      [1000, 999],
      [100, 99],
      [10, 9],
      [2, 1],
    ] as const) {
      const cache = new TokenCache<CacheEntry>({ maxEntries });
      for (let cycle = 0; cycle < 4; cycle++) {
        let hits = 0;
        for (let i = 0; i < loop; i++) {
          const token = `loop-${i}`;
          if (cache.get(token, 0) !== undefined) hits += 1;
          else cache.set(token, entry(), 0);
        }
        assert.equal(hits, cycle === 0 ? 0 : loop, `maxEntries ${maxEntries}, loop ${loop}, cycle ${cycle}`);
      }
    }
  });
});
