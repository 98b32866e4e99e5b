/**
 * `tokenFrom`: where the interceptor reads each call's token. Every source admits a good token on unary
 * and streaming calls over real gRPC, and gets the strict checks of `authorization`: exactly one value,
 * the size cap before anything, one token without padding or list; absent → TOKEN_MISSING. A wrong
 * option shape throws an AuthConfigError naming `tokenFrom` at construction.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AuthConfigError, AuthError, createAuthInterceptor, fromSecret, type AuthInterceptorOptions, type TokenSource } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bidi, serverStream, unary, type Outcome } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
/** Small enough that an over-long value fits in grpc-js's default 8 KiB of metadata. */
const MAX_TOKEN_BYTES = 1024;

/** Metadata with each [key, value] pair added in order (a key given twice gets two values). */
function metadataOf(...pairs: Array<[string, string]>): grpc.Metadata {
  const metadata = new Metadata();
  for (const [key, value] of pairs) metadata.add(key, value);
  return metadata;
}

/** The pieces of a token a wire message or log must never carry. */
function secretsOf(token: string): string[] {
  const [, payload = '', signature = ''] = token.split('.');
  return [token, payload, signature];
}

function assertRefused(outcome: Outcome, code: grpc.status, reason: string, token: string, label: string): void {
  assert.equal(outcome.code, code, `${label}: status`);
  assert.equal(outcome.reason, reason, `${label}: reason`);
  for (const secret of secretsOf(token)) assert.equal(outcome.details.includes(secret), false, `${label}: the wire message carries token content`);
}

