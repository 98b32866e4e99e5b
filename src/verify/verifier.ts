import { compactVerify, errors as joseErrors } from 'jose';
import { deepFreeze, type AuthContext, type JwtClaims, type JwtHeader } from '../auth-context.ts';
import { collectClaimValues } from '../claim-paths.ts';
import { AuthError } from '../errors.ts';
import type { VerificationKey } from '../keys/resolver.ts';
import { audienceList, checkIdentityClaims, checkTimeClaims } from './claims.ts';
import type { ParsedToken } from './compact.ts';
import { checkHeader } from './header.ts';
import type { CompiledVerifyOptions } from './options.ts';

/** A token that passed every check, with what the cache needs to keep it honest. */
export interface VerifiedToken {
  readonly context: AuthContext;
  /** The key that verified it: when it leaves the key set, cached copies die. */
  readonly key: VerificationKey;
  /** `exp` in seconds, when present. */
  readonly exp: number | undefined;
}

/** Maps a jose error to ours; the jose error stays attached as `cause` for logs. */
function fromJoseError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError('ERR_AUTH_SIGNATURE_INVALID', 'token signature does not verify', { cause: error });
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new AuthError('ERR_AUTH_ALG_NOT_ALLOWED', error.message, { cause: error });
  if (error instanceof joseErrors.JWSInvalid) return new AuthError('ERR_AUTH_TOKEN_MALFORMED', error.message, { cause: error });
  if (error instanceof joseErrors.JOSENotSupported) return new AuthError('ERR_AUTH_TOKEN_HEADER_INVALID', error.message, { cause: error });
  return new AuthError('ERR_AUTH_INTERNAL', `unexpected error while verifying: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

/** Builds the frozen context handlers see. */
function buildContext(parsed: ParsedToken, options: CompiledVerifyOptions): AuthContext {
  const claims = deepFreeze(parsed.claims) as JwtClaims;
  const { exp, iat } = claims;
  return Object.freeze({
    subject: claims.sub,
    issuer: claims.iss,
    audience: Object.freeze(audienceList(claims)),
    scopes: collectClaimValues(claims, options.scopeClaims),
    roles: collectClaimValues(claims, options.roleClaims),
    expiresAt: exp === undefined ? undefined : new Date(exp * 1000),
    issuedAt: iat === undefined ? undefined : new Date(iat * 1000),
    claims,
    header: deepFreeze(parsed.header) as JwtHeader,
    token: parsed.token,
  });
}

/**
 * Verifies parsed tokens of one issuer: header policy, key lookup, signature (jose), then claims. Claims
 * are checked only after the signature, so every claim error is about an authentic token.
 */
export class TokenVerifier {
  constructor(readonly options: CompiledVerifyOptions) {}

  async verify(parsed: ParsedToken, now: number): Promise<VerifiedToken> {
    const lookup = checkHeader(parsed.header, this.options.header);
    let keys: readonly VerificationKey[];
    try {
      keys = await this.options.keys.getKeys(lookup);
    } catch (error) {
      throw fromJoseError(error);
    }
    let verifiedBy: VerificationKey | undefined;
    let failure: unknown;
    // Several keys only for a token without kid (bounded by the resolver); the first that verifies wins.
    for (const key of keys) {
      try {
        // The allowlist handed to jose is the one algorithm already checked: jose re-checks it as well.
        await compactVerify(parsed.token, await key.material(lookup.alg), { algorithms: [lookup.alg] });
        verifiedBy = key;
        break;
      } catch (error) {
        failure = error;
      }
    }
    if (verifiedBy === undefined) throw fromJoseError(failure ?? new AuthError('ERR_AUTH_KEY_NOT_FOUND'));
    const exp = checkTimeClaims(parsed.claims, this.options.claims, now);
    checkIdentityClaims(parsed.claims, this.options.claims);
    return { context: buildContext(parsed, this.options), key: verifiedBy, exp };
  }
}
