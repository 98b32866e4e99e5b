/**
 * The refusal: every refused call is an {@link AuthError} whose `code` decides everything else (see
 * codes.ts). The `message` is for logs and may say more; the wire only ever carries `wireMessage`, so
 * no token content leaks.
 *
 * grpc-js is imported for its types only: statuses are the numeric gRPC codes, and this module loads
 * without grpc-js.
 */
import type { status } from '@grpc/grpc-js';
import { escapeForTerminal } from '../util/unsafe-text.ts';
import { codeInfo, isAuthErrorCode, reasonOf, type AuthErrorCode, type BearerErrorCode } from './codes.ts';
import { describeForLog, readSafely, thrownText } from './log-text.ts';
import { copyStepUpChallenge, type StepUpChallenge } from './step-up.ts';

/**
 * Extra facts about a refusal, given to the {@link AuthError} constructor: the cause for logs, and what
 * may be sent to the client.
 *
 * @example
 * ```ts
 * import { AuthError, createAuthInterceptor } from 'grpc-jwt-auth';
 * declare const denylist: { has(tokenId: string): Promise<boolean> };
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['ES256'],
 *   async validate(claims, { tokenId }) {
 *     try {
 *       return !(await denylist.has(tokenId));
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
  /**
   * What the user's next login must satisfy (RFC 9470), for `ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION`;
   * sent as `acr_values` / `max_age` in `www-authenticate` and in ErrorInfo. Unsafe values are dropped,
   * and so is the whole challenge for any other code.
   */
  readonly stepUp?: StepUpChallenge;
  /**
   * The DPoP nonce (RFC 9449 §8) the client must put in its next proof, sent in the `dpop-nonce` trailer;
   * with `ERR_AUTH_DPOP_NONCE_REQUIRED`. Dropped unless it is 1 to 256 printable ASCII characters
   * without `"` or `\` (it reaches a header).
   */
  readonly dpopNonce?: string;
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
  /** Stable code, e.g. `ERR_AUTH_TOKEN_EXPIRED`: the one classification, which decides every other field. */
  readonly code: AuthErrorCode;
  /**
   * The gRPC status this error is answered with, as a number: the value of grpc-js `status.UNAUTHENTICATED`
   * (16), `status.PERMISSION_DENIED` (7), `status.UNAVAILABLE` (14) or `status.INTERNAL` (13), so
   * `error.status === status.UNAUTHENTICATED` holds with grpc-js's own `status`.
   */
  readonly status: status.UNAUTHENTICATED | status.PERMISSION_DENIED | status.UNAVAILABLE | status.INTERNAL;
  /** The `google.rpc.ErrorInfo` reason sent to the client: always the code without `ERR_AUTH_`, e.g. `TOKEN_EXPIRED`. */
  readonly reason: AuthErrorCode extends `ERR_AUTH_${infer Reason}` ? Reason : never;
  /** Fixed text sent as the status details; never contains token content. */
  readonly wireMessage: string;
  /** RFC 6750 error for the `www-authenticate` trailer, when one applies. */
  readonly bearerError: BearerErrorCode | undefined;
  /** Scopes that would grant access, for PERMISSION_DENIED. */
  readonly requiredScopes: readonly string[] | undefined;
  /** What a new login must satisfy, for `ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION` (RFC 9470 step-up). */
  readonly stepUp: StepUpChallenge | undefined;
  /** The DPoP nonce to use next (RFC 9449 §8), sent in the `dpop-nonce` trailer. */
  readonly dpopNonce: string | undefined;

  constructor(code: AuthErrorCode, message?: string, options: AuthErrorOptions = {}) {
    if (!isAuthErrorCode(code)) throw new TypeError(`grpc-jwt-auth: unknown AuthError code ${describeForLog(code)}`);
    const info = codeInfo(code);
    // Escaped here, whoever builds the error: a handler's `${subject} does not own ...` quotes a claim, and
    // a log line must not carry a control, bidi or separator character from it. (Idempotent: text
    // already escaped by describeForLog holds none.)
    super(escapeForTerminal(String(message ?? info.wireMessage)), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = info.status;
    this.reason = reasonOf(code);
    // Both go into a quoted header value: anything that is not plain printable ASCII without quotes or
    // backslashes would make grpc-js throw (and the call hang) or break out of the quotes. An unsafe
    // wire message falls back to the fixed text; unsafe scopes are dropped.
    this.wireMessage = options.wireMessage !== undefined && HEADER_SAFE_TEXT.test(options.wireMessage) ? options.wireMessage : info.wireMessage;
    this.bearerError = info.bearerError;
    const scopes = options.requiredScopes?.filter(isScopeToken);
    this.requiredScopes = scopes && scopes.length > 0 ? scopes : undefined;
    // Copied and filtered like the scopes: acr values reach the same quoted header. Only for a step-up:
    // acr_values next to `invalid_token` or `insufficient_scope` would send the client to a login that cannot help.
    this.stepUp = code === 'ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION' ? copyStepUpChallenge(options.stepUp) : undefined;
    // Reaches the `dpop-nonce` header: anything that could break it (or the call: grpc-js throws on a bad value) is dropped.
    this.dpopNonce = isDpopNonce(options.dpopNonce) ? options.dpopNonce : undefined;
  }
}

