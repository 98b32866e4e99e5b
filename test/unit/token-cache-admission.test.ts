/**
 * The verified-token cache's admission policy (src/verify/token-cache.ts, 2Q): new tokens enter a
 * probation segment, a second call promotes them to a protected one, tokens that left probation unused
 * leave a fingerprint (a ghost) that admits them straight into protected when verified again. These
 * tests pin what the policy promises: a token's second call is a hit, a flood of one-shot tokens never
 * evicts a protected token, `maxEntries` bounds both segments together, and time limits and deletes
 * apply in either segment.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenCache, type CacheEntry } from '../../src/verify/token-cache.ts';
import type { KeyResolver } from '../../src/keys/resolver.ts';

const holdsAll = { holds: () => true } as unknown as KeyResolver;
const entry = (usableUntil = Number.POSITIVE_INFINITY): CacheEntry => ({
  key: {} as CacheEntry['key'],
  keys: holdsAll,
  usableFrom: Number.NEGATIVE_INFINITY,
  usableUntil,
});

/** `count` tokens never seen before, each set once (as a fresh verification does) and never asked for again. */
let floods = 0;
function flood(cache: TokenCache<CacheEntry>, count: number, now = 0): void {
  floods += 1;
  for (let i = 0; i < count; i++) cache.set(`one-shot-${floods}-${i}`, entry(), now);
}

/** A token as a caller uses it: the first call misses and stores it, the second one hits. */
function useTwice(cache: TokenCache<CacheEntry>, token: string, now = 0): void {
  if (cache.get(token, now) === undefined) cache.set(token, entry(), now);
  assert.ok(cache.get(token, now), `${token}: the second call is a hit`);
}

