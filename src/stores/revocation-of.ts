import { LAST_NUMERIC_DATE } from '../util/clock.ts';
import type { Revocation, RevocableToken } from './revocation-store.ts';

/**
 * The revocation of one verified token: by `iss` + `jti` when it has a `jti`, else by `tokenId`, kept
 * until its `exp` (a token without `exp`, which never expires, until 9999). For a logout handler revoking
 * the caller's own token.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore, getAuth, revocationOf } from 'grpc-jwt-auth';
 * const revocations = createMemoryRevocationStore();
 * await revocations.revoke(revocationOf(getAuth(call)));
 * ```
 */
export function revocationOf(token: RevocableToken): Revocation {
  if (typeof token !== 'object' || token === null || typeof token.claims !== 'object' || token.claims === null || typeof token.tokenId !== 'string') {
    throw new TypeError('revocationOf expects a verified token: { claims, tokenId } (an AuthContext)');
  }
  const { iss, jti, exp } = token.claims;
  // A token without exp (requireExp: false) may be admitted forever: its entry must outlive it, not end
  // after the store's maxTokenLifetime and re-admit a token its owner logged out (the last NumericDate).
  const expiresAt = new Date((typeof exp === 'number' && Number.isFinite(exp) ? exp : LAST_NUMERIC_DATE) * 1000);
  // A jti is what an admin finds in the identity provider's logs; a token without one is named by its id.
  if (typeof jti === 'string' && jti !== '') return { kind: 'token', issuer: typeof iss === 'string' ? iss : '', jti, expiresAt };
  return { kind: 'token', tokenId: token.tokenId, expiresAt };
}
