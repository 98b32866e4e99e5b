/**
 * makeRoom (src/util/map-eviction.ts): the batched oldest-first eviction shared by the verified-token
 * cache, the DPoP proof-key cache, the unknown-kid memory and the client's DPoP nonces. These tests pin
 * the bound (never above maxSize after a set), the batch (the excess + 1% of the bound), the order (the
 * oldest go, a just-used entry survives) and what a flood of new keys can flush.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyObject } from 'node:crypto';
import { makeRoom } from '../../src/util/map-eviction.ts';
import { TokenCache } from '../../src/verify/token-cache.ts';
import { DpopKeyCache } from '../../src/verify/dpop-key-cache.ts';
import { MAX_REMEMBERED_KIDS, UnknownKids } from '../../src/keys/unknown-kids.ts';
import { nonceFor, rememberNonce } from '../../src/client/dpop-nonces.ts';
import { createDpopKey } from '../../src/client/index.ts';
import type { KeyResolver } from '../../src/keys/resolver.ts';

/** The callers' pattern: forget the key, make room, insert it as the most recent. */
function put(map: Map<number, number>, key: number, maxSize: number): void {
  map.delete(key);
  makeRoom(map, maxSize);
  map.set(key, key);
}

describe('makeRoom', () => {
  for (const maxSize of [1, 2, 99, 100, 101, 1000]) {
    it(`maxSize ${maxSize}: never above the bound after a set, keeps only the most recent keys, and keeps at least the bound minus 1%`, () => {
      const map = new Map<number, number>();
      const floor = maxSize - Math.floor(maxSize / 100);
      for (let key = 0; key < 5 * maxSize + 3; key++) {
        put(map, key, maxSize);
        assert.ok(map.size <= maxSize, `size ${map.size} after key ${key}`);
        if (key >= maxSize) assert.ok(map.size >= floor, `size ${map.size} after key ${key}`);
        // What is held is exactly the newest map.size keys, oldest first.
        assert.deepEqual(
          [...map.keys()],
          Array.from({ length: map.size }, (_, i) => key - map.size + 1 + i),
        );
      }
    });
  }

  it('a full map loses the excess and 1% of the bound at once (floored): 99 → 1, 100 → 2, 101 → 2, 1000 → 11', () => {
    for (const [maxSize, evicted] of [
      [1, 1],
      [2, 1],
      [99, 1],
      [100, 2],
      [101, 2],
      [1000, 11],
    ] as const) {
      const map = new Map<number, number>();
      for (let key = 0; key < maxSize; key++) map.set(key, key);
      makeRoom(map, maxSize);
      assert.equal(map.size, maxSize - evicted, `maxSize ${maxSize}`);
      assert.equal(map.has(evicted - 1), false);
      if (evicted < maxSize) assert.equal(map.has(evicted), true);
    }
  });

  it('below the bound nothing is deleted', () => {
    const map = new Map([
      [1, 1],
      [2, 2],
    ]);
    makeRoom(map, 3);
    assert.deepEqual([...map.keys()], [1, 2]);
    makeRoom(new Map(), 1);
  });

  it('an overfull map (more than maxSize entries) is brought down to maxSize − 1 − 1% in one call', () => {
    const map = new Map<number, number>();
    for (let key = 0; key < 250; key++) map.set(key, key);
    makeRoom(map, 100);
    assert.equal(map.size, 98);
    assert.equal([...map.keys()][0], 152);
  });

  it('a just-used entry (moved to the end) survives a batch; the oldest unused ones go', () => {
    const map = new Map<number, number>();
    for (let key = 0; key < 1000; key++) map.set(key, key);
    put(map, 0, 1000); // a hit: re-inserted as the most recent
    put(map, 1000, 1000);
    assert.equal(map.has(0), true);
    for (let key = 1; key <= 11; key++) assert.equal(map.has(key), false, `key ${key}`);
    assert.equal(map.has(12), true);
  });

  it('deleting while iterating skips no live entry, also across deleted slots and table shrinks', () => {
    const map = new Map<number, number>();
    for (let key = 0; key < 10_000; key++) map.set(key, key);
    // Leave holes everywhere and enough deletions that V8 shrinks (rehashes) the table mid-batch.
    for (let key = 0; key < 10_000; key += 2) map.delete(key);
    for (let key = 1; key < 9000; key += 4) map.delete(key);
    const live = [...map.keys()];
    makeRoom(map, live.length);
    const batch = 1 + Math.floor(live.length / 100);
    assert.deepEqual([...map.keys()], live.slice(batch));
    makeRoom(map, 10);
    assert.deepEqual([...map.keys()], live.slice(live.length - 9));
  });
});

