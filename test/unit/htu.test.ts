/**
 * The `htu` normalization and the `dpop.origins` check.
 *
 * Ported cases (our own code and assertions; the inputs are the peers'):
 * - auth0/node-oauth2-jwt-bearer packages/access-token-jwt/test/dpop-verifier.test.ts, `describe('normalizeUrl')`,
 *   commit 8701dab. Where auth0 strips userinfo we refuse it (a proof for `user@host` names no target a
 *   client could mean); where auth0 refuses `//` or an absolute URL in a *request* path, only the proof
 *   side applies here (the request path is the gRPC method, never parsed from the wire).
 * - opentdf/platform service/internal/auth/dpop_uri.go, commit 053f7e5d7: `//` in a path is not collapsed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileOrigins, parseHtu } from '../../src/verify/htu.ts';
import { AuthConfigError } from '../../src/errors/config-error.ts';

/** `origin + path` of a normalized htu, or undefined when refused. */
function normalized(htu: string): string | undefined {
  const parts = parseHtu(htu);
  return parts === undefined ? undefined : parts.origin + parts.path;
}

describe('parseHtu (auth0 normalizeUrl cases)', () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ['removes query and fragment', 'https://api.example.com/resource?foo=bar#hash', 'https://api.example.com/resource'],
    ['keeps a trailing slash', 'https://api.example.com/resource/?abc=def', 'https://api.example.com/resource/'],
    ['keeps a non-default port', 'https://api.example.com:8443/resource?foo=bar', 'https://api.example.com:8443/resource'],
    ['localhost with port, query and fragment', 'http://localhost:3000/path?debug=true#frag', 'http://localhost:3000/path'],
    ['an IPv4 host', 'http://127.0.0.1:4000/test?foo=bar', 'http://127.0.0.1:4000/test'],
    ['an underscore in the host (RFC 3986 reg-name)', 'http://my_service:8080/resource?foo=bar', 'http://my_service:8080/resource'],
    ['an already normalized URL', 'https://api.example.com/path', 'https://api.example.com/path'],
    ['scheme and host lower-cased', 'HTTPS://API.EXAMPLE.COM/path', 'https://api.example.com/path'],
    ['default port 443 dropped', 'https://api.example.com:443/path', 'https://api.example.com/path'],
    ['default port 80 dropped', 'http://api.example.com:80/path?x=1#y', 'http://api.example.com/path'],
    ['percent-encodings in upper case', 'https://api.example.com/path%2fto%2fresource', 'https://api.example.com/path%2Fto%2Fresource'],
    [
      'unreserved percent-encodings decoded, reserved kept',
      'https://api.example.com/%7Euser/path%2Fwith%2Fslash',
      'https://api.example.com/~user/path%2Fwith%2Fslash',
    ],
    ['dot segments resolved', 'https://api.example.com/path/../resource/./file.txt', 'https://api.example.com/resource/file.txt'],
    ['encoded dot segments resolved', 'https://api.example.com/a/%2e%2e/b', 'https://api.example.com/b'],
    ['path case kept, host case folded', 'HTTPS://API.EXAMPLE.COM:8443/A/Path?Q=1#F', 'https://api.example.com:8443/A/Path'],
    ['an IPv6 literal', 'http://[::1]/path?x=1#y', 'http://[::1]/path'],
    ['an IPv6 literal with a port', 'http://[2001:db8::1]:3000/path?x=1#y', 'http://[2001:db8::1]:3000/path'],
    ['an IPv4-mapped IPv6 literal in hex groups', 'http://[::ffff:192.0.2.128]:3000/x', 'http://[::ffff:c000:280]:3000/x'],
    ['a punycode host', 'https://xn--bcher-kva.de/path', 'https://xn--bcher-kva.de/path'],
    ['a Unicode host to punycode', 'https://bücher.de/weg', 'https://xn--bcher-kva.de/weg'],
    ['a trailing dot in the host', 'https://example.com./x', 'https://example.com./x'],
    ['non-ASCII bytes stay encoded, upper-case hex', 'https://api.example.com/price/%e2%82%ac', 'https://api.example.com/price/%E2%82%AC'],
    ['"//" in the path kept (opentdf: not collapsed)', 'https://api.example.com//double/slash?x=1#y', 'https://api.example.com//double/slash'],
    [
      'an absolute URL inside the path is just a path',
      'https://api.example.com/https://evil.example.com/steal?x=1#y',
      'https://api.example.com/https://evil.example.com/steal',
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(`${name}: ${input} → ${expected}`, () => assert.equal(normalized(input), expected));
  }

  const refused: ReadonlyArray<readonly [string, string]> = [
    ['userinfo (auth0 strips it; refused here)', 'https://user:pass@api.example.com/resource?foo=bar'],
    ['a user without password', 'https://user@api.example.com/resource'],
    ['an empty userinfo', 'https://@api.example.com/resource'],
    ['an empty userinfo behind backslashes', 'https:\\\\@api.example.com/resource'],
    ['a malformed URL', ':://foo.bar?x=1'],
    ['a parser failure', '::::://'],
    ['an illegal host character', 'https://ho!st.example/path'],
    ['an overlong port', 'https://api.example.com:999999/path'],
    ['an unclosed IPv6 literal', 'http://[2001:db8::1/path'],
    ['another scheme', 'ftp://api.example.com/path'],
    ['a relative reference', '/test.echo.v1.Echo/Unary'],
    ['no scheme', 'api.example.com/path'],
  ];
  for (const [name, input] of refused) {
    it(`refuses ${name}: ${input}`, () => assert.equal(parseHtu(input), undefined));
  }

  it('a method path with %2F is not the method path (never decoded into a separator)', () => {
    assert.equal(parseHtu('https://orders.test/test.echo.v1.Echo%2FUnary')?.path, '/test.echo.v1.Echo%2FUnary');
  });
});

describe('compileOrigins (dpop.origins)', () => {
  it('normalizes each origin as htu origins are', () => {
    assert.deepEqual(
      [...compileOrigins(['HTTPS://Orders.Example:443', 'https://orders.internal:8443/', 'http://[::1]:50051'], 'dpop.origins')],
      ['https://orders.example', 'https://orders.internal:8443', 'http://[::1]:50051'],
    );
  });

  const refused: ReadonlyArray<readonly [string, unknown, string]> = [
    ['not a list', 'https://orders.example', 'dpop.origins'],
    ['an empty list', [], 'dpop.origins'],
    ['a path', ['https://orders.example/api'], 'dpop.origins[0]'],
    ['a query', ['https://orders.example?x=1'], 'dpop.origins[0]'],
    ['an empty query', ['https://orders.example/?'], 'dpop.origins[0]'],
    ['a fragment', ['https://orders.example#top'], 'dpop.origins[0]'],
    ['userinfo', ['https://a@orders.example'], 'dpop.origins[0]'],
    ['another scheme', ['grpc://orders.example'], 'dpop.origins[0]'],
    ['a host alone', ['orders.example'], 'dpop.origins[0]'],
    ['a non-string', ['https://orders.example', 42], 'dpop.origins[1]'],
  ];
  for (const [name, value, option] of refused) {
    it(`refuses ${name}, naming ${option}`, () => {
      assert.throws(
        () => compileOrigins(value, 'dpop.origins'),
        (error: unknown) => error instanceof AuthConfigError && error.option === option,
      );
    });
  }
});
