import type { Metadata } from '@grpc/grpc-js';
import { AuthError } from '../errors/auth-error.ts';
import { DEFAULT_MAX_TOKEN_BYTES } from '../verify/compact.ts';

// RFC 6750 §2.1: the scheme is case-insensitive, then one space, then the token. Nothing before or after:
// a second token, a comma list or padding is ambiguous, and ambiguity is where bypasses live. A comma,
// semicolon or quote is no b64token character: the carrier is malformed, as from every other source
// (checkOneToken), not the token. RFC 9449 §7.1: `DPoP` the same way, when the server accepts DPoP.
const BEARER = /^bearer ([^\s,;"]+)$/i;
const DPOP = /^dpop ([^\s,;"]+)$/i;
const BEARER_PREFIX_LENGTH = 'Bearer '.length;
const DPOP_PREFIX_LENGTH = 'DPoP '.length;
// Single quotes: a wire text must be header-safe (no `"`), or AuthError falls back to the code's Bearer-only text.
const BOTH_SCHEMES_WIRE_MESSAGE = "authorization metadata must be a single 'Bearer <token>' or 'DPoP <token>' value";

/**
 * A token as the call presented it: the token and the scheme it came with (`dpop` for
 * `authorization: DPoP <token>`; every other source is `bearer`).
 *
 * @example
 * ```ts
 * const presented: PresentedToken = { token: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln', scheme: 'dpop' };
 * ```
 */
export interface PresentedToken {
  readonly token: string;
  readonly scheme: 'bearer' | 'dpop';
}

/**
 * The refusal of a value too long to hold a token of at most `maxTokenBytes`, before any pattern or
 * parser reads it.
 *
 * @example
 * ```ts
 * tooLarge('x-api-token metadata', 9000, 8192).code; // 'ERR_AUTH_TOKEN_TOO_LARGE'
 * ```
 */
export function tooLarge(where: string, length: number, maxTokenBytes: number): AuthError {
  return new AuthError('ERR_AUTH_TOKEN_TOO_LARGE', `${where} has ${length} bytes, over maxTokenBytes (${maxTokenBytes})`);
}

function malformed(message: string, dpop: boolean): AuthError {
  return new AuthError('ERR_AUTH_AUTHORIZATION_MALFORMED', message, dpop ? { wireMessage: BOTH_SCHEMES_WIRE_MESSAGE } : {});
}

/**
 * The token of a call's `authorization` metadata and its scheme, or undefined when the call has none at
 * all. `Bearer <token>` always; `DPoP <token>` only when `dpop` is true (the server verifies DPoP proofs),
 * else the DPoP scheme is malformed like any other. Throws AUTHORIZATION_MALFORMED for several values,
 * another scheme or a missing token, and TOKEN_TOO_LARGE, before matching anything, for a value that
 * cannot hold a token of `maxTokenBytes`.
 *
 * Several values never arrive over the wire: Node's HTTP/2 server treats `authorization` as a
 * single-value header and keeps only the first field of a request, and grpc-js clients refuse to send
 * two. The check fires when server code built or extended the Metadata itself (an interceptor running
 * before ours that adds a value, a test), where silently picking one would be a guess.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * const metadata = new Metadata();
 * metadata.set('authorization', 'DPoP eyJhbGciOiJFUzI1NiJ9.e30.c2ln');
 * readAuthorization(metadata, 8192, true); // { token: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln', scheme: 'dpop' }
 * readAuthorization(metadata, 8192, false); // throws ERR_AUTH_AUTHORIZATION_MALFORMED
 * ```
 */
export function readAuthorization(metadata: Metadata, maxTokenBytes: number, dpop: boolean): PresentedToken | undefined {
  const values = metadata.get('authorization');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw malformed(`authorization metadata has ${values.length} values; exactly one is allowed`, dpop);
  const value = values[0];
  // grpc-js keeps Buffers only under `-bin` keys; this narrows the type.
  if (typeof value !== 'string') throw malformed('authorization metadata is binary', dpop);
  if (value.length > maxTokenBytes + BEARER_PREFIX_LENGTH) throw tooLarge('authorization metadata', value.length, maxTokenBytes);
  // test() and slice() instead of exec(): no match array on the per-call path.
  if (BEARER.test(value)) return { token: value.slice(BEARER_PREFIX_LENGTH), scheme: 'bearer' };
  if (dpop && DPOP.test(value)) return { token: value.slice(DPOP_PREFIX_LENGTH), scheme: 'dpop' };
  // Name the scheme only when it looks like one (`Basic`, `Token`): a bare credential (an API key sent
  // without a scheme) must not end up in the logs.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]{0,19}) /.exec(value)?.[1];
  const expected = dpop ? '"Bearer <token>" or "DPoP <token>"' : '"Bearer <token>"';
  const what = /^(bearer|dpop)(\s|$)/i.test(value)
    ? `a ${JSON.stringify(/^\S*/.exec(value)?.[0])} scheme without exactly one token`
    : scheme === undefined
      ? 'no scheme'
      : `scheme ${JSON.stringify(scheme)}`;
  throw malformed(`authorization metadata has ${what}; expected ${expected}`, dpop);
}

/**
 * The bearer token of a call, or undefined when the call has no `authorization` metadata at all: as
 * {@link readAuthorization} without DPoP.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * const metadata = new Metadata();
 * metadata.set('authorization', 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln');
 * readBearerToken(metadata); // 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln'
 * ```
 */
export function readBearerToken(metadata: Metadata, maxTokenBytes = DEFAULT_MAX_TOKEN_BYTES): string | undefined {
  return readAuthorization(metadata, maxTokenBytes, false)?.token;
}

// A compact JWS never holds these: whitespace means a scheme or padding came along, a comma means
// several values were joined (Node's HTTP/2 server joins repeated fields of a custom header with ", ").
const NOT_ONE_TOKEN = /[\s,;"]/;

/**
 * Checks that a credential read from anywhere but `authorization` is one token, alone: not empty, no
 * scheme, no list. The compact-form check that follows in the authenticator judges the token itself.
 * `where` (for the log) and `wireMessage` name the configured place, never the value.
 *
 * @example
 * ```ts
 * checkOneToken('abc.def.ghi', 'x-api-token metadata', 'x-api-token metadata must be a single token value'); // 'abc.def.ghi'
 * checkOneToken('Bearer abc.def.ghi', 'x-api-token metadata', 'x-api-token metadata must be a single token value'); // throws ERR_AUTH_AUTHORIZATION_MALFORMED
 * ```
 */
export function checkOneToken(value: string, where: string, wireMessage: string): string {
  if (value.length === 0) throw new AuthError('ERR_AUTH_AUTHORIZATION_MALFORMED', `${where} is empty`, { wireMessage });
  if (NOT_ONE_TOKEN.test(value)) {
    throw new AuthError('ERR_AUTH_AUTHORIZATION_MALFORMED', `${where} is not one token (it holds whitespace, a comma, a semicolon or a quote)`, {
      wireMessage,
    });
  }
  return value;
}
