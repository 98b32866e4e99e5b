/**
 * Peers' token-source cases, rewritten for `tokenFrom` over real gRPC (our own code, their behaviours):
 *
 * - @fastify/jwt, cookie option (fastify/fastify-jwt test/jwt.test.js, "cookie" cases): a token in the
 *   named cookie is verified; no such cookie → 401 (here UNAUTHENTICATED TOKEN_MISSING naming the
 *   cookie); a manipulated signature → invalid; both a header and a cookie → the cookie is used; a signed
 *   cookie (`signed: true`) is unsigned first. Differences on purpose: with a cookie configured they fall
 *   back to the `authorization` header when the cookie is absent; here only the configured place is
 *   read (their `onlyCookie: true`). Signed cookies have no option here: a `tokenFrom` function unsigns.
 * - express-jwt (auth0/express-jwt test/jwt.test.ts, getToken and credentialsRequired cases): a custom
 *   getToken reading elsewhere; errors it throws are the refusal; no token with credentialsRequired
 *   false passes (our `'optional'`), but an expired or forged token is refused even then. Differences
 *   on purpose: an async getToken is refused at construction (a promise would put I/O ahead of every
 *   check), and a non-Bearer `authorization` on an optional method is refused, not ignored.
 * - go-grpc-middleware auth (grpc-ecosystem/go-grpc-middleware interceptors/auth): `AuthFromMD` reads a
 *   named metadata key; here `{ metadata }`: the key's value is the whole token, a scheme in it is refused.
 *
 * And hostile cookie headers (RFC 6265 §4.2.1, §5.4): names that prefix or contain the configured one,
 * case, tabs, `;` without a space, an empty cookie name, a percent-encoded value, a large cookie jar
 * from other applications on the same domain.
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AuthConfigError, AuthError, createAuthInterceptor, type AuthInterceptorOptions, type TokenSource } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { unary, type Outcome } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
const COOKIE_SECRET = 'a cookie-signing secret of the test';

function metadataOf(...pairs: Array<[string, string]>): grpc.Metadata {
  const metadata = new Metadata();
  for (const [key, value] of pairs) metadata.add(key, value);
  return metadata;
}

function assertOutcome(outcome: Outcome, code: grpc.status, reason: string | undefined, label: string): void {
  assert.deepEqual([outcome.code, outcome.reason], [code, reason], label);
}

/** A signed cookie value as cookie-signing middleware writes it: `<value>.<HMAC-SHA256, base64url>`. */
function signCookie(value: string): string {
  return `${value}.${createHmac('sha256', COOKIE_SECRET).update(value).digest('base64url')}`;
}

/** A tokenFrom function reading the signed cookie `name`: the token when its HMAC matches, a refusal otherwise. */
function signedCookie(name: string): TokenSource {
  return (metadata) => {
    const header = metadata.get('cookie').join('; ');
    const pair = header
      .split(';')
      .map((part) => part.trim())
      .find((part) => part.startsWith(`${name}=`));
    if (pair === undefined) return undefined;
    const signed = pair.slice(name.length + 1);
    const dot = signed.lastIndexOf('.');
    const value = signed.slice(0, dot);
    const expected = Buffer.from(signCookie(value));
    const given = Buffer.from(signed);
    if (dot < 0 || expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new AuthError('ERR_AUTH_TOKEN_REJECTED', `cookie ${name} is not signed by this server`);
    }
    return value;
  };
}

