import { AuthConfigError } from '../errors/config-error.ts';
import { isRecord } from '../util/option-checks.ts';
import { KeySet, checkAlgorithmsServed, keyNotFound } from './key-set.ts';
import type { KeyLookup, KeyResolver, VerificationKey } from './resolver.ts';

/**
 * A resolver over a fixed set of keys (secrets, PEM keys, a local JWKS). Lookups are synchronous: a
 * call never waits on anything but the signature check.
 *
 * @example
 * ```ts
 * const resolver = new StaticKeyResolver('public', 'fromJwks(2 keys)', importJwks(jwks).keys);
 * ```
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

/** How {@link keysByKid} reads one kind of key. */
interface KeyInputSpec<T> {
  /** The option name in errors, e.g. `secret`. */
  readonly option: string;
  /** What one key is, for errors, e.g. `a string or a Uint8Array`. */
  readonly expected: string;
  /** Whether a value is one key (as opposed to a map of them). */
  readonly isKey: (value: unknown) => value is T;
  /** Turns one key into a verification key; throws an AuthConfigError naming `option` if it is unusable. */
  readonly build: (value: T, kid: string | undefined, option: string) => VerificationKey;
}

/**
 * The keys of the "one key, or a map of keys by kid" argument of {@link fromSecret} and {@link fromPem}.
 * A map is read through its own keys only, so a map built from untrusted JSON cannot smuggle in
 * inherited entries; every mistake names the entry, e.g. `pem["2026-11"]`.
 *
 * @example
 * ```ts
 * const keys = keysByKid(pem, { option: 'pem', expected: 'a PEM string', isKey: isPem, build: (value, kid, option) => toKey(value, kid, option) });
 * ```
 */
export function keysByKid<T>(input: unknown, spec: KeyInputSpec<T>): VerificationKey[] {
  if (spec.isKey(input)) return [spec.build(input, undefined, spec.option)];
  if (!isRecord(input)) throw new AuthConfigError(spec.option, `expected ${spec.expected}, or a map of them by kid`);
  const kids = Object.keys(input);
  if (kids.length === 0) throw new AuthConfigError(spec.option, 'the map of keys by kid is empty');
  return kids.map((kid) => {
    const option = `${spec.option}[${JSON.stringify(kid)}]`;
    const value = input[kid];
    if (kid === '') throw new AuthConfigError(option, 'a kid must not be empty');
    if (!spec.isKey(value)) throw new AuthConfigError(option, `expected ${spec.expected}`);
    return spec.build(value, kid, option);
  });
}
