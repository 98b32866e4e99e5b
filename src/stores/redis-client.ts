/** STUB (issue 15 phase 0): final signatures, bodies by R2. Loading `redis` on demand and the connection options every store enforces. */

/**
 * Where a Redis store connects: `url` or `client` (exactly one), and the key prefix and deadline.
 *
 * @example
 * ```ts
 * import type { RedisConnectionOptions } from 'grpc-jwt-auth';
 * const connection: RedisConnectionOptions = { url: 'rediss://user:secret@redis.internal:6380', prefix: 'orders-auth', timeout: 1 };
 * ```
 */
export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL (credentials allowed; never logged). Exactly one of `url` and `client`. */
  readonly url?: string;
  /**
   * A node-redis client you built (TLS, ACL, Sentinel): the store opens its own connections with
   * `client.duplicate()` and never uses, changes or closes yours.
   */
  readonly client?: unknown;
  /** Prefix of every key and channel, `[A-Za-z0-9._-]{1,64}`; default `grpc-jwt-auth`. Services sharing one Redis keep separate lists with separate prefixes. */
  readonly prefix?: string;
  /** Seconds any one Redis command may take, 0.001 to 60 (default 2; the replay store's 0.5): past it the command counts as failed. */
  readonly timeout?: number;
}