describe('tokenFrom: each source over real gRPC calls', () => {
  let idp: TestIssuer;
  let token: string;
  const servers: EchoServer[] = [];
  const extractorCalls: string[] = [];

  async function serve(tokenFrom: TokenSource | undefined, extra: Partial<AuthInterceptorOptions> = {}): Promise<EchoServer> {
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      maxTokenBytes: MAX_TOKEN_BYTES,
      rules: { '/test.echo.v1.Public/*': 'public' },
      ...(tokenFrom === undefined ? {} : { tokenFrom }),
      ...extra,
    });
    const echo = await startEchoServer({ interceptors: [auth] });
    servers.push(echo);
    return echo;
  }

  let byDefault: EchoServer;
  let byMetadata: EchoServer;
  let byCookie: EchoServer;
  let byFunction: EchoServer;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    token = await idp.sign({ sub: 'alice' });
    byDefault = await serve(undefined);
    byMetadata = await serve({ metadata: 'X-Api-Token' });
    byCookie = await serve({ cookie: 'session' });
    byFunction = await serve((metadata, method) => {
      extractorCalls.push(method);
      const [value] = metadata.get('x-forwarded-access-token');
      return typeof value === 'string' ? value : undefined;
    });
  });
  after(() => Promise.all(servers.map((server) => server.close())));

  const carriers = (): Array<[string, () => EchoServer, (value: string) => grpc.Metadata]> => [
    ["'authorization' (default)", () => byDefault, (value) => metadataOf(['authorization', `Bearer ${value}`])],
    ["{ metadata: 'X-Api-Token' }", () => byMetadata, (value) => metadataOf(['x-api-token', value])],
    ["{ cookie: 'session' }", () => byCookie, (value) => metadataOf(['cookie', `theme=dark; session=${value}; lang=en`])],
    ['a function', () => byFunction, (value) => metadataOf(['x-forwarded-access-token', value])],
  ];

  it('each source: a good token is admitted on a unary, a server-streaming and a bidi call, the caller attached', async () => {
    for (const [label, server, carry] of carriers()) {
      const echo = server();
      for (const [kind, outcome] of [
        ['unary', await unary(echo.client, carry(token))],
        ['serverStream', await serverStream(echo.client, carry(token))],
        ['bidi', await bidi(echo.client, carry(token))],
      ] as const) {
        assert.equal(outcome.code, status.OK, `${label} ${kind}`);
        assert.equal(outcome.replies[0]?.subject, 'alice', `${label} ${kind}`);
      }
    }
  });

  it('each source: no token → UNAUTHENTICATED TOKEN_MISSING on unary and streaming calls, no handler runs', async () => {
    for (const [label, server] of carriers()) {
      const echo = server();
      const runs = { ...echo.runs };
      assertRefused(await unary(echo.client, metadataOf(['cookie', 'theme=dark'])), status.UNAUTHENTICATED, 'TOKEN_MISSING', token, `${label} unary`);
      assertRefused(await serverStream(echo.client, new Metadata()), status.UNAUTHENTICATED, 'TOKEN_MISSING', token, `${label} serverStream`);
      assert.deepEqual(echo.runs, runs, label);
    }
  });

  it('each source: a value over maxTokenBytes → TOKEN_TOO_LARGE, before anything parses it', async () => {
    const huge = `${token}.${'A'.repeat(MAX_TOKEN_BYTES)}`;
    for (const [label, server, carry] of carriers()) {
      assertRefused(await unary(server().client, carry(huge)), status.UNAUTHENTICATED, 'TOKEN_TOO_LARGE', token, label);
    }
  });

  it('each source but authorization: padding, a comma list, a scheme or an empty value → AUTHORIZATION_MALFORMED', async () => {
    const shapes = [`${token},${token}`, `${token}, ${token}`, `Bearer ${token}`, `"${token}" x`, `${token};x`];
    for (const [label, server, carry] of carriers().slice(1)) {
      // In a cookie header a `;` ends the cookie: `session=<token>;x` is the token and a cookie named x.
      for (const shape of label.includes('cookie') ? shapes.filter((shape) => !shape.endsWith(';x')) : shapes) {
        assertRefused(await unary(server().client, carry(shape)), status.UNAUTHENTICATED, 'AUTHORIZATION_MALFORMED', token, `${label}: ${shape.slice(0, 12)}`);
      }
    }
    // Padding is never trimmed into a token: inside the value it is refused; at its ends, Node's HTTP/2
    // server drops the whole field (RFC 9113 §8.2.1 makes it malformed), so the call has no token.
    const inner = await unary(byMetadata.client, metadataOf(['x-api-token', `${token} ${token}`]));
    assertRefused(inner, status.UNAUTHENTICATED, 'AUTHORIZATION_MALFORMED', token, 'metadata: inner space');
    for (const padded of [` ${token}`, `${token} `]) {
      const outcome = await unary(byMetadata.client, metadataOf(['x-api-token', padded]));
      assert.equal(outcome.code, status.UNAUTHENTICATED, `padded ${JSON.stringify(padded.slice(0, 3))}`);
      assert.ok(['AUTHORIZATION_MALFORMED', 'TOKEN_MISSING'].includes(outcome.reason ?? ''), outcome.reason);
    }
    assertRefused(
      await unary(byMetadata.client, metadataOf(['x-api-token', ''])),
      status.UNAUTHENTICATED,
      'AUTHORIZATION_MALFORMED',
      token,
      'metadata: empty value',
    );
  });

  it('authorization: two values, another scheme, a space-padded or listed value → AUTHORIZATION_MALFORMED', async () => {
    for (const value of [`Basic ${token}`, `Bearer  ${token}`, `Bearer ${token}, Bearer ${token}`, `Bearer ${token} x`, 'Bearer']) {
      assertRefused(
        await unary(byDefault.client, metadataOf(['authorization', value])),
        status.UNAUTHENTICATED,
        'AUTHORIZATION_MALFORMED',
        token,
        value.slice(0, 14),
      );
    }
  });

  it('authorization: a comma list, a semicolon or quotes after Bearer → AUTHORIZATION_MALFORMED, as from every other source (not TOKEN_MALFORMED)', async () => {
    // None of them is a b64token character (RFC 6750 §2.1): the carrier is wrong, whatever the token.
    for (const value of [`Bearer ${token},${token}`, `Bearer ${token};x`, `Bearer "${token}"`, `Bearer ${token},`]) {
      assertRefused(
        await unary(byDefault.client, metadataOf(['authorization', value])),
        status.UNAUTHENTICATED,
        'AUTHORIZATION_MALFORMED',
        token,
        value.slice(0, 14),
      );
    }
  });

  it('{ metadata }: the key sent twice (two fields, joined by HTTP/2 with a comma) → AUTHORIZATION_MALFORMED, naming the key', async () => {
    const outcome = await unary(byMetadata.client, metadataOf(['x-api-token', token], ['x-api-token', token]));
    assertRefused(outcome, status.UNAUTHENTICATED, 'AUTHORIZATION_MALFORMED', token, 'twice');
    assert.match(outcome.details, /x-api-token/);
  });

  it('{ metadata }: an authorization header is ignored, a good one does not admit and a broken one does not refuse', async () => {
    const other = await idp.sign({ sub: 'mallory' });
    assertRefused(
      await unary(byMetadata.client, metadataOf(['authorization', `Bearer ${other}`])),
      status.UNAUTHENTICATED,
      'TOKEN_MISSING',
      other,
      'bearer only',
    );
    const outcome = await unary(byMetadata.client, metadataOf(['authorization', 'Basic zzz'], ['x-api-token', token]));
    assert.equal(outcome.code, status.OK);
    assert.equal(outcome.replies[0]?.subject, 'alice');
  });

  it('{ cookie }: the cookie twice, in one header or in two, → AUTHORIZATION_MALFORMED; other cookies, spaces and quotes are fine', async () => {
    const other = await idp.sign({ sub: 'mallory' });
    for (const metadata of [
      metadataOf(['cookie', `session=${token}; session=${other}`]),
      metadataOf(['cookie', `session=${token}`], ['cookie', `session=${other}`]),
      metadataOf(['cookie', `session=${token}; session =${token}`]),
      metadataOf(['cookie', `session=${token}; session`]),
    ]) {
      assertRefused(
        await unary(byCookie.client, metadata),
        status.UNAUTHENTICATED,
        'AUTHORIZATION_MALFORMED',
        token,
        metadata.get('cookie').join(' | ').slice(0, 30),
      );
    }
    for (const metadata of [
      metadataOf(['cookie', `a=1`], ['cookie', `session=${token}`]),
      metadataOf(['cookie', `sessionx=${other}; xsession=${other}; session="${token}"`]),
      metadataOf(['cookie', `session = ${token} ;a=b`]),
    ]) {
      const outcome = await unary(byCookie.client, metadata);
      assert.equal(outcome.code, status.OK, metadata.get('cookie').join(' | ').slice(0, 40));
      assert.equal(outcome.replies[0]?.subject, 'alice');
    }
    assertRefused(await unary(byCookie.client, metadataOf(['cookie', 'session='])), status.UNAUTHENTICATED, 'AUTHORIZATION_MALFORMED', token, 'empty');
  });

  it('a function: never called for a public method; called with the method path', async () => {
    extractorCalls.length = 0;
    await new Promise((resolve) => byFunction.publicClient.Ping({ text: '' }, new Metadata(), resolve));
    assert.deepEqual(extractorCalls, []);
    await unary(byFunction.client, metadataOf(['x-forwarded-access-token', token]));
    assert.deepEqual(extractorCalls, ['/test.echo.v1.Echo/Unary']);
  });

  it("a function: never called for a 'deny' method, which is refused PERMISSION_DENIED even when the function would throw", async () => {
    let called = 0;
    const echo = await serve(
      () => {
        called += 1;
        throw new Error('never reached');
      },
      { rules: { '/test.echo.v1.Echo/Unary': 'deny' } },
    );
    assertRefused(await unary(echo.client, metadataOf(['x-forwarded-access-token', token])), status.PERMISSION_DENIED, 'ACCESS_DENIED', token, 'deny');
    assert.equal(called, 0);
  });

  it('a function that throws an AuthError refuses with it; one that throws anything else, returns a promise or a non-string → INTERNAL; the server keeps serving', async () => {
    const cases: Array<[string, () => unknown, grpc.status, string]> = [
      [
        'throws AuthError',
        () => {
          throw new AuthError('ERR_AUTH_TOKEN_REJECTED', 'gateway says no');
        },
        status.UNAUTHENTICATED,
        'TOKEN_REJECTED',
      ],
      [
        'throws Error',
        () => {
          throw new Error(`boom ${token}`);
        },
        status.INTERNAL,
        'INTERNAL',
      ],
      ['returns a promise', () => Promise.resolve(token), status.INTERNAL, 'INTERNAL'],
      ['returns a rejected promise', () => Promise.reject(new Error('late')), status.INTERNAL, 'INTERNAL'],
      ['returns a number', () => 42, status.INTERNAL, 'INTERNAL'],
      ['returns a Buffer', () => Buffer.from(token), status.INTERNAL, 'INTERNAL'],
      ['returns null', () => null, status.INTERNAL, 'INTERNAL'],
    ];
    for (const [label, extract, code, reason] of cases) {
      const echo = await serve((metadata) => (metadata.get('x-mode')[0] === 'bad' ? (extract() as string) : token));
      assertRefused(await unary(echo.client, metadataOf(['x-mode', 'bad'])), code, reason, token, `${label} unary`);
      assertRefused(await serverStream(echo.client, metadataOf(['x-mode', 'bad'])), code, reason, token, `${label} serverStream`);
      const good = await unary(echo.client, new Metadata());
      assert.equal(good.code, status.OK, `${label}: still serving`);
    }
  });

  it('a function returning undefined on an optional method admits without a caller', async () => {
    const echo = await serve(() => undefined, { defaultRule: 'optional' });
    const outcome = await unary(echo.client, new Metadata());
    assert.equal(outcome.code, status.OK);
    assert.equal(outcome.replies[0]?.subject, '');
  });
});

