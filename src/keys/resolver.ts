import type { KeyObject, webcrypto } from 'node:crypto';
import type { KeysListener } from './key-events.ts';
import type { KeysStatus } from './key-status.ts';

type CryptoKey = webcrypto.CryptoKey;

/**
 * What a key resolver needs from a token's protected header.
 *
 * @example
 * ```ts
 * import type { KeyLookup } from 'grpc-jwt-auth';
 * const lookup: KeyLookup = { alg: 'RS256', kid: '2026-01' };
 * const candidates = await keys.getKeys(lookup);
 * ```
 */
export interface KeyLookup {
  /** The token's `alg`, already checked against the allowlist. */
  readonly alg: string;
  /** The token's `kid`, when it has one (always a string here). */
  readonly kid: string | undefined;
}

/**
 * One key that can verify tokens. `material(alg)` gives what jose verifies with; implementations import
 * once and reuse, so no call pays for a key import.
 *
 * @example
 * ```ts
 * import { compactVerify } from 'jose';
 * import type { VerificationKey } from 'grpc-jwt-auth';
 * const candidates: readonly VerificationKey[] = await keys.getKeys({ alg: 'ES256', kid: undefined });
 * for (const key of candidates) await compactVerify(token, await key.material('ES256')).catch(() => undefined);
 * ```
 */
export interface VerificationKey {
  /** The key id it is published under, if any. */
  readonly kid: string | undefined;
  /** The algorithms this key may verify (by its type, size and any `alg` it was published with). */
  readonly algorithms: ReadonlySet<string>;
  /** The key for jose, for one of {@link VerificationKey.algorithms}. */
  material(alg: string): CryptoKey | KeyObject | Promise<CryptoKey | KeyObject>;
}

/**
 * Where verification keys come from: {@link fromSecret}, {@link fromPem}, {@link fromJwks} or
 * {@link fromIssuer}. One slot, one type: the interceptor never cares which.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromJwks, type KeyResolver } from 'grpc-jwt-auth';
 * const keys: KeyResolver = fromJwks('https://idp.example/.well-known/jwks.json');
 * const auth = createAuthInterceptor({ keys, algorithms: ['RS256'], issuer: 'https://idp.example/' });
 * ```
 */
export interface KeyResolver {
  /** `secret` for HMAC secrets, `public` for public keys: the two never mix in one resolver. */
  readonly kind: 'secret' | 'public';
  /** A short description for error messages, e.g. `fromPem(2 keys)`. */
  readonly description: string;
  /**
   * Throws an `AuthConfigError` naming `option` when some algorithm in the list cannot be verified by
   * this resolver's keys (an HS algorithm with public keys, RS with a secret, ES384 with a P-256 key).
   */
  checkAlgorithms(algorithms: readonly string[], option: string): void;
  /**
   * Keys that may verify a token with this header, best first. Throws an `AuthError` with
   * `ERR_AUTH_KEY_NOT_FOUND` when none fits, `ERR_AUTH_KEYS_UNAVAILABLE` when keys cannot be had.
   */
  getKeys(lookup: KeyLookup): readonly VerificationKey[] | Promise<readonly VerificationKey[]>;
  /** Whether a key returned earlier is still in the set (rotation or revocation removes it). */
  holds(key: VerificationKey): boolean;
  /** Fetches keys ahead of the first call, where the resolver fetches at all. */
  ready?(): Promise<void>;
  /** Stops timers and background work. */
  close?(): void;
  /**
   * The keys held and how usable they are, for health checks (never fetches). Every resolver of this
   * library has it; `auth.status()` reports a resolver of your own without it as `'unknown'`.
   */
  status?(): KeysStatus;
  /**
   * Adds a listener of the resolver's fetch, failure, rotation and skipped-key events (the ones its
   * `onEvent` option gets, which it leaves in place); returns the function that removes it. Resolvers
   * of keys given in the configuration have no events: their `subscribe` only returns that function.
   */
  subscribe?(listener: KeysListener): () => void;
}
