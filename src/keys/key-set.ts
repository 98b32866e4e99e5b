import { AuthConfigError } from '../errors/config-error.ts';
import { AuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import type { KeyLookup, VerificationKey } from './resolver.ts';

/**
 * An immutable set of verification keys, indexed by `kid`. Lookups use a Map, so a `kid` such as
 * `__proto__` or `constructor` can never reach an object's prototype.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import { importJwks } from './jwk.ts';
 * const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
 * const set = new KeySet(importJwks({ keys: [{ ...jwk, kid: '2026-01' }] }).keys);
 * set.find({ alg: 'ES256', kid: '2026-01' }, 3); // [the key]
 * set.find({ alg: 'RS256', kid: '2026-01' }, 3); // []: an EC key never serves RS256
 * ```
 */
export class KeySet {
  readonly keys: readonly VerificationKey[];
  readonly #byKid = new Map<string, VerificationKey[]>();
  readonly #all: ReadonlySet<VerificationKey>;

  constructor(keys: readonly VerificationKey[]) {
    this.keys = keys;
    this.#all = new Set(keys);
    for (const key of keys) {
      if (key.kid === undefined) continue;
      const named = this.#byKid.get(key.kid);
      if (named) named.push(key);
      else this.#byKid.set(key.kid, [key]);
    }
  }

  get size(): number {
    return this.keys.length;
  }

  has(key: VerificationKey): boolean {
    return this.#all.has(key);
  }

  hasKid(kid: string): boolean {
    return this.#byKid.has(kid);
  }

  /**
   * Keys that may verify a token with this header. A token naming a known `kid` gets the keys published
   * under it only (a set may reuse a kid across key types); a key registered without a `kid` serves any
   * token whose kid is not in the set. A token without `kid` gets every key that fits
   * its algorithm, at most `maxCandidates` of them. A key never serves an algorithm outside its own
   * list, so a token cannot pick an HMAC check against a public key (algorithm confusion).
   */
  find(lookup: KeyLookup, maxCandidates: number): VerificationKey[] {
    if (lookup.kid !== undefined) {
      const named = this.#byKid.get(lookup.kid);
      if (named) return named.filter((key) => key.algorithms.has(lookup.alg)).slice(0, maxCandidates);
    }
    const candidates: VerificationKey[] = [];
    for (const key of this.keys) {
      if (lookup.kid !== undefined && key.kid !== undefined) continue;
      if (key.algorithms.has(lookup.alg)) candidates.push(key);
      if (candidates.length >= maxCandidates) break;
    }
    return candidates;
  }
}

/**
 * The KEY_NOT_FOUND error, with a log message that says what was looked for.
 *
 * @example
 * ```ts
 * throw keyNotFound({ alg: 'RS256', kid: '2026-02' }, 'fromPem(2 keys)'); // ERR_AUTH_KEY_NOT_FOUND, naming the kid and alg
 * ```
 */
export function keyNotFound(lookup: KeyLookup, description: string): AuthError {
  const kid = lookup.kid === undefined ? 'no kid' : `kid ${describeForLog(lookup.kid)}`;
  return new AuthError('ERR_AUTH_KEY_NOT_FOUND', `${description} has no key for ${kid} and alg ${lookup.alg}`);
}

/**
 * Refuses an `algorithms` option that the keys cannot serve: each algorithm needs at least one key of a
 * fitting type. This is what makes HS/RS confusion impossible by configuration.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import { PublicVerificationKey } from './verification-key.ts';
 * const ec = new PublicVerificationKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, undefined, new Set(['ES256']));
 * checkAlgorithmsServed([ec], ['ES256'], 'algorithms', 'fromPem(1 key)'); // fine
 * checkAlgorithmsServed([ec], ['RS256'], 'algorithms', 'fromPem(1 key)'); // throws AuthConfigError('algorithms', ...)
 * ```
 */
export function checkAlgorithmsServed(keys: readonly VerificationKey[], algorithms: readonly string[], option: string, description: string): void {
  const served = new Set<string>();
  for (const key of keys) for (const alg of key.algorithms) served.add(alg);
  checkAlgorithmsWithin(served, algorithms, option, description);
}

/**
 * Refuses an `algorithms` option with an algorithm outside `served`. For keys held, `served` is what they
 * verify together; for remote keys, unknown before the first fetch, what they could ever verify (never
 * HS*: a token signed with the public key as an HMAC secret must find nothing to check against).
 *
 * @example
 * ```ts
 * checkAlgorithmsWithin(new Set(['RS256']), ['RS256', 'HS256'], 'algorithms', 'fromJwks(https://idp.example/jwks.json)'); // throws, naming HS256
 * ```
 */
export function checkAlgorithmsWithin(served: ReadonlySet<string>, algorithms: readonly string[], option: string, description: string): void {
  const unserved = algorithms.filter((alg) => !served.has(alg));
  if (unserved.length > 0) {
    const offer = served.size > 0 ? [...served].join(', ') : 'none';
    throw new AuthConfigError(option, `${unserved.join(', ')} cannot be verified with the keys of ${description} (they verify: ${offer})`);
  }
}
