/**
 * A key resolver around another that counts its lookups: a lookup means a full verification, a cache
 * hit makes none. `answer: 'promise'` answers every lookup with a promise, as a remote resolver may.
 */
import type { KeyResolver } from '../../src/index.ts';

export function countingKeys(inner: KeyResolver, answer: 'as-is' | 'promise' = 'as-is'): KeyResolver & { lookups: number } {
  const wrapper = {
    lookups: 0,
    kind: inner.kind,
    description: inner.description,
    checkAlgorithms: (algorithms: readonly string[], option: string) => inner.checkAlgorithms(algorithms, option),
    getKeys: (lookup: Parameters<KeyResolver['getKeys']>[0]) => {
      wrapper.lookups += 1;
      const keys = inner.getKeys(lookup);
      return answer === 'promise' ? Promise.resolve(keys) : keys;
    },
    holds: (key: Parameters<KeyResolver['holds']>[0]) => inner.holds(key),
  };
  return wrapper;
}
