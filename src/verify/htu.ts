/**
 * The DPoP `htu` claim (RFC 9449 §4.2, §4.3 check 9): the URL the proof was made for, compared with the
 * server's own configured origins and the called path, never with what the request says about itself.
 */
import { AuthConfigError } from '../errors/config-error.ts';

/** An `htu` split into what the server compares: the origin and the path, both normalized. */
export interface HtuParts {
  /** `scheme://host[:port]`, lower case, punycode, no default port. */
  readonly origin: string;
  /** The path, dot segments resolved, unreserved percent-encodings decoded, the others in upper-case hex. */
  readonly path: string;
}

// RFC 3986 §2.3: these may be written encoded or not and mean the same; everything else stays encoded.
const UNRESERVED = /[A-Za-z0-9\-._~]/;
// eslint-disable-next-line no-control-regex -- these are exactly the characters refused
const UNPARSED = /[\x00-\x20\x7F\\]/;
// An `@` in the authority: the scheme, any slashes, then `@` before the path (controls and `\` are refused first).
const USERINFO = /^[a-z][a-z0-9+.-]*:\/*[^/?#]*@/i;
// What WHATWG leaves of a DNS name (lower case, punycode), an IPv4 address or a bracketed IPv6 literal.
const HOST = /^(?:[a-z0-9_~.-]+|\[[0-9a-f:.]+\])$/;
const PERCENT_ENCODED = /%([0-9A-Fa-f]{2})/g;
// A configured origin as written: scheme, `//`, an authority, at most a `/`; no path, query or fragment.
const ORIGIN_TEXT = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+\/?$/i;

/** RFC 3986 §6.2.2.1-2: `%7e` and `~` are one path, `%2f` and `%2F` another (never `/`). */
function normalizePercentEncoding(path: string): string {
  return path.replace(PERCENT_ENCODED, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * Parses and normalizes an absolute `http`/`https` URL (WHATWG: scheme and host lower-cased, default port
 * dropped, dot segments resolved, IDN to punycode), dropping query and fragment (RFC 9449 §4.3: they are
 * not compared). Undefined for anything else, for a URL with userinfo (`https://user@orders.example`
 * names no resource a client could mean, and accepting it would let one proof spell the same target many
 * ways), and for text with spaces, controls or backslashes, which WHATWG silently repairs.
 *
 * @example
 * ```ts
 * parseHtu('HTTPS://Orders.Example:443/acme.orders.v1.Orders/GetOrder?x=1#f'); // { origin: 'https://orders.example', path: '/acme.orders.v1.Orders/GetOrder' }
 * parseHtu('https://user:pass@orders.example/x'); // undefined
 * parseHtu('ftp://orders.example/x'); // undefined
 * ```
 */
export function parseHtu(value: string): HtuParts | undefined {
  // WHATWG silently drops tabs and newlines anywhere, trims spaces and controls, and reads `\` as `/`:
  // `https:/\n/@host` would pass for `https://host` with the userinfo check blind to it, and RFC 3986
  // parsers read such text differently. A URL has none of them: refuse, so one text has one reading.
  if (UNPARSED.test(value)) return undefined;
  const url = URL.parse(value);
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  // An `@` with nothing before it (`https://@host`, `https:\\@host`) leaves username empty but is userinfo still.
  if (USERINFO.test(value)) return undefined;
  // WHATWG lets sub-delims (`!`, `$`, `'`...) into a host; no DNS name or address has them.
  if (!HOST.test(url.hostname)) return undefined;
  return { origin: url.origin, path: normalizePercentEncoding(url.pathname) };
}

/**
 * The configured origins (`dpop.origins`), normalized as `htu`s are. Each must be an absolute `http` or
 * `https` origin: no path other than `/`, no query, fragment or userinfo. Mistakes throw an
 * {@link AuthConfigError} naming `option[i]`.
 *
 * @example
 * ```ts
 * compileOrigins(['https://Orders.Example:443', 'https://orders.internal:8443/'], 'dpop.origins'); // Set { 'https://orders.example', 'https://orders.internal:8443' }
 * compileOrigins(['https://orders.example/api'], 'dpop.origins'); // throws AuthConfigError('dpop.origins[0]', ...)
 * ```
 */
export function compileOrigins(value: unknown, option: string): ReadonlySet<string> {
  if (!Array.isArray(value) || value.length === 0) {
    throw new AuthConfigError(option, 'required: the absolute origins clients address this service by, e.g. ["https://orders.example"]');
  }
  const origins = new Set<string>();
  value.forEach((entry: unknown, index) => {
    const name = `${option}[${index}]`;
    if (typeof entry !== 'string') throw new AuthConfigError(name, 'expected an origin string such as "https://orders.example"');
    const parts = parseHtu(entry);
    // The text itself, not only its parse: `https://a.example/api/..` resolves to `/`, but whoever wrote
    // it meant a path prefix that is not enforced.
    if (parts === undefined || !ORIGIN_TEXT.test(entry) || parts.path !== '/') {
      throw new AuthConfigError(name, 'expected an http or https origin such as "https://orders.example:8443": no path, query, fragment or userinfo');
    }
    origins.add(parts.origin);
  });
  return origins;
}