describe('makeRoom at its call sites: never above the bound after a set', () => {
  const holdsAll = { holds: () => true } as unknown as KeyResolver;
  const verified = { key: {} as never, keys: holdsAll, usableFrom: Number.NEGATIVE_INFINITY, usableUntil: Number.POSITIVE_INFINITY };

  it('token cache, maxEntries 1: each new token replaces the last; a re-set token evicts nothing', () => {
    const cache = new TokenCache({ maxEntries: 1 });
    cache.set('a', verified, 0);
    cache.set('a', verified, 0);
    assert.equal(cache.size, 1);
    assert.ok(cache.get('a', 0), 'a held');
    cache.set('b', verified, 0);
    assert.equal(cache.size, 1);
    assert.equal(cache.get('a', 0), undefined);
    assert.ok(cache.get('b', 0), 'b held');
  });

  it('token cache, maxEntries 10,000,000 is accepted and a small load evicts nothing', () => {
    const cache = new TokenCache({ maxEntries: 10_000_000 });
    for (let i = 0; i < 1000; i++) cache.set(`t${i}`, verified, 0);
    assert.equal(cache.size, 1000);
    assert.ok(cache.get('t0', 0), 't0 held');
  });

  it('token cache, maxEntries 100: a re-set of a held token in a full cache evicts nothing', () => {
    const cache = new TokenCache({ maxEntries: 100 });
    for (let i = 0; i < 100; i++) cache.set(`t${i}`, verified, 0);
    cache.set('t0', verified, 0);
    assert.equal(cache.size, 100);
    cache.set('new', verified, 0);
    assert.equal(cache.size, 99);
    assert.equal(cache.get('t1', 0), undefined);
    assert.equal(cache.get('t2', 0), undefined);
    assert.ok(cache.get('t0', 0) && cache.get('t3', 0), 't0 (re-set) and t3 held');
  });

  it('DPoP proof-key cache: at most maxEntries (1, 2, 100, 101) after every set', () => {
    const entry = { jkt: 'x', key: {} as KeyObject, alg: 'ES256' as const };
    for (const maxEntries of [1, 2, 100, 101]) {
      const cache = new DpopKeyCache(maxEntries);
      for (let i = 0; i < 3 * maxEntries + 5; i++) {
        cache.set(`h${i}`, entry);
        assert.ok(cache.size <= maxEntries, `size ${cache.size}, maxEntries ${maxEntries}`);
        if (i >= maxEntries) assert.ok(cache.size >= maxEntries - Math.floor(maxEntries / 100), `size ${cache.size}`);
        assert.ok(cache.get(`h${i}`) !== undefined, 'the header just set is held');
      }
    }
  });

  it('client DPoP nonces: a used origin survives a flood of new origins longer than unused ones', async () => {
    const key = await createDpopKey();
    for (let i = 0; i < 100; i++) rememberNonce(key, `https://o${i}.example`, `n${i}`);
    for (let i = 100; i < 400; i++) {
      assert.equal(nonceFor(key, 'https://o0.example'), 'n0');
      rememberNonce(key, `https://o${i}.example`, `n${i}`);
      assert.equal(nonceFor(key, `https://o${i}.example`), `n${i}`);
    }
    assert.equal(nonceFor(key, 'https://o100.example'), undefined);
    assert.equal(nonceFor(key, 'https://o399.example'), 'n399');
  });

  it(`unknown kids: a flood of forged kids flushes a remembered kid after between ${MAX_REMEMBERED_KIDS} − 1% and ${MAX_REMEMBERED_KIDS} new kids (one-by-one took exactly ${MAX_REMEMBERED_KIDS})`, () => {
    // The worst case for the defender: the remembered kid is the newest entry of a full memory.
    let fewest = Infinity;
    let most = 0;
    for (let offset = 0; offset < 12; offset++) {
      const unknown = new UnknownKids();
      for (let i = 0; i < MAX_REMEMBERED_KIDS + offset; i++) unknown.remember(`forged-${i}`, 60_000);
      unknown.remember('victim', 60_000);
      let flood = 0;
      while (unknown.has('victim', 0)) {
        unknown.remember(`flood-${flood}`, 60_000);
        flood += 1;
        assert.ok(unknown.size <= MAX_REMEMBERED_KIDS, `size ${unknown.size}`);
      }
      fewest = Math.min(fewest, flood);
      most = Math.max(most, flood);
    }
    assert.equal(fewest, MAX_REMEMBERED_KIDS - Math.floor(MAX_REMEMBERED_KIDS / 100));
    assert.equal(most, MAX_REMEMBERED_KIDS);
  });

  it('the batch is capped at 1,024 beyond the excess: a bound of 200,000 never deletes 2,000 entries on one insert', () => {
    const map = new Map<number, number>();
    for (let i = 0; i < 200_000; i++) map.set(i, i);
    makeRoom(map, 200_000);
    assert.equal(map.size, 200_000 - 1 - 1024, 'the excess (1) and the capped batch');
    assert.equal(map.has(1024), false, 'the oldest went');
    assert.equal(map.has(1025), true, 'no more than the batch');
  });
});
