/** STUB (issue 15 phase 0): final signatures, bodies by R1. */
import type { Revocation, RevocableToken } from './revocation-store.ts';

/**
 * The revocation of one verified token: by `iss` + `jti` when it has a `jti`, else by `tokenId`, kept
 * until its `exp`. For a logout handler revoking the caller's own token.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore, getAuth, revocationOf } from 'grpc-jwt-auth';
 * const revocations = createMemoryRevocationStore();
 * await revocations.revoke(revocationOf(getAuth(call)));
 * ```
 */
export function revocationOf(token: RevocableToken): Revocation {
  void token;
  throw new Error('not implemented');
}
