import { AuthConfigError } from '../errors/config-error.ts';
import { isRecord } from '../util/option-checks.ts';
import { KeyEvents, type KeysListener } from './key-events.ts';
import { KeySet, checkAlgorithmsServed, keyNotFound } from './key-set.ts';
import { staticStatus, type KeysStatus } from './key-status.ts';
import type { KeyLookup, KeyResolver, VerificationKey } from './resolver.ts';

/**
 * A resolver over a fixed set of keys (secrets, PEM keys, a local JWKS). Lookups are synchronous: a
 * call never waits on anything but the signature check.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import { importJwks } from './jwk.ts';
 * const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
 * const resolver = new StaticKeyResolver('public', 'fromJwks(local, 1 key)', importJwks({ keys: [jwk] }).keys);
 * resolver.getKeys({ alg: 'ES256', kid: undefined }); // [the key], at once
 * ```
 */
export class StaticKeyResolver implements KeyResolver {
  readonly #set: KeySet;
  readonly #status: KeysStatus;
  /** Never emits: held keys are neither fetched nor rotated. Kept so `subscribe` checks its argument alike. */
  readonly #events = new KeyEvents(undefined);

  constructor(
    readonly kind: 'secret' | 'public',
    readonly description: string,
    keys: readonly VerificationKey[],
  ) {
    this.#set = new KeySet(keys);
    this.#status = staticStatus(
      description,
      keys.map((key) => key.kid),
    );
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

  status(): KeysStatus {
    return this.#status;
  }

  subscribe(listener: KeysListener): () => void {
    return this.#events.subscribe(listener);
  }
}

/** How {@link resolverByKid} reads one kind of key. */
interface KeyInputSpec<T> {
  /** The factory, for the resolver's description, e.g. `fromPem`. */
  readonly factory: string;
  /** What the keys are: shared secrets or public keys. */
  readonly kind: 'secret' | 'public';
  /** One key in the resolver's description, e.g. `key` for `fromPem(2 keys)`. */
  readonly noun: string;
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
 * The resolver for the "one key, or a map of keys by kid" argument of {@link fromSecret} and
 * {@link fromPem}. A map is read through its own keys only, so a map built from untrusted JSON cannot
 * smuggle in inherited entries; every mistake names the entry, e.g. `pem["2026-11"]`.
 *
 * @example
 * ```ts
 * import { SecretVerificationKey } from './verification-key.ts';
 * const resolver = resolverByKid(
 *   { '2026-11': 'a'.repeat(32), '2026-10': 'b'.repeat(32) },
 *   {
 *     factory: 'fromSecret',
 *     kind: 'secret',
 *     noun: 'secret',
 *     option: 'secret',
 *     expected: 'a string',
 *     isKey: (value): value is string => typeof value === 'string',
 *     build: (value, kid) => new SecretVerificationKey(new TextEncoder().encode(value), kid, new Set(['HS256'])),
 *   },
 * );
 * resolver.description; // 'fromSecret(2 secrets)'
 * ```
 */
export function resolverByKid<T>(input: unknown, spec: KeyInputSpec<T>): StaticKeyResolver {
  const keys = keysByKid(input, spec);
  const count = `${keys.length} ${spec.noun}${keys.length === 1 ? '' : 's'}`;
  return new StaticKeyResolver(spec.kind, `${spec.factory}(${count})`, keys);
}

function keysByKid<T>(input: unknown, spec: KeyInputSpec<T>): VerificationKey[] {
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
