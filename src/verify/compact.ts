import { isUtf8 } from 'node:buffer';
import { AuthError } from '../errors/auth-error.ts';

/** A compact JWS split and decoded, before any signature check. Nothing in it is trusted yet. */
export interface ParsedToken {
  /** The whole compact token. */
  readonly token: string;
  /** The decoded protected header. */
  readonly header: Readonly<Record<string, unknown>>;
  /** The decoded payload (the claims set), parsed once: guards see exactly what was verified. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Default `maxTokenBytes`: far above any real access token, far below what could hurt a parser. */
export const DEFAULT_MAX_TOKEN_BYTES = 8 * 1024;

// Strict base64url: the alphabet only, no padding or whitespace. jose tolerates some non-canonical
// forms; refusing them here means one header and payload have exactly one spelling, so the signing
// input (`header.payload`) identifies the signed content and `tokenId` (its digest) cannot be dodged by
// re-encoding. The whole token has no such uniqueness: ECDSA signatures are malleable ((r, s) and
// (r, n − s) both verify), so denylists key on `tokenId`, never on the token text.
const SEGMENT = /^[A-Za-z0-9_-]+$/;
// A segment whose length is 2 or 3 mod 4 ends in a character whose unused low bits must be zero.
const CANONICAL_LAST_2 = /[AQgw]$/;
const CANONICAL_LAST_3 = /[AEIMQUYcgkosw048]$/;

function malformed(message: string): AuthError {
  return new AuthError('ERR_AUTH_TOKEN_MALFORMED', message);
}

function isCanonicalBase64url(segment: string): boolean {
  if (!SEGMENT.test(segment)) return false;
  switch (segment.length % 4) {
    case 1:
      return false;
    case 2:
      return CANONICAL_LAST_2.test(segment);
    case 3:
      return CANONICAL_LAST_3.test(segment);
    default:
      return true;
  }
}

/** Decodes one segment as a UTF-8 JSON object. */
export function decodeJsonObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    const bytes = Buffer.from(segment, 'base64url');
    // Invalid UTF-8 is refused, never repaired into U+FFFD (two byte strings must not read as one claim).
    // Checked apart from the decoding, which is then node's fast path; a BOM is kept, so JSON.parse refuses it.
    if (!isUtf8(bytes)) throw new TypeError('not UTF-8');
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw malformed(`token ${part} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`token ${part} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The three segments of a compact JWS that passed the format check. */
export interface CompactSegments {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
}

/**
 * The format check alone: size cap first (an oversized token never reaches a regular expression, a JSON
 * parser or jose), then three strict base64url segments.
 */
export function splitCompactToken(token: string, maxTokenBytes: number): CompactSegments {
  // The type says string, but `createAuthenticator` is called with whatever a gateway parsed out of a
  // request (`undefined` for a missing header, an array for a repeated one): a refusal, not a TypeError.
  if (typeof token !== 'string') throw malformed(`token is a ${token === null ? 'null' : typeof token}, not a string`);
  if (token.length > maxTokenBytes) throw new AuthError('ERR_AUTH_TOKEN_TOO_LARGE', `token has ${token.length} bytes, over maxTokenBytes (${maxTokenBytes})`);
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) throw malformed('token does not have three dot-separated segments');
  const header = token.slice(0, first);
  const payload = token.slice(first + 1, second);
  const signature = token.slice(second + 1);
  // An empty signature is left to the algorithm check: it only occurs with `alg: none`, which no
  // allowlist contains, and the caller then learns the precise reason.
  if (!isCanonicalBase64url(header) || !isCanonicalBase64url(payload) || (signature !== '' && !isCanonicalBase64url(signature))) {
    throw malformed('token segments are not strict base64url (empty, padded, whitespace or stray characters)');
  }
  return { header, payload, signature };
}

/** Checks the compact form before any crypto and decodes header and payload as JSON objects. */
export function parseCompactToken(token: string, maxTokenBytes: number): ParsedToken {
  const segments = splitCompactToken(token, maxTokenBytes);
  return { token, header: decodeJsonObject(segments.header, 'header'), claims: decodeJsonObject(segments.payload, 'payload') };
}
