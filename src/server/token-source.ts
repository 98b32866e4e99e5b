import type { Metadata } from '@grpc/grpc-js';
import { AuthConfigError } from '../errors/config-error.ts';
import { checkOptionNames, isRecord, optionNames } from '../util/option-checks.ts';
import { CookieTokenReader } from './cookie-token.ts';
import { BearerTokenReader, ExtractorTokenReader, MetadataTokenReader, type TokenReader } from './token-reader.ts';

/**
 * Reads a call's token from its metadata, for `tokenFrom`: the token, or `undefined` when the call
 * carries none. Called synchronously for every call of a method that is not `'public'` or `'deny'`,
 * before anything else; an `async` function throws an AuthConfigError at construction, and a promise
 * returned otherwise is refused (INTERNAL). What it returns gets the checks of every other
 * source (size cap, one token without scheme or padding, then the strict compact form). Throw an
 * `AuthError` to refuse the call with that error; any other throw refuses it with INTERNAL. It must not
 * change the metadata: the handler gets the same object.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type TokenExtractor } from 'grpc-jwt-auth';
 * // The gateway in front forwards the caller's token in a header of its own.
 * const fromGateway: TokenExtractor = (metadata) => {
 *   const [value] = metadata.get('x-forwarded-access-token');
 *   return typeof value === 'string' ? value : undefined;
 * };
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], tokenFrom: fromGateway });
 * ```
 */
export type TokenExtractor = (metadata: Metadata, method: string) => string | undefined;

/**
 * Where the interceptor reads each call's token (the `tokenFrom` option):
 *
 * - `'authorization'` (the default): `authorization: Bearer <token>` (RFC 6750 §2.1).
 * - `{ metadata: 'x-api-token' }`: the whole value of that metadata key is the token. Binary (`-bin`)
 *   keys, the keys of the transport (`grpc-*`, `content-type`, `te`, `user-agent`) and `authorization` or
 *   `cookie` (which have their own forms) are refused.
 * - `{ cookie: 'session' }`: the cookie of that name in the `cookie` metadata; sent twice, it is refused.
 * - a {@link TokenExtractor} function, for anything else.
 *
 * Whatever the source, the same checks run: exactly one value, no binary, the size cap (`maxTokenBytes`)
 * before anything reads the value, one token without scheme or padding, then the strict compact form.
 * No token → UNAUTHENTICATED `TOKEN_MISSING` (admitted on an `'optional'` method); anything else wrong
 * with the carrier → UNAUTHENTICATED `AUTHORIZATION_MALFORMED`, with fixed details naming the configured
 * key. Only the configured source is read: with `{ metadata: 'x-api-token' }`, an `authorization` header
 * is ignored.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type TokenSource } from 'grpc-jwt-auth';
 * const tokenFrom: TokenSource = { cookie: '__Host-session' };
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], tokenFrom });
 * ```
 */
export type TokenSource =
  | 'authorization'
  | {
      /** The metadata key whose whole value is the token, e.g. `x-api-token` (a text key, not `-bin`). */
      readonly metadata: string;
    }
  | {
      /** The name of the cookie, in the `cookie` metadata, whose value is the token, e.g. `session`. */
      readonly cookie: string;
    }
  | TokenExtractor;

/** The two object forms, for the option-name check. */
interface TokenSourceFields {
  readonly metadata: string;
  readonly cookie: string;
}
const FIELD_NAMES = optionNames<TokenSourceFields>({ metadata: true, cookie: true });

// grpc-js's legal metadata key, checked before lower-casing: toLowerCase() maps some non-ASCII letters
// (the Kelvin sign) to ASCII ones, and the key read must be the key written.
const METADATA_KEY = /^[0-9A-Za-z_.-]+$/;
// Keys the transport owns: a client cannot set them freely, or a proxy rewrites them.
const TRANSPORT_KEYS: ReadonlySet<string> = new Set(['content-type', 'te', 'user-agent', 'host', 'connection']);
// RFC 6265 §4.1.1 cookie-name: an RFC 7230 token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const EXPECTED = "expected 'authorization', { metadata: 'x-api-token' }, { cookie: 'session' } or a function (metadata, method) => string | undefined";

