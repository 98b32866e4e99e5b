/**
 * The error model: every refusal is an {@link AuthError} with a stable `code`, the gRPC status it maps to,
 * a machine-readable `reason` (sent in `google.rpc.ErrorInfo`) and a fixed wire message. The `message`
 * is for logs and may say more; the wire only ever carries `wireMessage`, so no token content leaks.
 *
 * This module never imports grpc-js: statuses are the numeric gRPC codes.
 */

import { escapeForTerminal } from '../util/unsafe-text.ts';

/**
 * Numeric gRPC status codes used by this library, with the same values as grpc-js `status`, so this
 * module needs no grpc-js import and a client can compare `error.code` with them.
 *
 * @example
 * ```ts
 * import { GrpcStatus } from 'grpc-jwt-auth';
 * client.getOrder({ id: '1' }, metadata, (error, order) => {
 *   if (error?.code === GrpcStatus.UNAUTHENTICATED) return signInAgain();
 *   if (error?.code === GrpcStatus.PERMISSION_DENIED) return showForbidden();
 * });
 * ```
 */
export const GrpcStatus = {
  /** 13: an unexpected error while authenticating (a bug, not a verdict on the token). */
  INTERNAL: 13,
  /** 14: verification keys cannot be had right now; the same call may succeed later. */
  UNAVAILABLE: 14,
  /** 16: no token, or a token that fails verification. */
  UNAUTHENTICATED: 16,
  /** 7: a valid token that a guard or a `'deny'` rule refuses. */
  PERMISSION_DENIED: 7,
} as const;

/**
 * One of the gRPC status codes an {@link AuthError} maps to: the values of {@link GrpcStatus}.
 *
 * @example
 * ```ts
 * import { GrpcStatus, type AuthStatus } from 'grpc-jwt-auth';
 * // An HTTP gateway that uses createAuthenticator answers refusals with the matching HTTP status.
 * const httpStatus: Record<AuthStatus, number> = {
 *   [GrpcStatus.UNAUTHENTICATED]: 401,
 *   [GrpcStatus.PERMISSION_DENIED]: 403,
 *   [GrpcStatus.UNAVAILABLE]: 503,
 *   [GrpcStatus.INTERNAL]: 500,
 * };
 * ```
 */
export type AuthStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/**
 * The RFC 6750 `error` attribute of the `www-authenticate` trailer. A refusal without one (a missing
 * token, unavailable keys, an internal error) gets a bare `Bearer` challenge.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type BearerErrorCode } from 'grpc-jwt-auth';
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
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * Stable error codes, one per kind of refusal: safe to match on in code and alerts. Each maps to one
 * gRPC status and one {@link AuthReason} (the code without `ERR_AUTH_`, except `ALGORITHM_NOT_ALLOWED`).
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
  /** PERMISSION_DENIED: a guard refused the verified caller. */
  | 'ERR_AUTH_INSUFFICIENT_SCOPE'
  /** PERMISSION_DENIED: a `'deny'` rule matches the method. */
  | 'ERR_AUTH_ACCESS_DENIED'
  /** UNAVAILABLE: the keys needed cannot be had right now (the key set cannot be fetched or refreshed); retry later. */
  | 'ERR_AUTH_KEYS_UNAVAILABLE'
  /** INTERNAL: an unexpected throw (a bug, or a hook or guard throwing something other than an `AuthError`), a `clock` that throws or reads NaN, or `getAuth` on a call without a verified token (a server-side mistake: the call ends with this status). */
  | 'ERR_AUTH_INTERNAL';

interface CodeInfo {
  readonly status: AuthStatus;
  readonly reason: string;
  readonly wireMessage: string;
  readonly bearerError?: BearerErrorCode;
}

const U = GrpcStatus.UNAUTHENTICATED;

/**
 * The one table of error codes. Wire messages are fixed text: they help a client developer fix their
 * setup without echoing anything from the token.
 */
