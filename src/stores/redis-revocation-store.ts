/** STUB (issue 15 phase 0): final signatures, bodies by R2. */
import type { RevocationEvent, RevocationStore } from './revocation-store.ts';
import type { RedisConnectionOptions } from './redis-client.ts';

/**
 * Options of {@link createRedisRevocationStore}: where Redis is ({@link RedisConnectionOptions}) and how
 * the local mirror is kept.
 *
 * @example
 * ```ts
 * import { createRedisRevocationStore, type RedisRevocationStoreOptions } from 'grpc-jwt-auth';
 * const options: RedisRevocationStoreOptions = { url: 'redis://redis.internal:6379', staleIfError: 120 };
 * const revocations = createRedisRevocationStore(options);
 * ```
 */
export interface RedisRevocationStoreOptions extends RedisConnectionOptions {
  /** Seconds between heartbeats (a PING and a sequence check), 0.1 to 60; default 1. A hung Redis is noticed by these. */
  readonly heartbeat?: number;
  /**
   * Seconds the last synced mirror is still enforced while Redis does not answer (other tokens admitted),
   * 0 to 86,400; default 300. Past it every call with a token is refused with UNAVAILABLE
   * `ERR_AUTH_REVOCATIONS_UNAVAILABLE` until a sync succeeds. 0 fails closed at the first missed heartbeat.
   */
  readonly staleIfError?: number;
  /** As {@link MemoryRevocationStoreOptions.maxTokenLifetime}: seconds, 60 to 31,536,000; default 86,400. */
  readonly maxTokenLifetime?: number;
  /** Most entries held in the mirror (a count, 1 to 100,000,000; default 1,000,000); a bigger list fails the sync (fail closed), never truncated. */
  readonly maxEntries?: number;
  /** The clock, in milliseconds since the epoch; default `Date.now`. */
  readonly clock?: () => number;
  /** Called with each event (as `subscribe` listeners are). */
  readonly onEvent?: (event: RevocationEvent) => void;
}

/**
 * A {@link RevocationStore} shared by replicas through Redis (or Valkey), with a local mirror in each
 * process: `match` is a map lookup; Redis is never on the per-call path. Changes reach every replica by
 * pub/sub (median under a millisecond on loopback); reconnects, gaps and wiped Redis servers re-sync by
 * themselves. Needs the `redis` package (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, createRedisRevocationStore } from 'grpc-jwt-auth';
 * const revocations = createRedisRevocationStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], revocations });
 * await auth.ready(); // keys fetched and the revocation list loaded
 * ```
 */
export function createRedisRevocationStore(options: RedisRevocationStoreOptions): Required<RevocationStore> {
  void options;
  throw new Error('not implemented');
}
