/**
 * The sender-binding step of admission: a token bound to a client certificate (RFC 8705) or a DPoP key
 * (RFC 9449) is admitted only on a call that proves it holds that certificate or key. Checked on every
 * call, a verified-token cache hit included: the cache knows the token, not the call it arrived on.
 */
import { AuthError } from '../errors/auth-error.ts';
import { sameThumbprint } from './certificate-thumbprint.ts';
import type { Admission } from './authenticator.ts';

/**
 * What a call can prove besides holding the token.
 *
 * @example
 * ```ts
 * const proof: SenderProof = { certificate: () => undefined, scheme: 'bearer', dpop: undefined };
 * ```
 */
export interface SenderProof {
  /** The call's client certificate thumbprint; called only when needed (a bound token, or mode `'required'`). */
  readonly certificate: () => string | undefined;
  /** The authorization scheme the token came with: `'dpop'` for `authorization: DPoP <token>`. */
  readonly scheme: 'bearer' | 'dpop';
  /** Verifies the call's DPoP proof for the key `jkt` (rejects with the refusal); undefined where no proof can be checked. */
  readonly dpop: ((jkt: string) => Promise<void>) | undefined;
}

/** RFC 8705: the certificate a bound token names must be the call's. */
function checkCertificate(admission: Admission, certificate: () => string | undefined): void {
  const mode = admission.certificateBinding;
  if (mode === 'off') return;
  const bound = admission.context.confirmation?.x5tS256;
  if (bound === undefined) {
    if (mode === 'required') throw new AuthError('ERR_AUTH_TOKEN_NOT_BOUND', "token has no cnf x5t#S256 and certificateBinding is 'required'");
    return;
  }
  const presented = certificate();
  if (presented === undefined)
    throw new AuthError('ERR_AUTH_CERTIFICATE_MISSING', `token is bound to certificate x5t#S256 ${bound}; the call presented no verified client certificate`);
  // Constant time: the thumbprint is not secret, but a comparison that stops at the first difference is a habit not to keep.
  if (!sameThumbprint(presented, bound))
    throw new AuthError('ERR_AUTH_CERTIFICATE_MISMATCH', `token is bound to certificate x5t#S256 ${bound}; the call presented ${presented}`);
}

/**
 * Checks what the admitted token is bound to against the call; throws (or rejects with) the refusal.
 * The cheap checks first, synchronously: the scheme a DPoP-bound token needs, an unbound token sent as
 * `DPoP`, `dpopBinding: 'required'`, then the certificate; the DPoP proof last (a signature check). A
 * token bound to both a certificate and a key must satisfy both. Synchronous (no promise) unless a DPoP
 * proof is verified.
 *
 * @example
 * ```ts
 * declare const admission: import('./authenticator.ts').Admission;
 * await checkSenderBinding(admission, { certificate: () => undefined, scheme: 'bearer', dpop: undefined }); // throws ERR_AUTH_CERTIFICATE_MISSING when the token is certificate-bound
 * ```
 */
export function checkSenderBinding(admission: Admission, proof: SenderProof): Admission | Promise<Admission> {
  const jkt = admission.context.confirmation?.jkt;
  if (jkt !== undefined) {
    // RFC 9449 §7.2: as a bearer token (or where no proof can be checked), a stolen DPoP-bound token is refused.
    if (proof.scheme !== 'dpop' || proof.dpop === undefined)
      throw new AuthError('ERR_AUTH_DPOP_SCHEME_REQUIRED', `token is bound to DPoP key ${jkt} and came without the DPoP scheme and a proof`);
  } else if (proof.scheme === 'dpop') {
    // A proof of possession for a token that binds nothing proves nothing: the client believes it is protected and is not.
    throw new AuthError('ERR_AUTH_TOKEN_NOT_BOUND', 'token has no cnf.jkt but came with the DPoP scheme');
  } else if (admission.dpopBinding === 'required') {
    throw new AuthError('ERR_AUTH_TOKEN_NOT_BOUND', "token has no cnf.jkt and dpopBinding is 'required'");
  }
  checkCertificate(admission, proof.certificate);
  return jkt === undefined || proof.dpop === undefined ? admission : proof.dpop(jkt).then(() => admission);
}