const CODES = {
  ERR_AUTH_TOKEN_MISSING: { status: U, reason: 'TOKEN_MISSING', wireMessage: 'missing bearer token in authorization metadata' },
  ERR_AUTH_AUTHORIZATION_MALFORMED: {
    status: U,
    reason: 'AUTHORIZATION_MALFORMED',
    wireMessage: 'authorization metadata must be a single "Bearer <token>" value',
    bearerError: 'invalid_request',
  },
  ERR_AUTH_TOKEN_MALFORMED: { status: U, reason: 'TOKEN_MALFORMED', wireMessage: 'token is not a well-formed compact JWS', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_TOO_LARGE: { status: U, reason: 'TOKEN_TOO_LARGE', wireMessage: 'token exceeds the size limit', bearerError: 'invalid_token' },
  ERR_AUTH_ALG_NOT_ALLOWED: { status: U, reason: 'ALGORITHM_NOT_ALLOWED', wireMessage: 'token algorithm is not allowed', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_HEADER_INVALID: { status: U, reason: 'TOKEN_HEADER_INVALID', wireMessage: 'token header is not acceptable', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_TYPE_INVALID: { status: U, reason: 'TOKEN_TYPE_INVALID', wireMessage: 'token type (typ) is not acceptable', bearerError: 'invalid_token' },
  ERR_AUTH_KEY_NOT_FOUND: { status: U, reason: 'KEY_NOT_FOUND', wireMessage: 'no key found to verify the token', bearerError: 'invalid_token' },
  ERR_AUTH_SIGNATURE_INVALID: { status: U, reason: 'SIGNATURE_INVALID', wireMessage: 'token signature is invalid', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_EXPIRED: { status: U, reason: 'TOKEN_EXPIRED', wireMessage: 'token expired', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_NOT_YET_VALID: { status: U, reason: 'TOKEN_NOT_YET_VALID', wireMessage: 'token is not yet valid', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_TOO_OLD: { status: U, reason: 'TOKEN_TOO_OLD', wireMessage: 'token was issued too long ago', bearerError: 'invalid_token' },
  ERR_AUTH_ISSUER_INVALID: { status: U, reason: 'ISSUER_INVALID', wireMessage: 'token issuer is not accepted', bearerError: 'invalid_token' },
  ERR_AUTH_AUDIENCE_INVALID: { status: U, reason: 'AUDIENCE_INVALID', wireMessage: 'token audience is not accepted', bearerError: 'invalid_token' },
  ERR_AUTH_CLAIM_MISSING: { status: U, reason: 'CLAIM_MISSING', wireMessage: 'token lacks a required claim', bearerError: 'invalid_token' },
  ERR_AUTH_CLAIM_INVALID: { status: U, reason: 'CLAIM_INVALID', wireMessage: 'token has an invalid claim', bearerError: 'invalid_token' },
  ERR_AUTH_TOKEN_REJECTED: { status: U, reason: 'TOKEN_REJECTED', wireMessage: 'token was rejected', bearerError: 'invalid_token' },
  ERR_AUTH_INSUFFICIENT_SCOPE: {
    status: GrpcStatus.PERMISSION_DENIED,
    reason: 'INSUFFICIENT_SCOPE',
    wireMessage: 'token does not grant access to this method',
    bearerError: 'insufficient_scope',
  },
  ERR_AUTH_ACCESS_DENIED: {
    status: GrpcStatus.PERMISSION_DENIED,
    reason: 'ACCESS_DENIED',
    wireMessage: 'access to this method is denied',
    bearerError: 'insufficient_scope',
  },
  ERR_AUTH_KEYS_UNAVAILABLE: { status: GrpcStatus.UNAVAILABLE, reason: 'KEYS_UNAVAILABLE', wireMessage: 'verification keys are unavailable, retry later' },
  ERR_AUTH_INTERNAL: { status: GrpcStatus.INTERNAL, reason: 'INTERNAL', wireMessage: 'internal authentication error' },
} as const satisfies Record<AuthErrorCode, CodeInfo>;

/**
 * The machine-readable reasons sent to clients in `google.rpc.ErrorInfo`: what a client matches on to
 * tell "refresh the token and retry" from "ask for more access".
 *
 * @useDeclaredType
 * @example
 * ```ts
 * import { decodeErrorInfo, type AuthReason } from 'grpc-jwt-auth';
 * const refreshAndRetry: ReadonlySet<string> = new Set<AuthReason>(['TOKEN_EXPIRED', 'TOKEN_NOT_YET_VALID']);
 * client.getOrder({ id: '1' }, metadata, (error) => {
 *   const [details] = error?.metadata.get('grpc-status-details-bin') ?? [];
 *   const info = details instanceof Buffer ? decodeErrorInfo(details) : undefined;
 *   if (info && refreshAndRetry.has(info.reason)) void retryWithFreshToken();
 * });
 * ```
 */
export type AuthReason = (typeof CODES)[AuthErrorCode]['reason'];

/**
 * The domain of every `google.rpc.ErrorInfo` this library sends: tells its refusals apart from other
 * errors that carry an ErrorInfo.
 *
 * @example
 * ```ts
 * import { ERROR_DOMAIN, decodeErrorInfo } from 'grpc-jwt-auth';
 * const info = decodeErrorInfo(details);
 * if (info?.domain === ERROR_DOMAIN) console.warn(`refused by grpc-jwt-auth: ${info.reason}`);
 * ```
 */
export const ERROR_DOMAIN = 'grpc-jwt-auth';

/**
 * Extra facts about a refusal, given to the {@link AuthError} constructor: the cause for logs, and what
 * may be sent to the client.
 *
 * @example
 * ```ts
 * import { AuthError, createAuthInterceptor } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['ES256'],
 *   async validate(claims) {
 *     try {
 *       return !(await denylist.has(String(claims.jti)));
 *     } catch (cause) {
 *       throw new AuthError('ERR_AUTH_TOKEN_REJECTED', 'denylist lookup failed', { cause, wireMessage: 'token could not be checked' });
 *     }
 *   },
 * });
 * ```
 */
export interface AuthErrorOptions {
  /** The underlying error (often a jose error). Kept for logs, never sent. */
  readonly cause?: unknown;
  /** Scopes that would have granted access (PERMISSION_DENIED); sent in `www-authenticate` and ErrorInfo. */
  readonly requiredScopes?: readonly string[];
  /** Overrides the fixed wire message; only for text that cannot contain token content. */
  readonly wireMessage?: string;
}

/**
 * A refused call. `message` is for logs (control, bidi and separator characters in it are escaped, so a
 * claim quoted in it cannot forge or reorder a log line); `wireMessage` is what the client sees. A `code` that is not an
 * {@link AuthErrorCode} (a typo in JavaScript) throws a `TypeError` at once.
 *
 * To refuse a call from inside a handler, pass it through `toGrpcError` (`callback(toGrpcError(error))`,
 * or `call.emit('error', toGrpcError(error))` on a stream). grpc-js reads a status only from an integer
 * `code` (with `details` and `metadata`); anything else ends the call UNKNOWN with the error's `message`
 * as details. `code` stays the stable string (`ERR_AUTH_…`) that programs and alerts match on, so an
 * AuthError handed to grpc-js as it is would leak its log message under UNKNOWN: giving it a numeric
 * code would break every `error.code === 'ERR_AUTH_…'` check, and trailers alone would contradict the
 * UNKNOWN status.
 *
 * @example
 * ```ts
 * import { AuthError } from 'grpc-jwt-auth';
 * throw new AuthError('ERR_AUTH_TOKEN_REJECTED', 'token id is on the denylist');
 * ```
 */
export class AuthError extends Error {
  /** Always `'AuthError'`; {@link isAuthError} also relies on it to recognise copies from another package instance. */
  override readonly name: string = 'AuthError';
  /** Stable code, e.g. `ERR_AUTH_TOKEN_EXPIRED`. */
  readonly code: AuthErrorCode;
  /** The gRPC status this error is answered with. */
  readonly status: AuthStatus;
  /** Machine-readable reason for `google.rpc.ErrorInfo`, e.g. `TOKEN_EXPIRED`. */
  readonly reason: AuthReason;
  /** Fixed text sent as the status details; never contains token content. */
  readonly wireMessage: string;
  /** RFC 6750 error for the `www-authenticate` trailer, when one applies. */
  readonly bearerError: BearerErrorCode | undefined;
  /** Scopes that would grant access, for PERMISSION_DENIED. */
  readonly requiredScopes: readonly string[] | undefined;

  constructor(code: AuthErrorCode, message?: string, options: AuthErrorOptions = {}) {
    // An own-property check, not `CODES[code]` alone: `constructor` or `__proto__` would find
    // Object.prototype members and build an error without a status, which grpc-js ends UNKNOWN.
    if (!isAuthErrorCode(code)) throw new TypeError(`grpc-jwt-auth: unknown AuthError code ${describeForLog(code)}`);
    const info: CodeInfo = CODES[code];
    // Escaped here, whoever builds the error: a handler's `${subject} does not own ...` quotes a claim, and
    // a log line must not carry a control, bidi or separator character from it. (Idempotent: text
    // already escaped by describeForLog holds none.)
    super(escapeForTerminal(String(message ?? info.wireMessage)), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = info.status;
    this.reason = info.reason as AuthReason;
    // Both go into a quoted header value: anything that is not plain printable ASCII without quotes or
    // backslashes would make grpc-js throw (and the call hang) or break out of the quotes. An unsafe
    // wire message falls back to the fixed text; unsafe scopes are dropped.
    this.wireMessage = options.wireMessage !== undefined && HEADER_SAFE_TEXT.test(options.wireMessage) ? options.wireMessage : info.wireMessage;
    this.bearerError = info.bearerError;
    const scopes = options.requiredScopes?.filter(isScopeToken);
    this.requiredScopes = scopes && scopes.length > 0 ? scopes : undefined;
  }
}

// Printable ASCII except `"` and `\`: safe inside a quoted www-authenticate parameter.
const HEADER_SAFE_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
// RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * True for a string that can be a scope (RFC 6749 §3.3). Anything else can never come out of a
 * space-delimited `scope` claim, and a `"` would break out of the quoted `scope="..."` of the
 * www-authenticate trailer.
 *
 * @example
 * ```ts
 * isScopeToken('orders:read'); // true
 * isScopeToken('a"b'); // false
 * ```
 */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value);
}

function isAuthErrorCode(code: unknown): code is AuthErrorCode {
  return typeof code === 'string' && Object.hasOwn(CODES, code);
}

/** `read()`, or undefined when it throws: a thrown value's getters and Proxy traps are server code gone wrong. */
function readSafely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * A native AuthError for an AuthError made by another copy of this package (which `instanceof` does
 * not recognise): rebuilt from its code, so its status, reason and trailers are this copy's and its
 * wire text and scopes pass the same checks. Undefined for anything else, or a code this copy lacks.
 */
function fromForeignCopy(value: unknown): AuthError | undefined {
  if (!(value instanceof Error) || value.name !== 'AuthError') return undefined;
  const { code, message, wireMessage, requiredScopes } = value as Partial<Record<keyof AuthError, unknown>>;
  if (!isAuthErrorCode(code)) return undefined;
  return new AuthError(code, typeof message === 'string' ? message : undefined, {
    cause: value,
    ...(typeof wireMessage === 'string' ? { wireMessage } : {}),
    ...(Array.isArray(requiredScopes) ? { requiredScopes: requiredScopes as unknown[] as string[] } : {}),
  });
}

/** What a thrown value says, for a log message; never throws, whatever was thrown. */
function thrownText(error: unknown): string {
  const message = readSafely(() => (error as { message?: unknown } | null | undefined)?.message);
  if (typeof message === 'string') return escapeForTerminal(message);
  return describeForLog(error);
}

/**
 * An {@link AuthError} as it is (one from another copy of this package rebuilt as this copy's), or
 * anything else thrown as INTERNAL: an unexpected throw is a bug, not a verdict, and its text stays in
 * the log message and `cause`, never on the wire. It never throws itself, whatever it is given (a
 * null-prototype object, a symbol `message`, a getter or Proxy trap that throws): it runs in catch
 * blocks and promise rejection handlers, where a throw would leave the call without a status and the
 * process with an unhandled rejection.
 *
 * @example
 * ```ts
 * try { await validate(claims); } catch (error) { throw toAuthError(error, 'validate hook threw'); }
 * ```
 */
export function toAuthError(error: unknown, context: string): AuthError {
  if (readSafely(() => error instanceof AuthError)) return error as AuthError;
  const copy = readSafely(() => fromForeignCopy(error));
  if (copy !== undefined) return copy;
  return new AuthError('ERR_AUTH_INTERNAL', `${context}: ${thrownText(error)}`, { cause: error });
}

/**
 * Thrown at construction when an option is wrong. Names the option so the fix is obvious.
 *
 * @example
 * ```ts
 * import { AuthConfigError, createAuthInterceptor } from 'grpc-jwt-auth';
 * try { createAuthInterceptor({ keys, algorithms: [] }); }
 * catch (e) { if (e instanceof AuthConfigError) console.error(e.option, e.message); }
 * ```
 */
export class AuthConfigError extends TypeError {
  /** Always `'AuthConfigError'`. */
  override readonly name = 'AuthConfigError';
  /** Always `ERR_AUTH_INVALID_OPTION`. */
  readonly code = 'ERR_AUTH_INVALID_OPTION';
  /** The option at fault, as a path such as `algorithms` or `issuers[1].audience`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(`grpc-jwt-auth: invalid option \`${option}\`: ${message}`);
    this.option = option;
  }
}

/**
 * True for any {@link AuthError} (also across copies of this package).
 *
 * @example
 * ```ts
 * import { isAuthError } from 'grpc-jwt-auth';
 * try { await authenticator.authenticate(token, method); }
 * catch (e) { if (isAuthError(e) && e.code === 'ERR_AUTH_TOKEN_EXPIRED') refresh(); }
 * ```
 */
export function isAuthError(value: unknown): value is AuthError {
  // readSafely: a Proxy whose traps throw is not an AuthError, and asking must not throw in a catch block.
  return (
    readSafely(
      () => value instanceof AuthError || (value instanceof Error && value.name === 'AuthError' && typeof (value as { code?: unknown }).code === 'string'),
    ) === true
  );
}

/**
 * Renders a value taken from a token for a log message: JSON-quoted and with every control, bidi and
 * separator character escaped (so a token cannot forge or rewrite log lines) and cut short (so a huge claim cannot flood logs). Never used for wire text.
 */
export function describeForLog(value: unknown, max = 80): string {
  // Never throws: a BigInt, a cycle, a symbol or a Proxy whose traps throw still gets a description.
  const text = readSafely(() => JSON.stringify(value) ?? String(value)) ?? readSafely(() => Object.prototype.toString.call(value)) ?? '(unprintable value)';
  // JSON.stringify escapes C0 only: C1, bidi controls and U+2028/2029 from a token would still reach a
  // log viewer or terminal raw and could rewrite or reorder the line.
  return escapeForTerminal(text.length > max ? `${text.slice(0, max)}…` : text);
}
