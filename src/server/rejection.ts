import { Metadata, type StatusObject } from '@grpc/grpc-js';
import type { AuthError } from '../errors/auth-error.ts';
import { ERROR_DOMAIN, STATUS_DETAILS_KEY, encodeStatusDetails } from '../errors/error-info.ts';

/** The RFC 6750 challenge for a refusal, e.g. `Bearer error="invalid_token", error_description="token expired"`. */
export function bearerChallenge(error: AuthError): string {
  // RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
  if (error.code === 'ERR_AUTH_TOKEN_MISSING' || error.bearerError === undefined) return 'Bearer';
  let challenge = `Bearer error="${error.bearerError}", error_description="${error.wireMessage}"`;
  if (error.requiredScopes && error.requiredScopes.length > 0) challenge += `, scope="${error.requiredScopes.join(' ')}"`;
  return challenge;
}

/**
 * The status a refused call ends with: fixed details text, `www-authenticate`, and a
 * `google.rpc.ErrorInfo` with the reason so clients can tell "refresh and retry" from "give up".
 */
export function rejectionStatus(error: AuthError): Pick<StatusObject, 'code' | 'details' | 'metadata'> {
  const metadata = new Metadata();
  metadata.set('www-authenticate', bearerChallenge(error));
  const infoMetadata: Record<string, string> = error.requiredScopes?.length ? { requiredScopes: error.requiredScopes.join(' ') } : {};
  metadata.set(
    STATUS_DETAILS_KEY,
    encodeStatusDetails(error.status, error.wireMessage, { reason: error.reason, domain: ERROR_DOMAIN, metadata: infoMetadata }),
  );
  return { code: error.status, details: error.wireMessage, metadata };
}