// Printable ASCII except `"` and `\`: safe inside a quoted www-authenticate parameter.
const HEADER_SAFE_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
// RFC 9449 §8.1: NQCHAR, 1*%x21 / %x23-5B / %x5D-7E; bounded, as it reaches a header.
const DPOP_NONCE = /^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/;

function isDpopNonce(value: unknown): value is string {
  return typeof value === 'string' && DPOP_NONCE.test(value);
}

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

/**
 * A native AuthError for an AuthError made by another copy of this package (which `instanceof` does
 * not recognise): rebuilt from its code, so its status, reason and trailers are this copy's and its
 * wire text and scopes pass the same checks. Undefined for anything else, or a code this copy lacks.
 */
function fromForeignCopy(value: unknown): AuthError | undefined {
  if (!(value instanceof Error) || value.name !== 'AuthError') return undefined;
  const { code, message, wireMessage, requiredScopes, stepUp, dpopNonce } = value as Partial<Record<keyof AuthError, unknown>>;
  if (!isAuthErrorCode(code)) return undefined;
  return new AuthError(code, typeof message === 'string' ? message : undefined, {
    cause: value,
    ...(typeof wireMessage === 'string' ? { wireMessage } : {}),
    ...(Array.isArray(requiredScopes) ? { requiredScopes: requiredScopes as unknown[] as string[] } : {}),
    ...(typeof stepUp === 'object' && stepUp !== null ? { stepUp: stepUp as StepUpChallenge } : {}),
    ...(typeof dpopNonce === 'string' ? { dpopNonce } : {}),
  });
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
 * toAuthError(new Error('denylist down'), 'validate hook threw').code; // 'ERR_AUTH_INTERNAL'
 * toAuthError(new AuthError('ERR_AUTH_TOKEN_REJECTED'), 'validate hook threw').code; // 'ERR_AUTH_TOKEN_REJECTED'
 * ```
 */
export function toAuthError(error: unknown, context: string): AuthError {
  if (readSafely(() => error instanceof AuthError)) return error as AuthError;
  const copy = readSafely(() => fromForeignCopy(error));
  if (copy !== undefined) return copy;
  return new AuthError('ERR_AUTH_INTERNAL', `${context}: ${thrownText(error)}`, { cause: error });
}

/**
 * True for any {@link AuthError} (also across copies of this package).
 *
 * @example
 * ```ts
 * import { createAuthenticator, isAuthError } from 'grpc-jwt-auth';
 * const authenticator = createAuthenticator({ keys, algorithms: ['ES256'] });
 * try { await authenticator.authenticate(token, '/acme.orders.v1.Orders/GetOrder'); }
 * catch (e) { if (isAuthError(e) && e.code === 'ERR_AUTH_TOKEN_EXPIRED') console.warn('token expired'); }
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