describe('tokenFrom: a wrong shape throws an AuthConfigError naming tokenFrom, at construction', () => {
  const base = { keys: fromSecret('x'.repeat(32)), algorithms: ['HS256'] as const };
  const wrong: unknown[] = [
    'Authorization',
    'cookie',
    'bearer',
    '',
    5,
    null,
    true,
    [],
    {},
    { metadata: 'x-token', cookie: 's' },
    { header: 'x-token' },
    { metadata: '' },
    { metadata: 5 },
    { metadata: 'x token' },
    { metadata: 'x-token-bin' },
    { metadata: 'X-Token-Bin' },
    { metadata: 'authorization' },
    { metadata: 'Authorization' },
    { metadata: 'cookie' },
    { metadata: 'grpc-timeout' },
    { metadata: 'grpc-status-details-bin' },
    { metadata: 'content-type' },
    { metadata: 'te' },
    { metadata: 'user-agent' },
    { metadata: ':authority' },
    // The Kelvin sign lower-cases to an ASCII "k": the key read would not be the key written.
    { metadata: 'x-\u212Apitoken' },
    { metadata: 'x-tökén' },
    { cookie: '' },
    { cookie: 'a b' },
    { cookie: 'a=b' },
    { cookie: 'a;b' },
    { cookie: '"s"' },
    { cookie: 5 },
    async () => 'token',
    Symbol('tokenFrom'),
  ];

  it('every wrong value', () => {
    const misses: string[] = [];
    for (const value of wrong) {
      try {
        createAuthInterceptor({ ...base, tokenFrom: value as TokenSource });
        misses.push(`${shown(value)}: accepted`);
      } catch (error) {
        if (!(error instanceof AuthConfigError) || !/^tokenFrom(\.|$)/.test(error.option)) misses.push(`${shown(value)}: ${String(error)}`);
      }
    }
    assert.deepEqual(misses, []);
  });

  it('the right shapes are accepted', () => {
    for (const value of [
      'authorization',
      { metadata: 'x-api-token' },
      { metadata: 'X-Forwarded-Access-Token' },
      { cookie: '__Host-session' },
      () => undefined,
    ] as TokenSource[]) {
      assert.equal(typeof createAuthInterceptor({ ...base, tokenFrom: value }), 'function');
    }
  });

  function shown(value: unknown): string {
    return typeof value === 'symbol' ? 'a symbol' : (JSON.stringify(value) ?? String(value));
  }
});
