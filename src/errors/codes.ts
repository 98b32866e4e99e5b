/**
 * The one error classification: every refusal has a stable code, and the code alone decides its gRPC
 * status, its `google.rpc.ErrorInfo` reason (the code without `ERR_AUTH_`, always), its fixed wire
 * message and its RFC 6750 error. One table holds them, checked by the compiler for every code.
 *
 * grpc-js is imported for its types only (erased at build time): this module, and everything under
 * errors/, loads without grpc-js, which the client side and the CLI's `inspect` rely on.
 */
import type { status } from '@grpc/grpc-js';

/**
 * The gRPC statuses a refusal can have, by their grpc-js names. The compiler checks each value against
 * grpc-js `status` (a mismatch fails the type-check), so this module needs no runtime grpc-js import.
 *
 * @example
 * ```ts
 * REFUSAL_STATUS.UNAUTHENTICATED; // 16, the value of grpc-js status.UNAUTHENTICATED
 * ```
 */
export const REFUSAL_STATUS = {
  /** 16: no token, or a token that fails verification. */
  UNAUTHENTICATED: 16,
  /** 7: a valid token that a guard or a `'deny'` rule refuses. */
  PERMISSION_DENIED: 7,
  /** 14: verification keys cannot be had right now, or the verifier is busy; the same call may succeed later. */
  UNAVAILABLE: 14,
  /** 13: an unexpected error while authenticating (a bug, not a verdict on the token). */
  INTERNAL: 13,
} as const satisfies { readonly [K in keyof typeof status]?: (typeof status)[K] };

/**
 * The RFC 6750 `error` attribute of the `www-authenticate` trailer. A refusal without one (a missing
 * token, unavailable keys, an internal error) gets a bare `Bearer` challenge.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type BearerErrorCode } from 'grpc-jwt-auth';
 * declare const metrics: { increment(name: string): void };
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['ES256'],
 *   onRejected: ({ error }) => {
 *     const bearerError: BearerErrorCode | undefined = error.bearerError;
 *     if (bearerError === 'insufficient_scope') metrics.increment('auth.forbidden');
 *   },
 * });
 * ```
 */
export type BearerErrorCode =
  'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication' | 'invalid_dpop_proof' | 'use_dpop_nonce';

/**
 * Stable error codes, one per kind of refusal: safe to match on in code and alerts. Each maps to one
 * gRPC status ({@link AuthError.status}) and one `google.rpc.ErrorInfo` reason, which is always the
 * code without `ERR_AUTH_` (`ERR_AUTH_TOKEN_EXPIRED` → `TOKEN_EXPIRED`).
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type AuthErrorCode } from 'grpc-jwt-auth';
 * const refusals = new Map<AuthErrorCode, number>();
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['ES256'],
 *   onRejected: ({ error }) => refusals.set(error.code, (refusals.get(error.code) ?? 0) + 1),
 * });
 * ```
 */
