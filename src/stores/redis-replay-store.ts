/** STUB (issue 15 phase 0): final signatures, bodies by R2. */
import type { ReplayStore } from './replay-store.ts';
import type { RevocationsStatus } from './revocation-store.ts';
import type { RedisConnectionOptions } from './redis-client.ts';

/**
 * A {@link ReplayStore} in Redis, shared by replicas: `add` is one `SET key 1 NX PX ms`, so two replicas
 * racing on one DPoP proof `jti` admit exactly one. No stale mode: a down or slow Redis refuses the
 * proof's call (UNAVAILABLE `ERR_AUTH_REPLAY_CHECK_UNAVAILABLE`) within `timeout` (default 0.5 s here: it
 * is on the call path).
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, createRedisReplayStore } from 'grpc-jwt-auth';
 * const replayStore = createRedisReplayStore({ url: 'redis://redis.internal:6379' });
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], dpop: { origins: ['https://orders.example'] }, replayStore });
 * ```
 */
export interface RedisReplayStore extends ReplayStore {
  add(key: string, expiresAt: Date): Promise<boolean>;
  /** Resolves once connected; rejects after `timeout` (reconnecting continues). */
  ready(): Promise<void>;
  /** Closes the connection it opened (never a user's `client`). */
  close(): Promise<void>;
  /** Where it connects (password redacted), whether the command connection is up, and the last failure. */
  status(): Pick<RevocationsStatus, 'source' | 'lastError'> & { readonly connected: boolean };
}

/**
 * Builds a {@link RedisReplayStore}.
 *
 * @example
 * ```ts
 * import { createRedisReplayStore } from 'grpc-jwt-auth';
 * const replayStore = createRedisReplayStore({ url: 'redis://127.0.0.1:6379', timeout: 0.25 });
 * await replayStore.add('dpop:jkt:jti-1', new Date(Date.now() + 70_000)); // true: first use
 * ```
 */
export function createRedisReplayStore(options: RedisConnectionOptions): RedisReplayStore {
  void options;
  throw new Error('not implemented');
}