describe('peers: where the token comes from', () => {
  let idp: TestIssuer;
  let other: TestIssuer;
  let token: string;
  const servers: EchoServer[] = [];

  async function serve(tokenFrom: TokenSource, extra: Partial<AuthInterceptorOptions> = {}): Promise<EchoServer> {
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: 'echo-api', tokenFrom, ...extra });
    const echo = await startEchoServer({ interceptors: [auth] });
    servers.push(echo);
    return echo;
  }

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    other = await createTestIssuer({ alg: 'ES256', audience: 'echo-api', issuer: idp.issuer });
    token = await idp.sign({ sub: 'alice' });
  });
  after(() => Promise.all(servers.map((server) => server.close())));

  describe('@fastify/jwt cookie cases', () => {
    it('the token in the named cookie is verified; no such cookie → TOKEN_MISSING naming it; a manipulated signature → SIGNATURE_INVALID', async () => {
      const echo = await serve({ cookie: 'token' });
      const ok = await unary(echo.client, metadataOf(['cookie', `token=${token}`]));
      assertOutcome(ok, status.OK, undefined, 'good');
      assert.equal(ok.replies[0]?.subject, 'alice');
      const missing = await unary(echo.client, metadataOf(['cookie', 'foo=bar']));
      assertOutcome(missing, status.UNAUTHENTICATED, 'TOKEN_MISSING', 'absent');
      assert.match(missing.details, /cookie token/);
      assert.equal(missing.wwwAuthenticate, 'Bearer');
      const forged = await other.sign({ sub: 'alice' });
      assertOutcome(await unary(echo.client, metadataOf(['cookie', `token=${forged}`])), status.UNAUTHENTICATED, 'SIGNATURE_INVALID', 'other key');
      const tampered = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      assertOutcome(await unary(echo.client, metadataOf(['cookie', `token=${tampered}`])), status.UNAUTHENTICATED, 'SIGNATURE_INVALID', 'tampered');
    });

    it('both an authorization header and the cookie: the cookie decides; the header alone does not admit (their onlyCookie)', async () => {
      const echo = await serve({ cookie: 'token' });
      const mallory = await idp.sign({ sub: 'mallory' });
      const both = await unary(echo.client, metadataOf(['authorization', `Bearer ${mallory}`], ['cookie', `token=${token}`]));
      assertOutcome(both, status.OK, undefined, 'both');
      assert.equal(both.replies[0]?.subject, 'alice');
      assertOutcome(await unary(echo.client, metadataOf(['authorization', `Bearer ${token}`])), status.UNAUTHENTICATED, 'TOKEN_MISSING', 'header only');
    });

    it('a signed cookie: the signed value itself is no token (TOKEN_MALFORMED); a tokenFrom function unsigns it, and a bad cookie signature is its refusal', async () => {
      const plain = await serve({ cookie: 'token' });
      assertOutcome(await unary(plain.client, metadataOf(['cookie', `token=${signCookie(token)}`])), status.UNAUTHENTICATED, 'TOKEN_MALFORMED', 'raw');
      const unsigning = await serve(signedCookie('token'));
      const ok = await unary(unsigning.client, metadataOf(['cookie', `theme=dark; token=${signCookie(token)}`]));
      assertOutcome(ok, status.OK, undefined, 'unsigned');
      assert.equal(ok.replies[0]?.subject, 'alice');
      const mallory = await idp.sign({ sub: 'mallory' });
      const swapped = `${mallory}.${signCookie(token).split('.').pop() as string}`;
      assertOutcome(
        await unary(unsigning.client, metadataOf(['cookie', `token=${swapped}`])),
        status.UNAUTHENTICATED,
        'TOKEN_REJECTED',
        'bad cookie signature',
      );
      assertOutcome(await unary(unsigning.client, metadataOf(['cookie', `token=${token}`])), status.UNAUTHENTICATED, 'TOKEN_REJECTED', 'unsigned cookie');
    });
  });

  describe('express-jwt getToken and credentialsRequired cases', () => {
    it('a custom getToken reading another carrier admits; what it throws is the refusal (AuthError as it is, anything else INTERNAL)', async () => {
      const echo = await serve((metadata) => {
        const [mode] = metadata.get('x-mode');
        if (mode === 'auth-error') throw new AuthError('ERR_AUTH_TOKEN_REJECTED', 'Invalid token!');
        if (mode === 'bug') throw new TypeError('cannot read properties of undefined');
        const [value] = metadata.get('x-query-token');
        return typeof value === 'string' ? value : undefined;
      });
      const ok = await unary(echo.client, metadataOf(['x-query-token', token]));
      assertOutcome(ok, status.OK, undefined, 'custom');
      assert.equal(ok.replies[0]?.subject, 'alice');
      assertOutcome(await unary(echo.client, metadataOf(['x-mode', 'auth-error'])), status.UNAUTHENTICATED, 'TOKEN_REJECTED', 'AuthError');
      assertOutcome(await unary(echo.client, metadataOf(['x-mode', 'bug'])), status.INTERNAL, 'INTERNAL', 'TypeError');
    });

    it('credentials not required (optional): no token passes without a caller, an expired or forged token is still refused, a non-Bearer authorization too', async () => {
      const fromHeader = (metadata: grpc.Metadata): string | undefined => metadata.get('x-query-token')[0] as string | undefined;
      const echo = await serve(fromHeader, { defaultRule: 'optional' });
      const none = await unary(echo.client, new Metadata());
      assertOutcome(none, status.OK, undefined, 'none');
      assert.equal(none.replies[0]?.subject, '');
      const now = Math.floor(Date.now() / 1000);
      const expired = await idp.sign({ sub: 'late', iat: now - 7200, exp: now - 3600 });
      assertOutcome(await unary(echo.client, metadataOf(['x-query-token', expired])), status.UNAUTHENTICATED, 'TOKEN_EXPIRED', 'expired');
      assertOutcome(await unary(echo.client, metadataOf(['x-query-token', await other.sign()])), status.UNAUTHENTICATED, 'SIGNATURE_INVALID', 'forged');
      const bearer = await serve('authorization', { defaultRule: 'optional' });
      assertOutcome(await unary(bearer.client, metadataOf(['authorization', 'Basic foobar'])), status.UNAUTHENTICATED, 'AUTHORIZATION_MALFORMED', 'Basic');
    });

    it('an async getToken is refused at construction, naming tokenFrom (express-jwt accepts one)', () => {
      assert.throws(
        () => createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], tokenFrom: (async () => token) as unknown as TokenSource }),
        (error: unknown) => error instanceof AuthConfigError && error.option === 'tokenFrom',
      );
    });
  });

  describe('go-grpc-middleware AuthFromMD with a custom key', () => {
    it('the named key holds the whole token; a scheme in it, or no key, is refused', async () => {
      const echo = await serve({ metadata: 'x-api-token' });
      assertOutcome(await unary(echo.client, metadataOf(['x-api-token', token])), status.OK, undefined, 'token');
      assertOutcome(await unary(echo.client, metadataOf(['x-api-token', `bearer ${token}`])), status.UNAUTHENTICATED, 'AUTHORIZATION_MALFORMED', 'scheme');
      assertOutcome(await unary(echo.client, metadataOf(['x-other', token])), status.UNAUTHENTICATED, 'TOKEN_MISSING', 'absent');
    });
  });

  describe('hostile cookie headers', () => {
    it('names that prefix, contain or differ in case from the configured one never count; ";" without space and an empty name are read as RFC 6265 says (tabs cannot be in grpc-js metadata at all)', async () => {
      const echo = await serve({ cookie: 'session' });
      const mallory = await idp.sign({ sub: 'mallory' });
      for (const header of [
        `session2=${mallory}; xsession=${mallory}; Session=${mallory}; SESSION=${mallory};session=${token}`,
        `=${mallory}; session=${token}`,
        `a=1;session=${token};b=2`,
        `session_=${mallory}; session.=${mallory}; session=${token}`,
      ]) {
        const outcome = await unary(echo.client, metadataOf(['cookie', header]));
        assertOutcome(outcome, status.OK, undefined, header.slice(0, 30));
        assert.equal(outcome.replies[0]?.subject, 'alice');
      }
      assertOutcome(await unary(echo.client, metadataOf(['cookie', `=session; session=${token}`])), status.OK, undefined, 'value named like the cookie');
    });

    it('a percent-encoded or comma-joined value is not decoded into a token: TOKEN_MALFORMED or AUTHORIZATION_MALFORMED, never admitted', async () => {
      const echo = await serve({ cookie: 'session' });
      const encoded = token.replace(/\./g, '%2E');
      assertOutcome(await unary(echo.client, metadataOf(['cookie', `session=${encoded}`])), status.UNAUTHENTICATED, 'TOKEN_MALFORMED', 'percent');
      assertOutcome(
        await unary(echo.client, metadataOf(['cookie', `session=${token}, other=1`])),
        status.UNAUTHENTICATED,
        'AUTHORIZATION_MALFORMED',
        'RFC 2109 comma list',
      );
    });

    it("a large cookie jar from other applications on the domain (40 KB) does not hide a small session cookie; the jar's size is not the token's", async () => {
      const echo = await serve({ cookie: 'session' }, { maxTokenBytes: 1024 });
      const jar = Array.from({ length: 400 }, (_, i) => `app${i}=${'v'.repeat(90)}`).join('; ');
      const outcome = await unary(echo.client, metadataOf(['cookie', `${jar}; session=${token}`]), 'hi', { deadline: Date.now() + 5000 });
      assertOutcome(outcome, status.OK, undefined, 'jar');
      assert.equal(outcome.replies[0]?.subject, 'alice');
    });
  });
});