describe('TokenCache admission (probation, protected, ghosts)', () => {
  it('a flood of one-shot tokens never evicts a token that was used again', () => {
    const cache = new TokenCache({ maxEntries: 100 });
    const hot = Array.from({ length: 80 }, (_, i) => `hot-${i}`);
    for (const token of hot) useTwice(cache, token);
    flood(cache, 10_000);
    assert.ok(cache.size <= 100);
    for (const token of hot) assert.ok(cache.get(token, 0), `${token} survived the flood`);
  });

  it('a token used once is gone after a flood; its second call (a hit in probation) promotes it', () => {
    const cache = new TokenCache({ maxEntries: 100 });
    cache.set('once', entry(), 0);
    cache.set('twice', entry(), 0);
    assert.ok(cache.get('twice', 0), 'the second call is a hit');
    flood(cache, 1000);
    assert.equal(cache.get('once', 0), undefined, 'never used again: evicted by new tokens');
    assert.ok(cache.get('twice', 0), 'promoted: new tokens cannot evict it');
  });

  it('a token that left probation unused goes straight to protected when verified again (its ghost)', () => {
    const cache = new TokenCache({ maxEntries: 100 });
    cache.set('slow', entry(), 0);
    flood(cache, 150);
    assert.equal(cache.get('slow', 0), undefined, 'pushed out of probation before its second call');
    cache.set('slow', entry(), 0); // verified again
    flood(cache, 1000);
    assert.ok(cache.get('slow', 0), 'admitted into protected by its ghost');
    cache.set('stranger', entry(), 0);
    flood(cache, 1000);
    assert.equal(cache.get('stranger', 0), undefined, 'without a ghost a new token stays in probation');
  });

  it('the ghost memory is bounded: a token gone long ago starts in probation again', () => {
    const cache = new TokenCache({ maxEntries: 10 });
    cache.set('ancient', entry(), 0);
    flood(cache, 100); // 90 or more fingerprints after its own: more than two generations of 10
    cache.set('ancient', entry(), 0);
    flood(cache, 100);
    assert.equal(cache.get('ancient', 0), undefined);
  });

  it("protected's least recently used moves back to probation, not out", () => {
    const cache = new TokenCache({ maxEntries: 10 }); // probation 8 at least, protected 2
    for (const token of ['a', 'b', 'c']) cache.set(token, entry(), 0);
    assert.ok(cache.get('a', 0) && cache.get('b', 0), 'a and b promoted');
    assert.ok(cache.get('a', 0), 'a used again: b is the least recently used');
    assert.ok(cache.get('c', 0), 'c promoted: protected is full, b moves to probation');
    assert.equal(cache.size, 3);
    flood(cache, 50);
    assert.equal(cache.get('b', 0), undefined, 'b was in probation and new tokens pushed it out');
    assert.ok(cache.get('a', 0) && cache.get('c', 0));
  });

  for (const maxEntries of [1, 2, 3, 10, 1000]) {
    it(`maxEntries ${maxEntries}: never above the bound, and a token's second call is a hit`, () => {
      const cache = new TokenCache({ maxEntries });
      const reused = Array.from({ length: Math.max(2, Math.floor(maxEntries / 2)) }, (_, i) => `reused-${i}`);
      let seed = 1;
      for (let i = 0; i < 20 * maxEntries + 200; i++) {
        seed = (Math.imul(seed, 48271) >>> 0) % 2147483647;
        const choice = seed % 10;
        const token = choice < 5 ? (reused[seed % reused.length] as string) : `new-${i}`;
        if (choice === 9) cache.delete(token);
        else if (cache.get(token, 0) === undefined) {
          cache.set(token, entry(), 0);
          assert.ok(cache.get(token, 0), `${token}: hit right after it was stored`);
        }
        assert.ok(cache.size <= maxEntries, `size ${cache.size} after step ${i}`);
      }
    });
  }

  it('maxEntries 1: one token at a time, each one served on its second call', () => {
    const cache = new TokenCache({ maxEntries: 1 });
    useTwice(cache, 'a');
    useTwice(cache, 'a');
    cache.set('b', entry(), 0);
    assert.equal(cache.size, 1);
    assert.equal(cache.get('a', 0), undefined);
    assert.ok(cache.get('b', 0));
  });

  it('maxTtl and the token window bound an entry in probation, in protected and when a ghost admits it', () => {
    const cache = new TokenCache({ maxEntries: 100, maxTtl: 10 });
    cache.set('in-probation', entry(), 0);
    cache.set('in-protected', entry(), 0);
    assert.ok(cache.get('in-protected', 0));
    cache.set('short-protected', entry(5), 0);
    assert.ok(cache.get('short-protected', 0));
    cache.set('ghost', entry(), 0);
    flood(cache, 150);
    cache.set('ghost', entry(), 20); // admitted by its ghost at 20: maxTtl counts from there
    assert.equal(cache.get('short-protected', 5), undefined, 'usableUntil in protected');
    assert.ok(cache.get('in-protected', 9.999));
    assert.equal(cache.get('in-protected', 10), undefined, 'maxTtl in protected');
    assert.ok(cache.get('ghost', 29.999));
    assert.equal(cache.get('ghost', 30), undefined, 'maxTtl of a ghost admission');

    const fresh = new TokenCache({ maxEntries: 100, maxTtl: 10 });
    fresh.set('in-probation', entry(), 0);
    assert.equal(fresh.get('in-probation', 10), undefined, 'maxTtl in probation');
    assert.equal(fresh.size, 0, 'an expired entry is dropped when asked for');
    fresh.set('later', entry(), 0);
    assert.ok(fresh.get('later', 9.999), 'a hit just before maxTtl');
  });

  it('an entry not yet usable (usableFrom) or whose key left the key set is dropped from either segment', () => {
    const cache = new TokenCache({ maxEntries: 100 });
    let held = true;
    const keys = { holds: () => held } as unknown as KeyResolver;
    cache.set('p', { ...entry(), keys }, 0);
    cache.set('q', { ...entry(), keys }, 0);
    assert.ok(cache.get('q', 0), 'q promoted');
    held = false;
    assert.equal(cache.get('p', 0), undefined);
    assert.equal(cache.get('q', 0), undefined);
    assert.equal(cache.size, 0);
    cache.set('future', { ...entry(), usableFrom: 50 }, 0);
    assert.equal(cache.get('future', 49), undefined);
    assert.equal(cache.size, 0);
  });

  it('delete drops a token from either segment, and size counts both', () => {
    const cache = new TokenCache({ maxEntries: 100 });
    cache.set('probation', entry(), 0);
    cache.set('protected', entry(), 0);
    assert.ok(cache.get('protected', 0));
    assert.equal(cache.size, 2);
    cache.delete('probation');
    assert.equal(cache.size, 1);
    cache.delete('protected');
    assert.equal(cache.size, 0);
    assert.equal(cache.get('probation', 0), undefined);
    assert.equal(cache.get('protected', 0), undefined);
    cache.delete('never-stored');
    assert.equal(cache.size, 0);
  });

  it('a token verified again while protected stays protected, with its new entry', () => {
    const cache = new TokenCache({ maxEntries: 100, maxTtl: 10 });
    useTwice(cache, 'again');
    cache.set('again', entry(), 5);
    flood(cache, 1000, 5);
    assert.ok(cache.get('again', 14.999), 'the new entry, still protected');
  });
});