function metadataReader(value: unknown, maxTokenBytes: number): TokenReader {
  const option = 'tokenFrom.metadata';
  if (typeof value !== 'string' || value.length === 0) throw new AuthConfigError(option, 'expected a metadata key such as "x-api-token"');
  if (!METADATA_KEY.test(value)) throw new AuthConfigError(option, 'expected a metadata key: ASCII letters, digits, "-", "_" and "." only');
  const key = value.toLowerCase();
  // A binary value is bytes, not a token: its text would depend on how grpc-js decoded base64.
  if (key.endsWith('-bin')) throw new AuthConfigError(option, 'a binary (-bin) key cannot carry a token; use a text key');
  if (key === 'authorization') throw new AuthConfigError(option, "use tokenFrom: 'authorization' (the Bearer scheme, the default)");
  if (key === 'cookie') throw new AuthConfigError(option, "use tokenFrom: { cookie: '<name>' } to read one cookie");
  if (key.startsWith('grpc-') || TRANSPORT_KEYS.has(key)) throw new AuthConfigError(option, `${key} belongs to the transport, not to a credential`);
  return new MetadataTokenReader(key, maxTokenBytes);
}

function cookieReader(value: unknown, maxTokenBytes: number): TokenReader {
  if (typeof value !== 'string' || !COOKIE_NAME.test(value)) {
    throw new AuthConfigError('tokenFrom.cookie', 'expected a cookie name such as "session" (RFC 6265: no spaces, separators or quotes)');
  }
  return new CookieTokenReader(value, maxTokenBytes);
}

/**
 * Checks the `tokenFrom` option and compiles it into the reader every call uses. Mistakes throw an
 * {@link AuthConfigError} naming `tokenFrom` (or `tokenFrom.metadata`, `tokenFrom.cookie`).
 * `maxTokenBytes` is the interceptor's: no source hands on a longer value.
 *
 * @example
 * ```ts
 * compileTokenSource(undefined, 8192).description; // 'authorization metadata'
 * compileTokenSource({ cookie: 'session' }, 8192).description; // 'cookie session'
 * compileTokenSource({ metadata: 'x-token-bin' }, 8192); // throws AuthConfigError('tokenFrom.metadata', ...)
 * ```
 */
export function compileTokenSource(value: unknown, maxTokenBytes: number, dpop = false): TokenReader {
  if (value === undefined || value === 'authorization') return new BearerTokenReader(maxTokenBytes, dpop);
  // A DPoP proof goes with `authorization: DPoP <token>` (RFC 9449 §7.1); another carrier has no scheme to say so.
  if (dpop) throw new AuthConfigError('tokenFrom', "dpop needs tokenFrom 'authorization' (the DPoP scheme travels in the authorization metadata)");
  if (typeof value === 'function') {
    // An `async` function can only ever answer with a promise: every call would be refused (INTERNAL).
    // Caught here when the runtime can tell; a function that returns a promise otherwise is caught per call.
    if (Object.prototype.toString.call(value) === '[object AsyncFunction]') {
      throw new AuthConfigError('tokenFrom', 'an async function cannot be used: read the token synchronously from the metadata');
    }
    return new ExtractorTokenReader(value as TokenExtractor, maxTokenBytes);
  }
  if (!isRecord(value)) throw new AuthConfigError('tokenFrom', EXPECTED);
  checkOptionNames(value, FIELD_NAMES, 'tokenFrom');
  const given = Object.keys(value);
  if (given.length !== 1) throw new AuthConfigError('tokenFrom', `${EXPECTED}: exactly one of metadata or cookie`);
  return given[0] === 'metadata' ? metadataReader(value.metadata, maxTokenBytes) : cookieReader(value.cookie, maxTokenBytes);
}
