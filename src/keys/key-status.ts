/**
 * How usable a resolver's keys are right now:
 * - `'static'`: keys given in the configuration (`fromSecret`, `fromPem`, a local `fromJwks`); always usable.
 * - `'fresh'`: fetched keys within the age the provider (or `cacheMaxAge`) allows.
 * - `'stale'`: past that age but within `staleIfError`: they still verify while a refresh is due or the
 *   provider fails.
 * - `'expired'`: past `staleIfError` too: calls that need keys get UNAVAILABLE until a fetch succeeds.
 * - `'empty'`: no key set fetched yet (before `ready()`, or the provider never answered).
 * - `'unknown'`: a resolver of your own that has no `status()`, or whose `status()` threw, answered with a
 *   promise or with something that is no status (`lastError` then says which). It does not make
 *   `auth.status().serving` false: what it holds is not known.
 *
 * @example
 * ```ts
 * import type { KeysState } from 'grpc-jwt-auth';
 * const usable = (state: KeysState): boolean => state !== 'expired' && state !== 'empty';
 * ```
 */
export type KeysState = 'static' | 'fresh' | 'stale' | 'expired' | 'empty' | 'unknown';

/**
 * What a key resolver reports about its keys (`keys.status()`), for health checks and dashboards.
 * Instants are Dates; a value that does not apply (a static key set, no failure) is undefined.
 *
 * @example
 * ```ts
 * import { fromJwks, type KeysStatus } from 'grpc-jwt-auth';
 * const keys = fromJwks('https://idp.example/jwks.json');
 * await keys.ready();
 * const { state, kids, staleUntil, lastError }: KeysStatus = keys.status();
 * console.log(`${state}: ${kids.length} keys, usable until ${staleUntil?.toISOString()}${lastError ? `, last error: ${lastError}` : ''}`);
 * ```
 */
export interface KeysStatus {
  /** The resolver's description, e.g. `fromJwks(https://idp.example/jwks.json)`. */
  readonly source: string;
  /** How usable the keys are now: see {@link KeysState}. */
  readonly state: KeysState;
  /** The `kid` of each key held (undefined for a key without one); for fetched keys, the last set accepted. */
  readonly kids: readonly (string | undefined)[];
  /** When the key set was last fetched and accepted. */
  readonly lastFetch: Date | undefined;
  /** Until when the fetched keys are fresh; a refresh runs before then. */
  readonly freshUntil: Date | undefined;
  /** From when held keys no longer verify, unless a fetch succeeds first (`freshUntil` plus `staleIfError`). */
  readonly staleUntil: Date | undefined;
  /** The URL and message of the last failed fetch (key set or discovery document); undefined once one succeeds. */
  readonly lastError: string | undefined;
  /** While fetches fail: the earliest instant of the next attempt (undefined once the resolver is closed). */
  readonly nextRetry: Date | undefined;
}

/**
 * The status of keys given in the configuration: always usable, never fetched.
 *
 * @example
 * ```ts
 * staticStatus('fromPem(2 keys)', ['2026-01', '2026-02']).state; // 'static'
 * ```
 */
export function staticStatus(source: string, kids: readonly (string | undefined)[]): KeysStatus {
  return Object.freeze({
    source,
    state: 'static',
    kids: Object.freeze([...kids]),
    lastFetch: undefined,
    freshUntil: undefined,
    staleUntil: undefined,
    lastError: undefined,
    nextRetry: undefined,
  });
}
