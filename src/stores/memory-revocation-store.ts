/** STUB (issue 15 phase 0): final signatures, bodies by R1. */
import type { RevocationStore } from './revocation-store.ts';

/**
 * Options of {@link createMemoryRevocationStore}.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore, type MemoryRevocationStoreOptions } from 'grpc-jwt-auth';
 * const options: MemoryRevocationStoreOptions = { maxTokenLifetime: 3600 };
 * const revocations = createMemoryRevocationStore(options);
 * ```
 */
export interface MemoryRevocationStoreOptions {
  /**
   * The longest lifetime (`exp` − `iat`, seconds) of any token your issuers sign; default 86,400 (a day),
   * from 60 to 31,536,000. A subject or client revocation is kept this long (plus 300 s) after its
   * `before`, and a token revocation without `expiresAt` this long after it is made. Enforce it with
   * `maxTokenAge` if an issuer might sign longer-lived tokens.
   */
  readonly maxTokenLifetime?: number;
  /** At most this many entries (a count, 1 to 100,000,000; default 1,000,000): a revocation beyond it is refused, never one evicted. */
  readonly maxEntries?: number;
  /** The clock, in milliseconds since the epoch; default `Date.now`. */
  readonly clock?: () => number;
}

/**
 * A {@link RevocationStore} in this process's memory: the default `revocations` of every interceptor, for
 * one process (replicas need `createRedisRevocationStore`). State `local`: always usable.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, createMemoryRevocationStore } from 'grpc-jwt-auth';
 * const revocations = createMemoryRevocationStore();
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], revocations });
 * await revocations.revoke({ kind: 'subject', issuer: 'https://idp.example/', subject: 'alice' });
 * ```
 */
export function createMemoryRevocationStore(options: MemoryRevocationStoreOptions = {}): Required<RevocationStore> {
  void options;
  throw new Error('not implemented');
}
