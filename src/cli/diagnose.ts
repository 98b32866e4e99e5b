/**
 * Turns a refusal into a diagnosis a person can act on: which check failed, what exactly is wrong with
 * this token against these settings, how to fix it, and whether it is the token's lifecycle (get a new
 * token) or the auth layer's configuration (fix the settings or where the token comes from).
 */
import type { AuthError } from '../errors/auth-error.ts';
import type { AuthErrorCode } from '../errors/codes.ts';
import { duration, isoTime, printable } from './format.ts';
import type { KeySetListing } from './key-source.ts';

/**
 * Which side has to change.
 *
 * @example
 * ```ts
 * const kind: ProblemKind = 'lifecycle'; // the token expired: get a new one, nothing to configure
 * ```
 */
export type ProblemKind = 'lifecycle' | 'configuration' | 'token' | 'access' | 'unexpected';

/**
 * What each kind means, in the words the CLI prints.
 *
 * @example
 * ```ts
 * PROBLEM_KINDS.lifecycle; // 'token lifecycle problem: the token is genuine (its signature verified) but not valid at this time'
 * ```
 */
export const PROBLEM_KINDS: Readonly<Record<ProblemKind, string>> = {
  lifecycle: 'token lifecycle problem: the token is genuine (its signature verified) but not valid at this time',
  configuration: 'auth layer configuration problem: the token does not match what the verifier is set up to accept',
  token: 'broken or forged token: it is not a JWT this library accepts at all',
  access: 'authorization problem: the token is valid but does not grant this access',
  unexpected: 'unexpected failure',
};

/**
 * A failed check, explained.
 *
 * @example
 * ```ts
 * const diagnosis: Diagnosis = {
 *   kind: 'configuration',
 *   check: 'audience (aud)',
 *   problem: 'the token is for audience "billing-api", the verifier expects "orders-api"',
 *   fix: 'request the token for "orders-api"',
 * };
 * ```
 */
export interface Diagnosis {
  readonly kind: ProblemKind;
  /** The check that failed, e.g. `expiry (exp)`. */
  readonly check: string;
  /** What is wrong, with the values involved. */
  readonly problem: string;
  /** What to do about it. */
  readonly fix: string;
}

/**
 * The checks a token was verified against, as the flags set them.
 *
 * @example
 * ```ts
 * const expected: ExpectedClaims = { algorithms: ['RS256'], issuers: ['https://idp.example/'], audiences: ['orders-api'], clockTolerance: 60 };
 * ```
 */
export interface ExpectedClaims {
  readonly algorithms: readonly string[];
  /** Accepted `iss` values; empty when not checked. */
  readonly issuers: readonly string[];
  /** Accepted `aud` values; empty when not checked. */
  readonly audiences: readonly string[];
  /** Seconds. */
  readonly clockTolerance: number;
}

/**
 * Everything a diagnosis may quote.
 *
 * @example
 * ```ts
 * import { AuthError } from 'grpc-jwt-auth';
 * const input: DiagnosisInput = {
 *   error: new AuthError('ERR_AUTH_AUDIENCE_INVALID'),
 *   header: { alg: 'RS256', kid: 'key-1' },
 *   claims: { iss: 'https://idp.example/', aud: 'billing-api' },
 *   expected: { algorithms: ['RS256'], issuers: ['https://idp.example/'], audiences: ['orders-api'], clockTolerance: 60 },
 *   keysOrigin: 'the JWKS at https://idp.example/jwks.json',
 *   keysFlag: '--jwks',
 *   keysRemote: true,
 *   listing: undefined,
 *   fetchFailure: undefined,
 *   now: Date.now(),
 * };
 * ```
 */
