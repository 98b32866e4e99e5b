import { Metadata, type StatusObject } from '@grpc/grpc-js';
import type { AuthError } from '../errors/auth-error.ts';
import { ERROR_DOMAIN, STATUS_DETAILS_KEY, encodeStatusDetails } from '../errors/error-info.ts';
import { STEP_UP_METADATA } from '../errors/step-up.ts';

/**
 * The RFC 6750 challenge for a refusal, e.g. `Bearer error="invalid_token", error_description="token expired"`;
 * a step-up refusal adds RFC 9470's `acr_values="mfa phr"` and `max_age="300"` (quoted, as in its examples).
 */
export function bearerChallenge(error: AuthError): string {
  // RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
  if (error.code === 'ERR_AUTH_TOKEN_MISSING' || error.bearerError === undefined) return 'Bearer';
  let challenge = `Bearer error="${error.bearerError}", error_description="${error.wireMessage}"`;
  if (error.requiredScopes && error.requiredScopes.length > 0) challenge += `, scope="${error.requiredScopes.join(' ')}"`;
  // AuthError kept only header-safe acr values and a whole-number maxAge: nothing here can break the quotes.
  if (error.stepUp?.acrValues) challenge += `, acr_values="${error.stepUp.acrValues.join(' ')}"`;
  if (error.stepUp?.maxAge !== undefined) challenge += `, max_age="${error.stepUp.maxAge}"`;
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
 * `google.rpc.ErrorInfo` with the reason so clients can tell "refresh and retry" from "give up".
 */
export function rejectionStatus(error: AuthError): Pick<StatusObject, 'code' | 'details' | 'metadata'> {
  const metadata = new Metadata();
  metadata.set('www-authenticate', bearerChallenge(error));
  metadata.set(
    STATUS_DETAILS_KEY,
    encodeStatusDetails(error.status, error.wireMessage, { reason: error.reason, domain: ERROR_DOMAIN, metadata: errorInfoMetadata(error) }),
  );
  return { code: error.status, details: error.wireMessage, metadata };
}
