/**
 * The HTTP side of the test issuer's token endpoint (RFC 6749): reading a form body, the OAuth error
 * answer, comparing a client secret, narrowing a requested scope.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const MAX_BODY_BYTES = 64 * 1024;

/**
 * An OAuth error answer (RFC 6749 §5.2): its `error` code, a description, the HTTP status, and extra
 * response headers (`www-authenticate`, `dpop-nonce`, `allow`).
 *
 * @example
 * ```ts
 * throw new OAuthError('invalid_client', 'client authentication failed', 401, { 'www-authenticate': 'Basic realm="test-issuer"' });
 * ```
 */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(description);
  }
}

/**
 * Whether a presented client secret is the registered one, compared in constant time.
 *
 * @example
 * ```ts
 * sameSecret('test-secret', 'test-secret'); // true
 * ```
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // Constant time, so a test endpoint does not teach clients a timing oracle by example.
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * One `application/x-www-form-urlencoded` value decoded, as in HTTP Basic credentials (RFC 6749 §2.3.1).
 *
 * @example
 * ```ts
 * formDecode('a+b%3Ac'); // 'a b:c'
 * ```
 */
export function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/**
 * The request body as text, at most 64 KiB (more is refused with 413).
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from 'node:http';
 * declare const request: IncomingMessage;
 * const params = parseForm(await readBody(request));
 * ```
 */
export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new OAuthError('invalid_request', 'request body too large', 413));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * The form parameters; RFC 6749 §3.2: a parameter sent twice is an error.
 *
 * @example
 * ```ts
 * parseForm('grant_type=client_credentials&scope=a'); // Map { grant_type → client_credentials, scope → a }
 * ```
 */
export function parseForm(body: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (params.has(name)) throw new OAuthError('invalid_request', `parameter ${name} was sent more than once`);
    params.set(name, value);
  }
  return params;
}

/**
 * The scope to grant: the requested one if the allowed scopes cover it (`invalid_scope` if not), else
 * the allowed ones.
 *
 * @example
 * ```ts
 * scopeWithin('orders:read', 'orders:read orders:write'); // 'orders:read'
 * scopeWithin(undefined, 'orders:read'); // 'orders:read'
 * ```
 */
export function scopeWithin(requested: string | undefined, allowed: string | undefined): string | undefined {
  if (requested === undefined) return allowed;
  if (allowed === undefined) return requested;
  const granted = new Set(allowed.split(' '));
  const missing = requested.split(' ').filter((scope) => scope && !granted.has(scope));
  if (missing.length > 0) throw new OAuthError('invalid_scope', `scope not allowed: ${missing.join(' ')}`);
  return requested;
}
