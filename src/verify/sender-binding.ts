/**
 * The sender-binding step of admission: a token bound to a client certificate (RFC 8705) is admitted
 * only on a call that proves it holds that certificate. Checked on every call, a verified-token cache hit
 * included: the cache knows the token, not the connection it arrived on.
 */
import { AuthError } from '../errors/auth-error.ts';
import { sameThumbprint } from './certificate-thumbprint.ts';
import type { Admission } from './authenticator.ts';

/**
 * Checks what the admitted token is bound to against the call. `certificate` reads the call's client
 * certificate thumbprint and is called only when needed (a bound token, or mode `'required'`): for an
 * unbound token under `'when-bound'` this costs nothing. Throws the refusal.
 *
 * @example
 * ```ts
 * declare const admission: import('./authenticator.ts').Admission;
 * checkSenderBinding(admission, () => undefined); // throws ERR_AUTH_CERTIFICATE_MISSING when the token is certificate-bound
 * ```
 */
export function checkSenderBinding(admission: Admission, certificate: () => string | undefined): Admission {
  const mode = admission.certificateBinding;
  if (mode === 'off') return admission;
  const bound = admission.context.confirmation?.x5tS256;
  if (bound === undefined) {
    if (mode === 'required') throw new AuthError('ERR_AUTH_TOKEN_NOT_BOUND', "token has no cnf x5t#S256 and certificateBinding is 'required'");
    return admission;
  }
  const presented = certificate();
  if (presented === undefined)
    throw new AuthError('ERR_AUTH_CERTIFICATE_MISSING', `token is bound to certificate x5t#S256 ${bound}; the call presented no verified client certificate`);
  // Constant time: the thumbprint is not secret, but a comparison that stops at the first difference is a habit not to keep.
  if (!sameThumbprint(presented, bound))
    throw new AuthError('ERR_AUTH_CERTIFICATE_MISMATCH', `token is bound to certificate x5t#S256 ${bound}; the call presented ${presented}`);
  return admission;
}
