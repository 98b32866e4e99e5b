/**
 * One-time uses shared by replicas: a DPoP proof's `jti` may be seen once within its window. The store
 * says whether a key was new; the caller decides what a repeat means.
 */
import { AuthConfigError } from '../errors/config-error.ts';

/**
 * Where one-time values are remembered (DPoP proof `jti`s, RFC 9449 §11.1). `add` records `key` until
 * `expiresAt` and answers `true` when it was absent (a first use), `false` when it was present (a replay).
 * It must be atomic: two concurrent `add`s of one key never both answer `true` (Redis `SET NX PX`, an SQL
 * insert into a unique column). A throw or a rejection fails closed: the call is refused with UNAVAILABLE
 * `ERR_AUTH_REPLAY_CHECK_UNAVAILABLE`, never admitted unchecked. The store owns its timeouts: a promise that
 * never settles holds the call until its deadline.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type ReplayStore } from 'grpc-jwt-auth';
 * declare const redis: { set(key: string, value: string, options: { NX: true; PXAT: number }): Promise<string | null> };
 * // Shared by every replica: SET NX is the atomic set-if-absent.
 * const replayStore: ReplayStore = {
 *   add: async (key: string, expiresAt: Date) => (await redis.set(`replay:${key}`, '1', { NX: true, PXAT: expiresAt.getTime() })) === 'OK',
 * };
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], dpop: { origins: ['https://orders.example'] }, replayStore });
 * ```
 */
export interface ReplayStore {
  /** Records `key` until `expiresAt`. True when it was absent (first use), false when present (a replay). Must be atomic (set-if-absent). */
  add(key: string, expiresAt: Date): boolean | Promise<boolean>;
}

/**
 * The `replayStore` option: an object with an `add` function, or undefined when not given.
 *
 * @example
 * ```ts
 * optionalReplayStore({ add: () => true }, 'replayStore'); // the store
 * optionalReplayStore(new Map(), 'replayStore'); // throws AuthConfigError('replayStore', ...)
 * ```
 */
export function optionalReplayStore(value: unknown, option: string): ReplayStore | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as Partial<ReplayStore>).add !== 'function') {
    throw new AuthConfigError(option, 'expected a replay store: { add(key, expiresAt) => boolean | Promise<boolean> }, e.g. createMemoryReplayStore()');
  }
  return value as ReplayStore;
}
