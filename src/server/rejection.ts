import { Metadata, type StatusObject } from '@grpc/grpc-js';
import type { AuthError } from '../errors/auth-error.ts';
import { ERROR_DOMAIN, STATUS_DETAILS_KEY, encodeStatusDetails } from '../errors/error-info.ts';
import { STEP_UP_METADATA } from '../errors/step-up.ts';

/**
 * How a DPoP server answers a refusal (RFC 9449 §7.1): the scheme the call used, and the algorithms
 * its proofs may use.
 *
 * @example
 * ```ts
 * const challenge: ChallengeOptions = { scheme: 'DPoP', dpopAlgorithms: ['ES256', 'EdDSA'] };
 * ```
 */
export interface ChallengeOptions {
  /** The scheme of the error challenge: `DPoP` when the call used it (or its DPoP-bound token needed it). */
  readonly scheme: 'Bearer' | 'DPoP';
  /** The server's `dpop.algorithms`; undefined on a server without DPoP. */
  readonly dpopAlgorithms: readonly string[] | undefined;
}

const BEARER_ONLY: ChallengeOptions = { scheme: 'Bearer', dpopAlgorithms: undefined };

/**
 * RFC 6750 §3: `error_description` holds only %x20-21 / %x23-5B / %x5D-7E. A fixed wire text may quote
 * (`a single "Bearer <token>" value`): inside the quoted parameter its `"` would end the string early and
 * leave the rest of the challenge unparsable, so it becomes `'` (as auth0's express middleware does).
 */
function errorDescription(text: string): string {
  return text.replaceAll('"', "'").replace(/[^\x20-\x7E]|\\/g, '');
}

/**
 * The RFC 6750 challenge for a refusal, e.g. `Bearer error="invalid_token", error_description="token expired"`;
 * a step-up refusal adds RFC 9470's `acr_values="mfa phr"` and `max_age="300"` (quoted, as in its examples).
 * In the `DPoP` scheme (RFC 9449 §7.1) it also names the accepted `algs`.
 */
export function bearerChallenge(error: AuthError, options: ChallengeOptions = BEARER_ONLY): string {
  const { scheme } = options;
  const algs = scheme === 'DPoP' && options.dpopAlgorithms ? `algs="${options.dpopAlgorithms.join(' ')}"` : undefined;
  // RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
  if (error.code === 'ERR_AUTH_TOKEN_MISSING' || error.bearerError === undefined) return algs === undefined ? scheme : `${scheme} ${algs}`;
  let challenge = `${scheme} error="${error.bearerError}", error_description="${errorDescription(error.wireMessage)}"`;
  if (error.requiredScopes && error.requiredScopes.length > 0) challenge += `, scope="${error.requiredScopes.join(' ')}"`;
  // AuthError kept only header-safe acr values and a whole-number maxAge: nothing here can break the quotes.
  if (error.stepUp?.acrValues) challenge += `, acr_values="${error.stepUp.acrValues.join(' ')}"`;
  if (error.stepUp?.maxAge !== undefined) challenge += `, max_age="${error.stepUp.maxAge}"`;
  if (algs !== undefined) challenge += `, ${algs}`;
  return challenge;
}

/** The ErrorInfo metadata of a refusal: the scopes, acr values and max age a client can act on. */
function errorInfoMetadata(error: AuthError): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (error.requiredScopes?.length) metadata.requiredScopes = error.requiredScopes.join(' ');
  if (error.stepUp?.acrValues) metadata[STEP_UP_METADATA.acrValues] = error.stepUp.acrValues.join(' ');
  if (error.stepUp?.maxAge !== undefined) metadata[STEP_UP_METADATA.maxAge] = String(error.stepUp.maxAge);
  return metadata;
}

/**
 * The status a refused call ends with: fixed details text, `www-authenticate`, and a
 * `google.rpc.ErrorInfo` with the reason so clients can tell "refresh and retry" from "give up". On a
 * DPoP server, a call that did not use DPoP also gets a second challenge, `DPoP algs="..."`, saying
 * DPoP is accepted (RFC 9449 §7.1); a nonce refusal carries the nonce in `dpop-nonce`.
 */
export function rejectionStatus(error: AuthError, options: ChallengeOptions = BEARER_ONLY): Pick<StatusObject, 'code' | 'details' | 'metadata'> {
  const metadata = new Metadata();
  metadata.set('www-authenticate', bearerChallenge(error, options));
  if (options.scheme === 'Bearer' && options.dpopAlgorithms) metadata.add('www-authenticate', `DPoP algs="${options.dpopAlgorithms.join(' ')}"`);
  // AuthError kept only a header-safe nonce (RFC 9449 §8.1 NQCHAR).
  if (error.dpopNonce !== undefined) metadata.set('dpop-nonce', error.dpopNonce);
  metadata.set(
    STATUS_DETAILS_KEY,
    encodeStatusDetails(error.status, error.wireMessage, { reason: error.reason, domain: ERROR_DOMAIN, metadata: errorInfoMetadata(error) }),
  );
  return { code: error.status, details: error.wireMessage, metadata };
}
