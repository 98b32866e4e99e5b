/**
 * DPoP on one gRPC call (RFC 9449 on HTTP/2): the `dpop` metadata proof, verified for the called method
 * (`htm` POST, `htu` a configured origin plus the method path) and the call's access token.
 */
import type { Metadata } from '@grpc/grpc-js';
import { AuthError } from '../errors/auth-error.ts';
import { MAX_DPOP_PROOF_BYTES, type ProofVerifier } from '../verify/dpop-proof.ts';
import type { VerificationLimit } from '../verify/verification-limit.ts';

/**
 * What one call learns on a DPoP server, for its response: the scheme its token came with (a refusal
 * answers in that scheme) and the nonce the client should use next when its proof carried another.
 *
 * @example
 * ```ts
 * const state: DpopCallState = { scheme: undefined, responseNonce: undefined };
 * ```
 */
export interface DpopCallState {
  /** The authorization scheme of the call's token; undefined until a token was read. */
  scheme: 'bearer' | 'dpop' | undefined;
  /** Set when the call's proof used a nonce other than the current one: sent in the response's `dpop-nonce`. */
  responseNonce: string | undefined;
}

/**
 * The proof in a call's `dpop` metadata: exactly one text value of at most {@link MAX_DPOP_PROOF_BYTES}.
 * A missing proof is `ERR_AUTH_DPOP_PROOF_MISSING`; several (auth0: "multiple DPoP proofs are not
 * allowed"), a binary or an oversized one `ERR_AUTH_DPOP_PROOF_INVALID`. Node's HTTP/2 server joins
 * repeated custom headers with `, `: a comma is no base64url character, so the joined value fails the
 * compact-form check.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * const metadata = new Metadata();
 * metadata.set('dpop', 'eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln');
 * readDpopProof(metadata); // 'eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln'
 * ```
 */
export function readDpopProof(metadata: Metadata): string {
  const values = metadata.get('dpop');
  if (values.length === 0) throw new AuthError('ERR_AUTH_DPOP_PROOF_MISSING', 'authorization uses the DPoP scheme but the call has no dpop metadata');
  if (values.length > 1) throw new AuthError('ERR_AUTH_DPOP_PROOF_INVALID', `dpop metadata has ${values.length} values; exactly one proof is allowed`);
  const proof = values[0];
  if (typeof proof !== 'string') throw new AuthError('ERR_AUTH_DPOP_PROOF_INVALID', 'dpop metadata is binary');
  if (proof.length > MAX_DPOP_PROOF_BYTES)
    throw new AuthError('ERR_AUTH_DPOP_PROOF_INVALID', `dpop metadata has ${proof.length} bytes, over ${MAX_DPOP_PROOF_BYTES}`);
  return proof;
}

/**
 * The interceptor's DPoP checker: reads a call's proof and verifies it against the token's `cnf.jkt`,
 * counting the verification against `maxConcurrentVerifications` (it is crypto on every call, cache hit
 * or not: a flood of proofs must not queue unbounded work). A call whose proof carried a stale nonce
 * learns the current one in `state`.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * import { ProofVerifier } from '../verify/dpop-proof.ts';
 * import { compileDpopOptions } from '../verify/dpop-options.ts';
 * import { createMemoryReplayStore } from '../stores/memory-replay-store.ts';
 * import { VerificationLimit } from '../verify/verification-limit.ts';
 * const check = new DpopCheck(new ProofVerifier(compileDpopOptions({ origins: ['https://orders.example'] }), createMemoryReplayStore(), Date.now), new VerificationLimit(1024));
 * const state: DpopCallState = { scheme: 'dpop', responseNonce: undefined };
 * await check.verify(new Metadata(), '/acme.orders.v1.Orders/GetOrder', 'eyJ…', 'jkt…', state); // rejects ERR_AUTH_DPOP_PROOF_MISSING
 * ```
 */
export class DpopCheck {
  constructor(
    readonly verifier: ProofVerifier,
    private readonly limit: VerificationLimit,
  ) {}

  /** True when the server hands out nonces (responses then may carry `dpop-nonce`). */
  get nonces(): boolean {
    return this.verifier.options.nonceSecret !== undefined;
  }

  async verify(metadata: Metadata, method: string, accessToken: string, jkt: string, state: DpopCallState): Promise<void> {
    const proof = readDpopProof(metadata);
    // Past the bound the check throws ERR_AUTH_VERIFIER_BUSY (UNAVAILABLE, retryable), like a token
    // verification. Only the check counts: the replay store is awaited outside the bound.
    const verified = await this.verifier.verify({ proof, path: method, htm: 'POST', accessToken, jkt }, (check) => this.limit.run(check));
    if (this.nonces) {
      const current = this.verifier.currentNonce();
      if (verified.nonce !== current) state.responseNonce = current;
    }
  }
}
