import { compactVerify, errors as joseErrors } from 'jose';
import { AuthError, toAuthError } from '../errors/auth-error.ts';
import type { KeyResolver, VerificationKey } from '../keys/resolver.ts';
import { checkHeader, type HeaderPolicy } from './header.ts';

/** Maps a jose error to ours; the jose error stays attached as `cause` for logs. */
function fromJoseError(error: unknown): AuthError {
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return new AuthError('ERR_AUTH_SIGNATURE_INVALID', 'token signature does not verify', { cause: error });
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new AuthError('ERR_AUTH_ALG_NOT_ALLOWED', error.message, { cause: error });
  if (error instanceof joseErrors.JWSInvalid) return new AuthError('ERR_AUTH_TOKEN_MALFORMED', error.message, { cause: error });
  if (error instanceof joseErrors.JOSENotSupported) return new AuthError('ERR_AUTH_TOKEN_HEADER_INVALID', error.message, { cause: error });
  return toAuthError(error, 'unexpected error while verifying');
}

/**
 * The signature layer: header policy, key lookup, then jose's check of the compact JWS. Returns the key
 * that verified it. The token must already have passed the strict format check.
 */
export async function verifySignature(
  token: string,
  header: Readonly<Record<string, unknown>>,
  policy: HeaderPolicy,
  keys: KeyResolver,
): Promise<VerificationKey> {
  const lookup = checkHeader(header, policy);
  let candidates: readonly VerificationKey[];
  try {
    candidates = await keys.getKeys(lookup);
  } catch (error) {
    throw fromJoseError(error);
  }
  let failure: unknown;
  // Several keys only for a token without kid (bounded by the resolver); the first that verifies wins.
  for (const key of candidates) {
    try {
      // The allowlist handed to jose is the one algorithm already checked: jose re-checks it as well.
      await compactVerify(token, await key.material(lookup.alg), { algorithms: [lookup.alg] });
      return key;
    } catch (error) {
      failure = error;
    }
  }
  throw fromJoseError(failure ?? new AuthError('ERR_AUTH_KEY_NOT_FOUND'));
}
