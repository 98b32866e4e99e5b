import { AuthError, describeForLog } from '../errors.ts';

/** The claim checks, compiled from the options once. Times are in seconds. */
export interface ClaimPolicy {
  readonly issuers: ReadonlySet<string> | undefined;
  readonly audiences: ReadonlySet<string> | undefined;
  readonly subject: string | undefined;
  readonly requiredClaims: readonly string[];
  readonly requireExp: boolean;
  readonly clockTolerance: number;
  readonly maxTokenAge: number | undefined;
}

/** A claims set as decoded from JSON. */
export type Claims = Readonly<Record<string, unknown>>;

function invalid(message: string): AuthError {
  return new AuthError('ERR_AUTH_CLAIM_INVALID', message);
}

/**
 * A NumericDate must be a finite JSON number. Strings, null, arrays and 1e400 (parsed as Infinity) are
 * refused: lenient coercion is how "exp": "9999999999" or Infinity outlived its welcome elsewhere.
 */
function numericDate(claims: Claims, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`claim ${name} is ${describeForLog(value)}, not a finite NumericDate`);
  return value;
}

/**
 * The time checks. Also run on every verified-token cache hit, so a cached token ages like a fresh one.
 * Returns `exp` (undefined when absent and allowed).
 */
export function checkTimeClaims(claims: Claims, policy: ClaimPolicy, now: number): number | undefined {
  const exp = numericDate(claims, 'exp');
  const nbf = numericDate(claims, 'nbf');
  const iat = numericDate(claims, 'iat');
  const tolerance = policy.clockTolerance;
  if (exp === undefined) {
    if (policy.requireExp) throw new AuthError('ERR_AUTH_CLAIM_MISSING', 'token has no exp claim (set requireExp: false to allow tokens that never expire)');
  } else if (now - tolerance >= exp) {
    // RFC 7519 §4.1.4: the current time must be *before* exp; at the exact second the token is dead.
    throw new AuthError('ERR_AUTH_TOKEN_EXPIRED', `token expired at ${new Date(exp * 1000).toISOString()}`);
  }
  if (nbf !== undefined && nbf > now + tolerance) {
    throw new AuthError('ERR_AUTH_TOKEN_NOT_YET_VALID', `token not valid before ${new Date(nbf * 1000).toISOString()}`);
  }
  if (iat !== undefined && iat > now + tolerance) {
    throw new AuthError('ERR_AUTH_TOKEN_NOT_YET_VALID', `token issued in the future (iat ${new Date(iat * 1000).toISOString()})`);
  }
  if (policy.maxTokenAge !== undefined) {
    if (iat === undefined) throw new AuthError('ERR_AUTH_CLAIM_MISSING', 'token has no iat claim, required by maxTokenAge');
    if (now - iat - tolerance > policy.maxTokenAge) throw new AuthError('ERR_AUTH_TOKEN_TOO_OLD', `token issued ${Math.round(now - iat)} s ago, over maxTokenAge`);
  }
  return exp;
}

function optionalString(claims: Claims, name: string): string | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value !== 'string') throw invalid(`claim ${name} is ${describeForLog(value)}, not a string`);
  return value;
}

/** `aud` as a list: a string or an array of strings (RFC 7519 §4.1.3); anything else is refused. */
export function audienceList(claims: Claims): readonly string[] {
  if (!Object.hasOwn(claims, 'aud')) return [];
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((entry) => typeof entry === 'string')) return aud as string[];
  throw invalid(`claim aud is ${describeForLog(aud)}, not a string or an array of strings`);
}

/**
 * The non-time claim checks: registered claim types, issuer, audience, subject, required claims.
 * Comparisons are exact: no trimming, case folding or trailing-slash tolerance, which would let a token
 * from `https://idp.example.evil/` or `ORDERS-API` pass for another.
 */
export function checkIdentityClaims(claims: Claims, policy: ClaimPolicy): void {
  const iss = optionalString(claims, 'iss');
  const sub = optionalString(claims, 'sub');
  optionalString(claims, 'jti');
  const audiences = audienceList(claims);
  if (policy.issuers !== undefined && (iss === undefined || !policy.issuers.has(iss))) {
    throw new AuthError('ERR_AUTH_ISSUER_INVALID', `token iss ${describeForLog(iss)} is not one of [${[...policy.issuers].join(', ')}]`);
  }
  if (policy.audiences !== undefined) {
    const wanted = policy.audiences;
    if (!audiences.some((aud) => wanted.has(aud))) {
      throw new AuthError('ERR_AUTH_AUDIENCE_INVALID', `token aud ${describeForLog(claims.aud)} includes none of [${[...wanted].join(', ')}]`);
    }
  }
  if (policy.subject !== undefined && sub !== policy.subject) {
    throw invalid(`token sub ${describeForLog(sub)} is not ${JSON.stringify(policy.subject)}`);
  }
  for (const name of policy.requiredClaims) {
    if (!Object.hasOwn(claims, name) || claims[name] === undefined || claims[name] === null) {
      throw new AuthError('ERR_AUTH_CLAIM_MISSING', `token lacks required claim ${JSON.stringify(name)}`);
    }
  }
}
