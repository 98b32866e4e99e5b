import { AuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import type { KeyLookup } from '../keys/resolver.ts';

/** What the protected header must satisfy. */
export interface HeaderPolicy {
  /** The configured allowlist: the only algorithms a token may use. */
  readonly algorithms: ReadonlySet<string>;
  /** The expected `typ`, normalized by {@link normalizeTyp}; undefined when not checked. */
  readonly typ: string | undefined;
}

/**
 * The full media type a `typ` names, lower-cased. RFC 7515 §4.1.9: a recipient treats a value *without*
 * `/` as if `application/` were prepended, so `at+JWT` and `application/at+jwt` are the same type. A
 * value with a `/` is already a full type and is left as it is: stripping `application/` from it would
 * let `application/text/plain` pass for `text/plain`. Case is folded in ASCII only, as media types are
 * (RFC 2045): `toLowerCase()` also maps U+212A KELVIN SIGN to `k`, so a `typ` no provider means would match.
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
  return lower.includes('/') ? lower : `application/${lower}`;
}

/**
 * Whether a configured `typ` names a media type: printable ASCII without spaces, a type and subtype
 * (or a subtype alone) that are not empty. `application/` would otherwise match a token whose `typ`
 * is the empty string.
 *
 * @example
 * ```ts
 * isMediaTypeName('at+jwt'); // true
 * isMediaTypeName('application/'); // false
 * ```
 */
export function isMediaTypeName(typ: string): boolean {
  return /^[\x21-\x2e\x30-\x7e]+(\/[\x21-\x2e\x30-\x7e]+)?$/.test(typ);
}

/**
 * Checks the untrusted header and returns what the key lookup may use. Only `alg`, `kid`, `typ`, `crit`
 * and `b64` are read: `jwk`, `jku`, `x5u` and `x5c` are never used, so a token can never bring or point
 * to its own key (key injection).
 */
export function checkHeader(header: Readonly<Record<string, unknown>>, policy: HeaderPolicy): KeyLookup {
  const { alg, kid, typ } = header;
  // The allowlist is the only source of acceptable algorithms: the token's alg is merely looked up in
  // it. That makes `none` (in any spelling) and algorithm substitution impossible.
  if (typeof alg !== 'string' || !policy.algorithms.has(alg)) {
    throw new AuthError('ERR_AUTH_ALG_NOT_ALLOWED', `token alg ${describeForLog(alg)} is not in the allowlist [${[...policy.algorithms].join(', ')}]`);
  }
  // crit lists extensions the verifier must understand or reject; we implement none of them.
  if (header.crit !== undefined) {
    throw new AuthError('ERR_AUTH_TOKEN_HEADER_INVALID', `token header has crit ${describeForLog(header.crit)}; no critical extension is supported`);
  }
  // b64:false (RFC 7797) would make the payload bytes, not base64url: a different signing input.
  if (header.b64 !== undefined && header.b64 !== true) {
    throw new AuthError('ERR_AUTH_TOKEN_HEADER_INVALID', 'token header has b64 other than true; unencoded payloads are not accepted');
  }
  if (kid !== undefined && typeof kid !== 'string') {
    throw new AuthError('ERR_AUTH_TOKEN_HEADER_INVALID', `token kid is a ${typeof kid}, not a string`);
  }
  if (policy.typ !== undefined && (typeof typ !== 'string' || normalizeTyp(typ) !== policy.typ)) {
    throw new AuthError('ERR_AUTH_TOKEN_TYPE_INVALID', `token typ ${describeForLog(typ)} is not ${JSON.stringify(policy.typ)}`);
  }
  return { alg, kid };
}