export interface DiagnosisInput {
  readonly error: AuthError;
  /** The token's decoded header and claims (not verified). */
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  /** The settings it was verified against. */
  readonly expected: ExpectedClaims;
  /** Where the keys came from, e.g. `the JWKS at https://idp.example/jwks.json`. */
  readonly keysOrigin: string;
  /** The flag that named the keys, e.g. `--jwks`. */
  readonly keysFlag: string;
  /** Whether the keys are fetched from a URL (and so may be refetched after a rotation). */
  readonly keysRemote: boolean;
  /** The keys on offer, when they could be listed. */
  readonly listing: KeySetListing | undefined;
  /** The last failed key fetch, if any. */
  readonly fetchFailure: string | undefined;
  readonly now: number;
}

type Diagnose = (input: DiagnosisInput) => Diagnosis;

const list = (values: readonly string[]): string => values.map((value) => JSON.stringify(value)).join(', ');
const secondsAgo = (epochSeconds: number, now: number): number => now / 1000 - epochSeconds;

function timeOf(claims: DiagnosisInput['claims'], name: string): number | undefined {
  const value = claims[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function audiencesOf(claims: DiagnosisInput['claims']): readonly unknown[] {
  const aud = claims.aud;
  return Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
}

function describeKeys(listing: KeySetListing | undefined): string {
  if (listing === undefined) return 'its keys could not be listed';
  const named = listing.keys.map((key) => `${key.kid === undefined ? '(no kid)' : JSON.stringify(key.kid)} for ${key.algorithms.join('/')}`);
  const skipped = listing.skipped.map((key) => `${key.kid === undefined ? `#${key.index}` : JSON.stringify(key.kid)} skipped: ${key.reason}`);
  const all = [...named, ...skipped];
  return all.length === 0 ? 'it holds no keys' : `it holds ${all.join('; ')}`;
}

function keyNotFound(input: DiagnosisInput): Diagnosis {
  const { header, listing, keysOrigin } = input;
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const alg = printable(header.alg);
  const check = 'key lookup (kid)';
  if (kid === undefined) {
    return {
      kind: 'configuration',
      check,
      problem: `the token has no kid, and ${keysOrigin} offers no single key for ${alg} (${describeKeys(listing)})`,
      fix: "ask the provider to put a kid in its tokens; if it cannot, set the server option tokensWithoutKid: 'try'",
    };
  }
  const published = listing?.keys.filter((key) => key.kid === kid) ?? [];
  const skipped = listing?.skipped.find((key) => key.kid === kid);
  let problem: string;
  if (published.length > 0)
    problem = `key ${JSON.stringify(kid)} is in ${keysOrigin} but verifies ${published.flatMap((key) => key.algorithms).join('/')}, not ${alg}`;
  else if (skipped) problem = `key ${JSON.stringify(kid)} is in ${keysOrigin} but unusable: ${skipped.reason}`;
  else problem = `${keysOrigin} has no key ${JSON.stringify(kid)}; ${describeKeys(listing)}`;
  const rotation = input.keysRemote
    ? ' If that provider rotated keys just now, retry in a moment: a server refetches its keys for an unknown kid at most once ' +
      'per cooldown (30 s by default); providers should publish a key before signing with it'
    : '';
  return {
    kind: 'configuration',
    check,
    problem,
    fix:
      `the token was signed by a key these settings do not know. Check that ${input.keysFlag} gives the keys of the issuer ` +
      `that minted the token (its iss is ${printable(input.claims.iss)}).${rotation}`,
  };
}

function algorithmNotAllowed({ header, expected }: DiagnosisInput): Diagnosis {
  const check = 'algorithm (alg)';
  if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') {
    return {
      kind: 'token',
      check,
      problem: `the token is unsigned (alg ${JSON.stringify(header.alg) ?? 'missing'})`,
      fix: 'an unsigned token proves nothing and is never accepted; it is forged or a test artifact. Use a token signed by your identity provider',
    };
  }
  const alg = printable(header.alg);
  return {
    kind: 'configuration',
    check,
    problem: `the token is signed with ${alg}, but the allowlist is [${expected.algorithms.join(', ')}]`,
    fix:
      `if your provider really signs with ${alg}, add it to the server's algorithms (here: --alg ${alg}); the keys must fit it. ` +
      'Otherwise the token comes from another provider, or was re-signed to switch algorithms (an attack the allowlist stops)',
  };
}

function expired({ claims, expected, now }: DiagnosisInput): Diagnosis {
  const exp = timeOf(claims, 'exp');
  const tolerance = expected.clockTolerance > 0 ? ` (more than the ${expected.clockTolerance} s clock tolerance)` : '';
  return {
    kind: 'lifecycle',
    check: 'expiry (exp)',
    problem: exp === undefined ? 'the token has expired' : `the token expired at ${isoTime(exp)}, ${duration(secondsAgo(exp, now))} ago${tolerance}`,
    fix:
      'get a new token. If a client sent this one, check its token refresh: it should fetch a new token before exp ' +
      "(cachedToken and clientCredentials do), and the client's and server's clocks should agree",
  };
}

function notYetValid({ claims, now }: DiagnosisInput): Diagnosis {
  const nbf = timeOf(claims, 'nbf');
  const iat = timeOf(claims, 'iat');
  const problem =
    nbf !== undefined && nbf > now / 1000
      ? `the token is valid only from ${isoTime(nbf)} (nbf), in ${duration(nbf - now / 1000)}`
      : `the token says it was issued at ${isoTime(iat)} (iat), ${duration((iat ?? 0) - now / 1000)} in the future`;
  return {
    kind: 'lifecycle',
    check: 'not before (nbf, iat)',
    problem,
    fix:
      "the issuer's clock and this machine's disagree: synchronise them (NTP). A small skew can be tolerated with the server's " +
      'clockTolerance (here --clock-tolerance, at most 300 s)',
  };
}

function issuerInvalid({ claims, expected }: DiagnosisInput): Diagnosis {
  const iss = claims.iss;
  const slashOnly = typeof iss === 'string' && expected.issuers.some((wanted) => wanted.replace(/\/$/, '') === iss.replace(/\/$/, ''));
  const problem =
    iss === undefined
      ? `the token has no iss claim; the verifier expects ${list(expected.issuers)}`
      : `the token's iss is ${JSON.stringify(iss)}, the verifier expects ${list(expected.issuers)}` +
        (slashOnly ? ' (they differ only by a trailing slash: issuers are compared exactly)' : '');
  return {
    kind: 'configuration',
    check: 'issuer (iss)',
    problem,
    fix: "set the server's issuer (here --iss) to exactly the iss your provider writes, or get the token from the provider the server trusts",
  };
}

function audienceInvalid({ claims, expected }: DiagnosisInput): Diagnosis {
  const audiences = audiencesOf(claims);
  const problem =
    audiences.length === 0
      ? `the token has no aud claim; the verifier expects ${list(expected.audiences)}`
      : `the token is for audience ${audiences.map((aud) => JSON.stringify(aud)).join(', ')}, the verifier expects ${list(expected.audiences)}`;
  return {
    kind: 'configuration',
    check: 'audience (aud)',
    problem,
    fix:
      `request the token for ${JSON.stringify(expected.audiences[0] ?? '')} (the audience or resource parameter, or the API's identifier ` +
      "at your provider); or, if the server is the one that is wrong, set its audience (here --aud) to the token's",
  };
}

function simple(kind: ProblemKind, check: string, fix: string): Diagnose {
  return ({ error }) => ({ kind, check, problem: error.message, fix });
}

/** One diagnosis per error code: the compiler makes sure none is missed. */
const DIAGNOSES: Readonly<Record<AuthErrorCode, Diagnose>> = {
  ERR_AUTH_TOKEN_MISSING: simple('token', 'token present', 'send the token as "authorization: Bearer <token>"'),
  ERR_AUTH_AUTHORIZATION_MALFORMED: simple('token', 'authorization metadata', 'send exactly one authorization value: "Bearer " followed by the token'),
  ERR_AUTH_TOKEN_MALFORMED: ({ error }) => ({
    kind: 'token',
    check: 'format (compact JWS)',
    problem: `the token is not a well-formed JWT: ${error.message}`,
    fix:
      'pass the token itself: three base64url parts joined by dots, without quotes, spaces or line breaks. An opaque ' +
      '(non-JWT) access token cannot be checked locally: ask your provider for JWT access tokens, or use its introspection endpoint',
  }),
  ERR_AUTH_TOKEN_TOO_LARGE: simple(
    'token',
    'size',
    "carry less in the token (fewer groups or roles), or raise the server's maxTokenBytes if such tokens are expected",
  ),
  ERR_AUTH_ALG_NOT_ALLOWED: algorithmNotAllowed,
  ERR_AUTH_TOKEN_HEADER_INVALID: simple(
    'token',
    'header',
    'the header uses features this library refuses (crit, b64: false, a non-string kid): get a standard JWT from your provider',
  ),
  ERR_AUTH_TOKEN_TYPE_INVALID: simple(
    'configuration',
    'type (typ)',
    "ask for the token type the server requires (e.g. at+jwt access tokens), or change the server's typ option",
  ),
  ERR_AUTH_KEY_NOT_FOUND: keyNotFound,
  ERR_AUTH_SIGNATURE_INVALID: (input) => ({
    kind: 'configuration',
    check: 'signature',
    problem: `the signature does not verify with ${typeof input.header.kid === 'string' ? `key ${JSON.stringify(input.header.kid)}` : 'the key'} of ${input.keysOrigin}`,
    fix:
      'the token was changed after signing, or signed with another key under the same kid (another environment, the wrong ' +
      `secret or PEM). Verify it against the keys of the issuer that minted it (${input.keysFlag})`,
  }),
  ERR_AUTH_TOKEN_EXPIRED: expired,
  ERR_AUTH_TOKEN_NOT_YET_VALID: notYetValid,
  ERR_AUTH_TOKEN_TOO_OLD: simple('lifecycle', 'age (iat)', 'get a new token: the server accepts tokens only for a while after they were issued (maxTokenAge)'),
  ERR_AUTH_ISSUER_INVALID: issuerInvalid,
  ERR_AUTH_AUDIENCE_INVALID: audienceInvalid,
  ERR_AUTH_CLAIM_MISSING: simple(
    'configuration',
    'required claims',
    'have the provider put the claim in its tokens, or stop requiring it on the server (requiredClaims, requireExp)',
  ),
  ERR_AUTH_CLAIM_INVALID: simple('token', 'claim types', 'a registered claim has the wrong type (e.g. exp as a string): fix the token issuer'),
  ERR_AUTH_TOKEN_REJECTED: simple('configuration', 'validate hook', "the server's validate hook refused the token (a revoked jti, say)"),
  ERR_AUTH_TOKEN_REVOKED: simple(
    'token',
    'revocations',
    'the token, or every token of its subject or client issued before an instant, was revoked: get a new token (log in again); an admin lifts it with revocations.unrevoke(...) in the server, or grpc-jwt-auth unrevoke for a Redis store',
  ),
  ERR_AUTH_CERTIFICATE_MISSING: simple(
    'configuration',
    'certificate binding',
    'the token is bound to a client certificate (cnf x5t#S256): call over mutual TLS with that certificate, to a server that verifies client certificates',
  ),
  ERR_AUTH_CERTIFICATE_MISMATCH: simple(
    'token',
    'certificate binding',
    'the token is bound to another client certificate: use the token issued for the certificate this client presents',
  ),
  ERR_AUTH_TOKEN_NOT_BOUND: simple(
    'configuration',
    'certificate binding',
    "the server accepts only sender-constrained tokens (certificateBinding or dpopBinding 'required', or requireBoundToken on the method): get a token bound to your client certificate or DPoP key",
  ),
  ERR_AUTH_DPOP_SCHEME_REQUIRED: simple(
    'configuration',
    'DPoP binding',
    'the token is DPoP-bound (cnf jkt): send it as "authorization: DPoP <token>" with a proof in dpop metadata (createTokenInterceptor with dpop), to a server configured with dpop',
  ),
  ERR_AUTH_DPOP_PROOF_MISSING: simple('configuration', 'DPoP proof', 'the call used the DPoP scheme without a proof: send one in dpop metadata'),
  ERR_AUTH_DPOP_PROOF_INVALID: simple(
    'configuration',
    'DPoP proof',
    "the proof does not match the call: check its typ (dpop+jwt), alg (the server's dpop.algorithms), htm (POST), htu (one of the server's dpop.origins + the method path) and ath",
  ),
  ERR_AUTH_DPOP_PROOF_STALE: simple('lifecycle', 'DPoP proof iat', 'sign a fresh proof for every call, and check the client clock'),
  ERR_AUTH_DPOP_PROOF_REPLAYED: simple('token', 'DPoP proof jti', 'a proof is good for one call: sign a new proof (new jti) for every call'),
  ERR_AUTH_DPOP_KEY_MISMATCH: simple(
    'token',
    'DPoP binding',
    'the proof is signed with a key other than the one the token is bound to: use the DPoP key the token was issued for',
  ),
  ERR_AUTH_DPOP_NONCE_REQUIRED: simple(
    'lifecycle',
    'DPoP nonce',
    'retry with the nonce from the dpop-nonce trailer in the proof (the client token interceptor does this once for unary calls)',
  ),
  ERR_AUTH_REPLAY_CHECK_UNAVAILABLE: simple(
    'configuration',
    'DPoP replay store',
    "the server's replay store failed or is full: retry later; check the store's health",
  ),
  ERR_AUTH_REVOCATIONS_UNAVAILABLE: simple(
    'configuration',
    'revocation store',
    "the server's revocation list is not loaded, its Redis has been unreachable longer than staleIfError, or a revocation store of your own threw or answered with a promise: retry later; check Redis (or that store) and auth.status().revocations",
  ),
  ERR_AUTH_INSUFFICIENT_SCOPE: simple(
    'access',
    'scopes',
    'request the missing scope when getting the token, and have it granted to the client at the provider',
  ),
  ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION: simple(
    'access',
    'user authentication (acr, auth_time)',
    'log the user in again with the acr_values and max_age the refusal names (RFC 9470 step-up), then retry with the new token',
  ),
  ERR_AUTH_ACCESS_DENIED: simple('access', 'rules', 'the method is denied by a rule, whatever the token'),
  ERR_AUTH_KEYS_UNAVAILABLE: (input) => ({
    kind: 'configuration',
    check: 'keys',
    problem: `the keys could not be had from ${input.keysOrigin}: ${input.fetchFailure ?? input.error.message}`,
    fix: `check the URL given to ${input.keysFlag}, that the provider is up and reachable from here, and that it is https (plain http only to loopback)`,
  }),
  ERR_AUTH_VERIFIER_BUSY: simple('unexpected', 'load', 'too many new tokens were being verified at once (maxConcurrentVerifications): retry later'),
  ERR_AUTH_INTERNAL: simple('unexpected', 'verification', 'this should not happen: please report it with the message above'),
};

/**
 * Explains why a token was refused.
 *
 * @example
 * ```ts
 * import { AuthError } from 'grpc-jwt-auth';
 * const { kind, check, problem, fix } = diagnose({
 *   error: new AuthError('ERR_AUTH_TOKEN_EXPIRED'),
 *   header: { alg: 'ES256' },
 *   claims: { exp: Math.floor(Date.now() / 1000) - 180 },
 *   expected: { algorithms: ['ES256'], issuers: [], audiences: [], clockTolerance: 60 },
 *   keysOrigin: 'the secret given',
 *   keysFlag: '--secret',
 *   keysRemote: false,
 *   listing: undefined,
 *   fetchFailure: undefined,
 *   now: Date.now(),
 * });
 * // kind 'lifecycle', check 'expiry (exp)', problem 'the token expired at ..., 3 minutes ago (more than the 60 s clock tolerance)'
 * ```
 */
export function diagnose(input: DiagnosisInput): Diagnosis {
  return DIAGNOSES[input.error.code](input);
}
