import { TokenError } from './token-error.ts';

// Visible ASCII, no space: what fits in an `authorization: Bearer <token>` header without breaking it.
// Control characters would be refused by grpc-js anyway; checking here gives a clear error instead.
const BEARER_TOKEN = /^[\x21-\x7e]+$/;

/**
 * Checks that a token source produced something that can be sent as a bearer token. The token itself is
 * never put in the error.
 *
 * @example
 * ```ts
 * checkBearerToken('abc.def.ghi', 'the token function'); // 'abc.def.ghi'
 * checkBearerToken('Bearer abc.def.ghi', 'the token function'); // throws ERR_TOKEN_SOURCE_FAILED: the prefix is not part of the token
 * ```
 */
export function checkBearerToken(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TokenError('ERR_TOKEN_SOURCE_FAILED', `${what} gave ${value === '' ? 'an empty string' : `a ${typeof value}`}, not a token`, { retryable: true });
  }
  if (!BEARER_TOKEN.test(value)) {
    const hint = /^bearer\s/i.test(value) ? ' (return the token alone, without the "Bearer " prefix)' : ' (it has spaces, control or non-ASCII characters)';
    throw new TokenError('ERR_TOKEN_SOURCE_FAILED', `${what} gave a value that is not a bearer token${hint}`, { retryable: false });
  }
  return value;
}