export type AuthErrorCode =
  /** UNAUTHENTICATED: the call has no `authorization` metadata, or a guarded handler ran without a verified token. */
  | 'ERR_AUTH_TOKEN_MISSING'
  /**
   * UNAUTHENTICATED: `authorization` is not exactly one `Bearer <token>` value (another scheme, no token, a
   * binary value; several values only when server code added them, since Node's HTTP/2 server keeps just
   * the first `authorization` field of a request).
   */
  | 'ERR_AUTH_AUTHORIZATION_MALFORMED'
  /** UNAUTHENTICATED: the token is not a well-formed compact JWS (three strict base64url segments, JSON objects). */
  | 'ERR_AUTH_TOKEN_MALFORMED'
  /** UNAUTHENTICATED: the token is longer than `maxTokenBytes`. */
  | 'ERR_AUTH_TOKEN_TOO_LARGE'
  /** UNAUTHENTICATED: the token's `alg` is not in the `algorithms` allowlist (`none` never is), or a discovered issuer does not sign with it. */
  | 'ERR_AUTH_ALG_NOT_ALLOWED'
  /** UNAUTHENTICATED: the header has `crit`, `b64` other than `true`, or a `kid` that is not a string. */
  | 'ERR_AUTH_TOKEN_HEADER_INVALID'
  /** UNAUTHENTICATED: the header's `typ` is not the configured `typ`. */
  | 'ERR_AUTH_TOKEN_TYPE_INVALID'
  /** UNAUTHENTICATED: no key of the resolver fits the token's `kid` and `alg`. */
  | 'ERR_AUTH_KEY_NOT_FOUND'
  /** UNAUTHENTICATED: the signature does not verify. */
  | 'ERR_AUTH_SIGNATURE_INVALID'
  /** UNAUTHENTICATED: `exp` has passed (after `clockTolerance`), also while the call was admitted or its stream was open. */
  | 'ERR_AUTH_TOKEN_EXPIRED'
  /** UNAUTHENTICATED: `nbf` or `iat` is in the future (beyond `clockTolerance`). */
  | 'ERR_AUTH_TOKEN_NOT_YET_VALID'
  /** UNAUTHENTICATED: `iat` is longer ago than `maxTokenAge`. */
  | 'ERR_AUTH_TOKEN_TOO_OLD'
  /** UNAUTHENTICATED: `iss` is not an accepted issuer (with `issuers`: not a configured one). */
  | 'ERR_AUTH_ISSUER_INVALID'
  /** UNAUTHENTICATED: `aud` contains none of the accepted audiences. */
  | 'ERR_AUTH_AUDIENCE_INVALID'
  /** UNAUTHENTICATED: `exp` is absent (with `requireExp`), `iat` is absent (with `maxTokenAge`), or a `requiredClaims` entry is absent or null. */
  | 'ERR_AUTH_CLAIM_MISSING'
  /** UNAUTHENTICATED: a registered claim has the wrong type (e.g. `exp` not a finite number), or `sub` is not the required `subject`. */
  | 'ERR_AUTH_CLAIM_INVALID'
  /** UNAUTHENTICATED: the `validate` hook did not return `true` (only `true` admits). */
  | 'ERR_AUTH_TOKEN_REJECTED'
  /** UNAUTHENTICATED: the token was revoked (by `iss` + `jti` or token id, or a subject's or client's tokens issued before an instant): get a new token. */
  | 'ERR_AUTH_TOKEN_REVOKED'
  /**
   * UNAUTHENTICATED: the token is bound to a client certificate (`cnf["x5t#S256"]`, RFC 8705) and the call
   * came without a verified one (no mutual TLS, a server that does not verify client certificates, or a
   * `clientCertificate` hook that found none).
   */
  | 'ERR_AUTH_CERTIFICATE_MISSING'
  /** UNAUTHENTICATED: the token is bound to a client certificate other than the one the call presented. */
  | 'ERR_AUTH_CERTIFICATE_MISMATCH'
  /**
   * UNAUTHENTICATED: the token must be sender-constrained and is not (`certificateBinding: 'required'`,
   * `dpopBinding: 'required'`, a `requireBoundToken` guard), or an unbound token came with the DPoP scheme.
   */
  | 'ERR_AUTH_TOKEN_NOT_BOUND'
  /** UNAUTHENTICATED: the token is DPoP-bound (`cnf.jkt`, RFC 9449) and came as `Bearer`, or to a server without `dpop`. */
  | 'ERR_AUTH_DPOP_SCHEME_REQUIRED'
  /** UNAUTHENTICATED: `authorization: DPoP <token>` without a `dpop` metadata proof. */
  | 'ERR_AUTH_DPOP_PROOF_MISSING'
  /** UNAUTHENTICATED: the DPoP proof is malformed, badly signed, or for another method, origin or token (`htm`, `htu`, `ath`). */
  | 'ERR_AUTH_DPOP_PROOF_INVALID'
  /** UNAUTHENTICATED: the DPoP proof's `iat` is outside the accepted window (too old, or in the future). */
  | 'ERR_AUTH_DPOP_PROOF_STALE'
  /** UNAUTHENTICATED: the DPoP proof (`jti`) was already used within its window: a replay. */
  | 'ERR_AUTH_DPOP_PROOF_REPLAYED'
  /** UNAUTHENTICATED: the DPoP proof is signed with a key other than the one the token is bound to (`cnf.jkt`). */
  | 'ERR_AUTH_DPOP_KEY_MISMATCH'
  /** UNAUTHENTICATED: the server requires DPoP nonces and the proof lacks the current one; the `dpop-nonce` trailer carries it. Retry with it. */
  | 'ERR_AUTH_DPOP_NONCE_REQUIRED'
  /** UNAVAILABLE: the DPoP replay store failed or is full; the proof could not be checked for reuse. Retry later. */
  | 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE'
  /**
   * UNAVAILABLE: the revocation list cannot be trusted right now (a shared store unreachable for longer than
   * its `staleIfError`, or not loaded yet), so no token can be admitted. Retry later.
   */
  | 'ERR_AUTH_REVOCATIONS_UNAVAILABLE'
  /** PERMISSION_DENIED: a guard refused the verified caller. */
  | 'ERR_AUTH_INSUFFICIENT_SCOPE'
  /**
   * UNAUTHENTICATED (RFC 9470 answers 401): a step-up guard (`requireAcr`, `requireAuthTime`) refused:
   * the user must log in again, more strongly or more recently; `www-authenticate` and ErrorInfo say how.
   */
  | 'ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION'
  /** PERMISSION_DENIED: a `'deny'` rule matches the method. */
  | 'ERR_AUTH_ACCESS_DENIED'
  /** UNAVAILABLE: the keys needed cannot be had right now (the key set cannot be fetched or refreshed); retry later. */
  | 'ERR_AUTH_KEYS_UNAVAILABLE'
  /**
   * UNAVAILABLE: the token needed a full verification while `maxConcurrentVerifications` of them were
   * already under way (a flood of new or forged tokens); refused at once, nothing about the token was
   * judged. Retry later, with backoff.
   */
  | 'ERR_AUTH_VERIFIER_BUSY'
  /** INTERNAL: an unexpected throw (a bug, or a hook or guard throwing something other than an `AuthError`), a `clock` that throws or reads NaN, or `getAuth` on a call without a verified token (a server-side mistake: the call ends with this status). */
  | 'ERR_AUTH_INTERNAL';

