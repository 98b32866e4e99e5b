import { LAST_NUMERIC_DATE } from '../util/clock.ts';
import { AuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';

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
 * A NumericDate must be a finite JSON number naming a real instant, from 1970 to the end of the year
 * 9999. Strings, null, arrays and 1e400 (parsed as Infinity) are refused: lenient coercion is how
 * "exp": "9999999999" or Infinity outlived its welcome elsewhere. Negative and huge values are refused
 * too: `exp: 1e21` would be a token that never expires under another name (and an Invalid Date in the
 * context), and `nbf: 2^63` is past what a Date can hold, so even a log message about it would throw
 * (INTERNAL for a signed token, which must never happen). `-0` is 0.
 */
function numericDate(claims: Claims, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`claim ${name} is ${describeForLog(value)}, not a finite NumericDate`);
  if (value < 0 || value > LAST_NUMERIC_DATE) throw invalid(`claim ${name} is ${value}, outside 1970-01-01 to 9999-12-31T23:59:59Z`);
  return value;
}

/**
 * When a token's time claims hold, in seconds since the epoch: from `from` (inclusive) until `until`
 * (exclusive). A verified-token cache hit compares the clock with exactly these numbers, the same
 * comparisons {@link checkTimeClaims} makes, so a cached token ages exactly like a fresh one.
 */
export interface TimeWindow {
  readonly from: number;
  /** The earlier of `exp` plus tolerance and the end of `maxTokenAge` (Infinity when neither applies). */
  readonly until: number;
  /** What refuses the token from `until` on: its `exp`, or `maxTokenAge` (undefined when `until` is Infinity). */
  readonly endedBy: 'exp' | 'maxTokenAge' | undefined;
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/**
 * The time checks (`exp`, `nbf`, `iat`, `maxTokenAge`, all with the clock tolerance) against `now`, in
 * seconds. Returns the window in which they keep holding; throws the precise error when `now` is outside.
 */
export function checkTimeClaims(claims: Claims, policy: ClaimPolicy, now: number): TimeWindow {
  const exp = numericDate(claims, 'exp');
  const nbf = numericDate(claims, 'nbf');
  const iat = numericDate(claims, 'iat');
  if (exp === undefined && policy.requireExp)
    throw new AuthError('ERR_AUTH_CLAIM_MISSING', 'token has no exp claim (set requireExp: false to allow tokens that never expire)');
  if (policy.maxTokenAge !== undefined && iat === undefined) throw new AuthError('ERR_AUTH_CLAIM_MISSING', 'token has no iat claim, required by maxTokenAge');
  const tolerance = policy.clockTolerance;
  // RFC 7519 §4.1.4: the current time must be *before* exp; at the exact second the token is dead.
  const expiresAt = exp === undefined ? Number.POSITIVE_INFINITY : exp + tolerance;
  // maxTokenAge is inclusive and counted in whole seconds, as jose does (age = floor(now) - iat, too old
  // when age > maxTokenAge + tolerance): a token exactly maxTokenAge old passes for that whole second,
  // and maxTokenAge 0 admits a token issued this second. So it is too old from the next whole second on.
  const tooOldAt = policy.maxTokenAge === undefined || iat === undefined ? Number.POSITIVE_INFINITY : Math.floor(iat + tolerance + policy.maxTokenAge) + 1;
  if (now >= expiresAt) throw new AuthError('ERR_AUTH_TOKEN_EXPIRED', `token expired at ${iso(exp as number)}`);
  if (nbf !== undefined && now < nbf - tolerance) throw new AuthError('ERR_AUTH_TOKEN_NOT_YET_VALID', `token not valid before ${iso(nbf)}`);
  if (iat !== undefined && now < iat - tolerance) throw new AuthError('ERR_AUTH_TOKEN_NOT_YET_VALID', `token issued in the future (iat ${iso(iat)})`);
  if (now >= tooOldAt) throw new AuthError('ERR_AUTH_TOKEN_TOO_OLD', `token issued ${Math.floor(now - (iat as number))} s ago, over maxTokenAge`);
  const from = Math.max(nbf === undefined ? Number.NEGATIVE_INFINITY : nbf - tolerance, iat === undefined ? Number.NEGATIVE_INFINITY : iat - tolerance);
  const until = Math.min(expiresAt, tooOldAt);
  const endedBy = until === Number.POSITIVE_INFINITY ? undefined : tooOldAt < expiresAt ? 'maxTokenAge' : 'exp';
  return { from, until, endedBy };
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
