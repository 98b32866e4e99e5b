/**
 * DPoP at the test token endpoint (RFC 9449 §5, §8): the `DPoP` request header checked by the same proof
 * verifier the server uses, with the endpoint's URL as the only `htu`, and its refusals as the OAuth
 * errors a client library must handle (`invalid_dpop_proof`, `use_dpop_nonce` with a `DPoP-Nonce`).
 */
import type { IncomingMessage } from 'node:http';
import { AuthError } from '../errors/auth-error.ts';
import { DEFAULT_DPOP_ALGORITHMS } from '../verify/dpop-options.ts';
import { createDpopProofVerifier, type DpopProofVerifier } from '../verify/dpop-proof.ts';
import { createMemoryReplayStore } from '../stores/memory-replay-store.ts';
import type { ReplayStore } from '../stores/replay-store.ts';
import { OAuthError } from './oauth-request.ts';

/** The proof algorithms the test token endpoint accepts (the server's default), published as `dpop_signing_alg_values_supported`. */
export const TOKEN_ENDPOINT_DPOP_ALGORITHMS = DEFAULT_DPOP_ALGORITHMS;

/**
 * A verified token-request proof: the key's RFC 7638 thumbprint the tokens get bound to, and the nonce
 * it carried.
 *
 * @example
 * ```ts
 * const proof: TokenRequestProof = { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' };
 * ```
 */
export interface TokenRequestProof {
  readonly jkt: string;
  readonly nonce?: string;
}

/**
 * The DPoP side of one token endpoint.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from 'node:http';
 * declare const request: IncomingMessage;
 * const dpop: TokenEndpointDpop = createTokenEndpointDpop('http://127.0.0.1:8080/token', { nonce: false, clock: Date.now });
 * const proof = await dpop.check(request); // undefined without a DPoP header; throws OAuthError invalid_dpop_proof / use_dpop_nonce
 * ```
 */
export interface TokenEndpointDpop {
  /** Verifies the request's `DPoP` header; undefined when it has none. Throws the {@link OAuthError} to answer with. */
  check(request: IncomingMessage): Promise<TokenRequestProof | undefined>;
  /** Headers for a successful answer to `proof`: the current nonce when nonces are on and the proof carried another. */
  successHeaders(proof: TokenRequestProof | undefined): Record<string, string>;
}

/** The refusal of a proof as the token endpoint answers it (RFC 9449 §5, §8); an error that is not about the proof is rethrown (500). */
function refusal(error: unknown): OAuthError {
  if (!(error instanceof AuthError)) throw error;
  if (error.code === 'ERR_AUTH_DPOP_NONCE_REQUIRED') {
    // Without a nonce to hand out the client could only retry blindly: a bug, answered 500.
    if (error.dpopNonce === undefined) throw error;
    return new OAuthError('use_dpop_nonce', 'the DPoP proof must carry the current server nonce', 400, { 'dpop-nonce': error.dpopNonce });
  }
  if (error.code.startsWith('ERR_AUTH_DPOP_')) return new OAuthError('invalid_dpop_proof', error.wireMessage);
  throw error;
}

/**
 * Creates the DPoP check of the token endpoint served at `url`: a proof's `htu` must be that URL
 * (origin and path; query and fragment ignored), `htm` `POST`, no `ath` (no access token yet), and its
 * `jti` unused (the endpoint's own replay store). With `nonce`, every proof must carry the endpoint's
 * current nonce.
 *
 * @example
 * ```ts
 * const dpop = createTokenEndpointDpop('http://127.0.0.1:8080/token', { nonce: true, clock: Date.now });
 * ```
 */
export function createTokenEndpointDpop(url: string, options: { readonly nonce: boolean; readonly clock: () => number }): TokenEndpointDpop {
  const { origin, pathname } = new URL(url);
  // The endpoint's own store, on the endpoint's clock (a test clock moves proofs in and out of their window).
  const replayStore: ReplayStore = createMemoryReplayStore({ clock: options.clock });
  const verifier: DpopProofVerifier = createDpopProofVerifier({
    origins: [origin],
    algorithms: TOKEN_ENDPOINT_DPOP_ALGORITHMS,
    clock: options.clock,
    replayStore,
    ...(options.nonce ? { nonce: true as const } : {}),
  });
  return {
    async check(request) {
      const values = request.headersDistinct.dpop;
      if (values === undefined) return undefined;
      // Two proofs would leave it open which key the tokens are bound to (auth0: "Multiple DPoP proofs are not allowed").
      if (values.length !== 1) throw new OAuthError('invalid_dpop_proof', 'exactly one DPoP header is allowed');
      try {
        const { jkt, nonce } = await verifier.verify({ proof: values[0] as string, path: pathname, htm: 'POST' });
        return nonce === undefined ? { jkt } : { jkt, nonce };
      } catch (error) {
        throw refusal(error);
      }
    },
    successHeaders(proof) {
      const current = verifier.currentNonce();
      return proof !== undefined && current !== undefined && proof.nonce !== current ? { 'dpop-nonce': current } : {};
    },
  };
}
