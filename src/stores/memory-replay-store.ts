import { AuthError } from '../errors/auth-error.ts';
import { checkOptionNames, optionNames, optionalFunction, optionalInteger } from '../util/option-checks.ts';
import type { ReplayStore } from './replay-store.ts';

/**
 * Options of {@link createMemoryReplayStore}.
 *
 * @example
 * ```ts
 * import { createMemoryReplayStore, type MemoryReplayStoreOptions } from 'grpc-jwt-auth';
 * const options: MemoryReplayStoreOptions = { maxEntries: 100_000 };
 * const replayStore = createMemoryReplayStore(options);
 * ```
 */
export interface MemoryReplayStoreOptions {
  /**
   * At most this many keys (a count) are remembered at once; default 1,000,000 (about 150 MB at its
   * fullest). When it is full of keys that have not expired, `add` throws: the call is refused
   * (UNAVAILABLE), because forgetting a key early would admit its replay.
   */
  readonly maxEntries?: number;
  /** The clock, in milliseconds since the epoch; default `Date.now`. */
  readonly clock?: () => number;
}

const OPTION_NAMES = optionNames<MemoryReplayStoreOptions>({ maxEntries: true, clock: true });
const DEFAULT_MAX_ENTRIES = 1_000_000;
/** A full sweep walks every entry: when full, at most one per second, so a full store costs no O(n) per call. */
const FULL_SWEEP_INTERVAL = 1000;

/**
 * A {@link ReplayStore} in this process's memory: for one replica (replicas behind a load balancer need a
 * shared store, or a proof replayed to another replica is accepted there). No timer, nothing to close:
 * expired keys are swept as new ones arrive. Synchronous, so atomic within the process.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, createMemoryReplayStore } from 'grpc-jwt-auth';
 * const replayStore = createMemoryReplayStore({ maxEntries: 200_000 });
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], dpop: { origins: ['https://orders.example'] }, replayStore });
 * replayStore.add('dpop:jkt:jti-1', new Date(Date.now() + 60_000)); // true: first use
 * replayStore.add('dpop:jkt:jti-1', new Date(Date.now() + 60_000)); // false: a replay
 * ```
 */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore {
  checkOptionNames(options as unknown, OPTION_NAMES);
  const maxEntries = optionalInteger(options.maxEntries, 'maxEntries', 1, 100_000_000) ?? DEFAULT_MAX_ENTRIES;
  const clock = optionalFunction<() => number>(options.clock, 'clock', 'a function returning milliseconds since the epoch') ?? Date.now;
  /** key → expiry in ms. A Map iterates in insertion order, which is nearly expiry order (every window has the same length). */
  const entries = new Map<string, number>();
  let lastFullSweep = Number.NEGATIVE_INFINITY;

  /** Drops expired keys from the oldest on, up to the first live one: amortized O(1) per add. */
  function sweepOldest(now: number): void {
    for (const [key, expiry] of entries) {
      if (expiry > now) return;
      entries.delete(key);
    }
  }

  /** Drops every expired key: a key inserted later with a shorter window may sit behind a live one. */
  function sweepAll(now: number): void {
    lastFullSweep = now;
    for (const [key, expiry] of entries) if (expiry <= now) entries.delete(key);
  }

  return {
    add(key: string, expiresAt: Date): boolean {
      if (typeof key !== 'string') throw new TypeError('replay store key must be a string');
      const until = expiresAt instanceof Date ? expiresAt.getTime() : Number.NaN;
      if (!Number.isFinite(until)) throw new TypeError('replay store expiresAt must be a valid Date');
      const now = clock();
      if (!Number.isFinite(now)) throw new AuthError('ERR_AUTH_INTERNAL', `memory replay store clock returned ${String(now)}`);
      sweepOldest(now);
      const known = entries.get(key);
      if (known !== undefined && known > now) return false;
      entries.delete(key);
      if (entries.size >= maxEntries && now - lastFullSweep >= FULL_SWEEP_INTERVAL) sweepAll(now);
      if (entries.size >= maxEntries) {
        // Fail closed: evicting a live key would admit its replay.
        throw new AuthError('ERR_AUTH_REPLAY_CHECK_UNAVAILABLE', `memory replay store is full (maxEntries ${maxEntries} keys that have not expired)`);
      }
      entries.set(key, until);
      return true;
    },
  };
}
