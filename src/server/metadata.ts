import type { Metadata } from '@grpc/grpc-js';
import { AuthError } from '../errors/auth-error.ts';

// RFC 6750 §2.1: the scheme is case-insensitive, then one space, then the token. Nothing before or after:
// a second token, a comma list or padding is ambiguous, and ambiguity is where bypasses live.
const BEARER = /^bearer ([^\s]+)$/i;

/**
 * The bearer token of a call, or undefined when the call has no `authorization` metadata at all.
 * Throws AUTHORIZATION_MALFORMED for several values, another scheme or a missing token.
 *
 * Several values never arrive over the wire: Node's HTTP/2 server treats `authorization` as a
 * single-value header and keeps only the first field of a request, and grpc-js clients refuse to send
 * two. The check fires when server code built or extended the Metadata itself (an interceptor running
 * before ours that adds a value, a test), where silently picking one would be a guess.
 */
export function readBearerToken(metadata: Metadata): string | undefined {
  const values = metadata.get('authorization');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new AuthError('ERR_AUTH_AUTHORIZATION_MALFORMED', `authorization metadata has ${values.length} values; exactly one is allowed`);
  const value = values[0];
  // grpc-js keeps Buffers only under `-bin` keys; this narrows the type.
  if (typeof value !== 'string') throw new AuthError('ERR_AUTH_AUTHORIZATION_MALFORMED', 'authorization metadata is binary');
  // test() and slice() instead of exec(): no match array on the per-call path.
  if (!BEARER.test(value)) {
    // Name the scheme only when it looks like one (`Basic`, `Token`): a bare credential (an API key sent
    // without a scheme) must not end up in the logs.
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]{0,19}) /.exec(value)?.[1];
    const what = /^bearer(\s|$)/i.test(value)
      ? 'a "Bearer" scheme without exactly one token'
      : scheme === undefined
        ? 'no scheme'
        : `scheme ${JSON.stringify(scheme)}`;
    throw new AuthError('ERR_AUTH_AUTHORIZATION_MALFORMED', `authorization metadata has ${what}; expected "Bearer <token>"`);
  }
  return value.slice('Bearer '.length);
}
