import type { Metadata } from '@grpc/grpc-js';
import { checkOneToken, tooLarge, type PresentedToken } from './metadata.ts';
import { CarrierReader } from './token-reader.ts';

/**
 * Cookie metadata longer than this, all of its values together, is refused before it is parsed: far
 * above what browsers and proxies send (Node's own HTTP/1 server caps all headers at 16 KiB), and about
 * what Node's HTTP/2 server lets through. It bounds the scan when server code built the Metadata itself.
 *
 * @example
 * ```ts
 * 'a=1; '.repeat(20_000).length > MAX_COOKIE_BYTES; // true: refused unread
 * ```
 */
export const MAX_COOKIE_BYTES = 64 * 1024;

const SPACE = 0x20;
const TAB = 0x09;

function isOws(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code === SPACE || code === TAB;
}

/** True when `text[from, to)`, without surrounding spaces and tabs, is exactly `name`. Allocates nothing. */
function isName(text: string, from: number, to: number, name: string): boolean {
  let start = from;
  let end = to;
  while (start < end && isOws(text, start)) start += 1;
  while (end > start && isOws(text, end - 1)) end -= 1;
  return end - start === name.length && text.startsWith(name, start);
}

/** `text[from, to)` without surrounding spaces and tabs. */
function trimmed(text: string, from: number, to: number): string {
  let start = from;
  let end = to;
  while (start < end && isOws(text, start)) start += 1;
  while (end > start && isOws(text, end - 1)) end -= 1;
  return text.slice(start, end);
}

/**
 * Every value given to `name` in one cookie header (`a=1; session=<token>; b=2`), pushed onto `into`.
 * Pairs are split at `;` and a name is compared after trimming spaces and tabs (RFC 6265 §5.4 is lenient
 * about them, and so are browsers and frameworks): `session =x` counts as `session`, so it cannot hide a
 * second token from the duplicate check. A pair without `=` is a name with an empty value. Linear in the
 * header: `=` is looked for once per stretch of text, never from every pair to the end.
 */
function scanHeader(header: string, name: string, into: string[]): void {
  let start = 0;
  let equals = -1;
  while (start <= header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    if (equals < start) {
      equals = header.indexOf('=', start);
      if (equals < 0) equals = header.length;
    }
    const nameEnd = equals < end ? equals : end;
    if (isName(header, start, nameEnd, name)) into.push(nameEnd === end ? '' : trimmed(header, nameEnd + 1, end));
    start = end + 1;
  }
}

/**
 * Reads the token from the cookie `name` of the call's `cookie` metadata (`tokenFrom: { cookie }`), with
 * the strictness of `authorization`, adapted to cookies:
 *
 * - The cookie must appear exactly once. Two (`session=a; session=b`) are refused, not resolved: which
 *   one a browser sends first depends on paths and creation times, and a sibling subdomain can plant
 *   one of them (cookie tossing), so picking either would be a guess an attacker can steer. Several
 *   `cookie` values are one header split in crumbs (RFC 9113 §8.2.3), read together.
 * - Cookie metadata over {@link MAX_COOKIE_BYTES} is refused before it is parsed; the value over
 *   `maxTokenBytes` before anything else reads it.
 * - A value in double quotes (RFC 6265 §4.1.1 allows them) is read without them; then it must be one
 *   token: not empty, no whitespace, comma, semicolon or quote. The authenticator checks its compact form.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * const metadata = new Metadata();
 * metadata.set('cookie', 'theme=dark; session=eyJhbGciOiJFUzI1NiJ9.e30.c2ln; lang=en');
 * new CookieTokenReader('session', 8192).read(metadata); // { token: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln', scheme: 'bearer' }
 * ```
 */
export class CookieTokenReader extends CarrierReader {
  constructor(
    readonly name: string,
    private readonly maxTokenBytes: number,
  ) {
    super(`cookie ${name}`, `cookie ${name} must be sent once, with a token value`);
  }

  read(metadata: Metadata): PresentedToken | undefined {
    const headers = metadata.get('cookie');
    if (headers.length === 0) return undefined;
    let total = 0;
    for (const header of headers) {
      // Only `-bin` keys hold Buffers in grpc-js; this narrows the type.
      if (typeof header !== 'string') throw this.malformed('cookie metadata is binary');
      total += header.length;
    }
    if (total > MAX_COOKIE_BYTES) throw this.malformed(`cookie metadata has ${total} bytes, over the ${MAX_COOKIE_BYTES} read`);
    const values: string[] = [];
    for (const header of headers) scanHeader(header as string, this.name, values);
    if (values.length === 0) return undefined;
    if (values.length > 1) throw this.malformed(`${this.description} is sent ${values.length} times; exactly once is allowed`);
    const raw = values[0] as string;
    const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
    if (value.length > this.maxTokenBytes) throw tooLarge(this.description, value.length, this.maxTokenBytes);
    return { token: checkOneToken(value, this.description, this.wireText), scheme: 'bearer' };
  }
}