/**
 * What a code decides besides its reason (which is the code itself without `ERR_AUTH_`).
 *
 * @example
 * ```ts
 * const { status, wireMessage, bearerError } = codeInfo('ERR_AUTH_TOKEN_EXPIRED'); // 16, 'token expired', 'invalid_token'
 * ```
 */
export interface CodeInfo {
  readonly status: status.UNAUTHENTICATED | status.PERMISSION_DENIED | status.UNAVAILABLE | status.INTERNAL;
  readonly wireMessage: string;
  readonly bearerError?: BearerErrorCode;
}

const U = REFUSAL_STATUS.UNAUTHENTICATED;
const DENIED = REFUSAL_STATUS.PERMISSION_DENIED;

/**
 * The one table of error codes. `satisfies` makes the compiler refuse a code without an entry and an
 * entry without a code. Wire messages are fixed text: they help a client developer fix their setup
 * without echoing anything from the token.
 */
const CODES = {
  ERR_AUTH_TOKEN_MISSING: { status: U, wireMessage: 'missing bearer token in authorization metadata' },
  ERR_AUTH_AUTHORIZATION_MALFORMED: {
    status: U,
    wireMessage: 'authorization metadata must be a single "Bearer <token>" value',
    bearerError: 'invalid_request',
  },
  ERR_AUTH_TOKEN_MALFORMED: { status: U, wireMessage: 'token is not a well-formed compact JWS', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_TOO_LARGE: { status: U, wireMessage: 'token exceeds the size limit', bearerError: 'invalid_token' },
  ERR_AUTH_ALG_NOT_ALLOWED: { status: U, wireMessage: 'token algorithm is not allowed', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_HEADER_INVALID: { status: U, wireMessage: 'token header is not acceptable', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_TYPE_INVALID: { status: U, wireMessage: 'token type (typ) is not acceptable', bearerError: 'invalid_token' },
  ERR_AUTH_KEY_NOT_FOUND: { status: U, wireMessage: 'no key found to verify the token', bearerError: 'invalid_token' },
  ERR_AUTH_SIGNATURE_INVALID: { status: U, wireMessage: 'token signature is invalid', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_EXPIRED: { status: U, wireMessage: 'token expired', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_NOT_YET_VALID: { status: U, wireMessage: 'token is not yet valid', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_TOO_OLD: { status: U, wireMessage: 'token was issued too long ago', bearerError: 'invalid_token' },
  ERR_AUTH_ISSUER_INVALID: { status: U, wireMessage: 'token issuer is not accepted', bearerError: 'invalid_token' },
  ERR_AUTH_AUDIENCE_INVALID: { status: U, wireMessage: 'token audience is not accepted', bearerError: 'invalid_token' },
  ERR_AUTH_CLAIM_MISSING: { status: U, wireMessage: 'token lacks a required claim', bearerError: 'invalid_token' },
  ERR_AUTH_CLAIM_INVALID: { status: U, wireMessage: 'token has an invalid claim', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_REJECTED: { status: U, wireMessage: 'token was rejected', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_REVOKED: { status: U, wireMessage: 'token revoked', bearerError: 'invalid_token' },
  ERR_AUTH_CERTIFICATE_MISSING: { status: U, wireMessage: 'token is bound to a client certificate the call did not present', bearerError: 'invalid_token' },
  ERR_AUTH_CERTIFICATE_MISMATCH: { status: U, wireMessage: 'token is bound to another client certificate', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_NOT_BOUND: { status: U, wireMessage: 'token must be sender-constrained', bearerError: 'invalid_token' },
  ERR_AUTH_DPOP_SCHEME_REQUIRED: {
    status: U,
    wireMessage: 'DPoP-bound token must be sent with the DPoP scheme and a proof',
    bearerError: 'invalid_token',
  },
  ERR_AUTH_DPOP_PROOF_MISSING: { status: U, wireMessage: 'missing DPoP proof in dpop metadata', bearerError: 'invalid_request' },
  ERR_AUTH_DPOP_PROOF_INVALID: { status: U, wireMessage: 'DPoP proof is invalid', bearerError: 'invalid_dpop_proof' },
  ERR_AUTH_DPOP_PROOF_STALE: { status: U, wireMessage: 'DPoP proof is too old or not yet valid', bearerError: 'invalid_dpop_proof' },
  ERR_AUTH_DPOP_PROOF_REPLAYED: { status: U, wireMessage: 'DPoP proof was already used', bearerError: 'invalid_dpop_proof' },
  ERR_AUTH_DPOP_KEY_MISMATCH: { status: U, wireMessage: 'DPoP proof key does not match the token binding', bearerError: 'invalid_token' },
  ERR_AUTH_DPOP_NONCE_REQUIRED: { status: U, wireMessage: 'DPoP proof must carry the current server nonce', bearerError: 'use_dpop_nonce' },
  ERR_AUTH_REPLAY_CHECK_UNAVAILABLE: { status: REFUSAL_STATUS.UNAVAILABLE, wireMessage: 'replay check unavailable, retry later' },
  ERR_AUTH_REVOCATIONS_UNAVAILABLE: { status: REFUSAL_STATUS.UNAVAILABLE, wireMessage: 'revocation list unavailable, retry later' },
  ERR_AUTH_INSUFFICIENT_SCOPE: { status: DENIED, wireMessage: 'token does not grant access to this method', bearerError: 'insufficient_scope' },
  ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION: {
    status: U,
    wireMessage: 'stronger or more recent user authentication required',
    bearerError: 'insufficient_user_authentication',
  },
  ERR_AUTH_ACCESS_DENIED: { status: DENIED, wireMessage: 'access to this method is denied', bearerError: 'insufficient_scope' },
  ERR_AUTH_KEYS_UNAVAILABLE: { status: REFUSAL_STATUS.UNAVAILABLE, wireMessage: 'verification keys are unavailable, retry later' },
  ERR_AUTH_VERIFIER_BUSY: { status: REFUSAL_STATUS.UNAVAILABLE, wireMessage: 'token verification is busy, retry later' },
  ERR_AUTH_INTERNAL: { status: REFUSAL_STATUS.INTERNAL, wireMessage: 'internal authentication error' },
} as const satisfies Record<AuthErrorCode, CodeInfo>;

/**
 * True for one of the {@link AuthErrorCode}s. An own-property check, not `code in CODES`: `constructor`
 * or `__proto__` would find Object.prototype members and yield an error without a status.
 *
 * @example
 * ```ts
 * isAuthErrorCode('ERR_AUTH_TOKEN_EXPIRED'); // true
 * isAuthErrorCode('constructor'); // false
 * ```
 */
export function isAuthErrorCode(code: unknown): code is AuthErrorCode {
  return typeof code === 'string' && Object.hasOwn(CODES, code);
}

/**
 * The status, wire message and RFC 6750 error of a code.
 *
 * @example
 * ```ts
 * codeInfo('ERR_AUTH_ACCESS_DENIED').status; // 7, PERMISSION_DENIED
 * ```
 */
export function codeInfo(code: AuthErrorCode): CodeInfo {
  return CODES[code];
}

const CODE_PREFIX = 'ERR_AUTH_';

/**
 * The `google.rpc.ErrorInfo` reason of a code: the code without `ERR_AUTH_`, with no exception, so a
 * client can tell the code from the reason and the other way round.
 *
 * @example
 * ```ts
 * reasonOf('ERR_AUTH_ALG_NOT_ALLOWED'); // 'ALG_NOT_ALLOWED'
 * ```
 */
export function reasonOf<C extends AuthErrorCode>(code: C): C extends `ERR_AUTH_${infer R}` ? R : never {
  return code.slice(CODE_PREFIX.length) as C extends `ERR_AUTH_${infer R}` ? R : never;
}
