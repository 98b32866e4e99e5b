import { KeySet, checkAlgorithmsServed, keyNotFound } from './key-set.ts';
import type { KeyLookup, KeyResolver, VerificationKey } from './resolver.ts';

/**
 * A resolver over a fixed set of keys (secrets, PEM keys, a local JWKS). Lookups are synchronous: a
 * call never waits on anything but the signature check.
 */
export class StaticKeyResolver implements KeyResolver {
  readonly #set: KeySet;

  constructor(
    readonly kind: 'secret' | 'public',
    readonly description: string,
    keys: readonly VerificationKey[],
  ) {
    this.#set = new KeySet(keys);
  }

  checkAlgorithms(algorithms: readonly string[], option: string): void {
    checkAlgorithmsServed(this.#set.keys, algorithms, option, this.description);
  }

  getKeys(lookup: KeyLookup): readonly VerificationKey[] {
    // Every key is the user's own, so trying each one that fits a kid-less token is bounded by config.
    const found = this.#set.find(lookup, this.#set.size);
    if (found.length === 0) throw keyNotFound(lookup, this.description);
    return found;
  }

  holds(key: VerificationKey): boolean {
    return this.#set.has(key);
  }
}

/**
 * Normalizes the "one key or a map by kid" argument of {@link fromSecret} and {@link fromPem}. A map uses
 * own keys only, so a map built from untrusted JSON cannot smuggle in inherited entries.
 */
export function entriesByKid<T>(input: T | Readonly<Record<string, T>>, isSingle: (value: unknown) => value is T): Array<[string | undefined, T]> {
  if (isSingle(input)) return [[undefined, input]];
  return Object.keys(input as object).map((kid) => [kid, (input as Record<string, T>)[kid] as T]);
}
