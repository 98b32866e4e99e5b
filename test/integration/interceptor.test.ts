import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AuthError, createAuthInterceptor, fromJwks, fromSecret, type Guard, type KeyResolver, type RejectedEvent } from '../../src/index.ts';
import { createTestIssuer, craftUnsignedToken, type TestIssuer } from '../../src/testing/index.ts';
import { allKinds, bearer, bidi, clientStream, serverStream, unary } from '../support/calls.ts';
import { METHODS, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
const meta = (token: string) => bearer(Metadata, token);
const raw = (value: string) => {
  const metadata = new Metadata();
  metadata.set('authorization', value);
  return metadata;
};

describe('interceptor: the four call kinds', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  const rejected: RejectedEvent[] = [];
  const authenticated: unknown[] = [];

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      rules: { '/test.echo.v1.Public/*': 'public' },
      onRejected: (event) => rejected.push(event),
      onAuthenticated: (event) => authenticated.push(event),
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(() => echo.close());

  it('valid token → every call kind runs its handler with the claims attached', async () => {
    const token = await idp.sign({ sub: 'alice', scope: 'echo:read  echo:write' });
    const outcomes = await allKinds(echo.client, () => meta(token));
    for (const [kind, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.code, status.OK, kind);
      assert.ok(
        outcome.replies.every((reply) => reply.subject === 'alice'),
        kind,
      );
      assert.deepEqual(outcome.replies[0]?.scopes, ['echo:read', 'echo:write'], kind);
    }
    assert.equal(JSON.stringify(authenticated).includes(token), false, 'hooks never see the raw token');
  });

  it('client messages sent before verification finishes arrive complete and in order', async () => {
    const token = await idp.sign();
    const texts = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const client = await clientStream(echo.client, meta(token), texts);
    assert.equal(client.code, status.OK);
    assert.equal(client.replies[0]?.text, texts.join(','));
    assert.equal(client.replies[0]?.count, 50);
    const duplex = await bidi(echo.client, meta(token), texts);
    assert.equal(duplex.code, status.OK);
    assert.deepEqual(
      duplex.replies.map((reply) => reply.text),
      texts,
    );
  });

  it('no token → every call kind is UNAUTHENTICATED and no handler runs', async () => {
    const before = { ...echo.runs };
    const outcomes = await allKinds(echo.client, () => new Metadata());
    for (const [kind, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.code, status.UNAUTHENTICATED, kind);
      assert.equal(outcome.reason, 'TOKEN_MISSING', kind);
      assert.equal(outcome.wwwAuthenticate, 'Bearer', kind);
    }
    assert.deepEqual(echo.runs, before);
  });

  it('public method → no token needed, none read', async () => {
    const outcome = await new Promise<grpc.ServiceError | null>((resolve) =>
      echo.publicClient.Ping({ text: '' }, raw('Basic zzz'), (error: grpc.ServiceError | null) => resolve(error)),
    );
    assert.equal(outcome, null);
  });

  it('refusals carry www-authenticate and ErrorInfo, never the token', async () => {
    const token = await idp.expiredToken();
    const outcome = await unary(echo.client, meta(token));
    assert.equal(outcome.code, status.UNAUTHENTICATED);
    assert.equal(outcome.reason, 'TOKEN_EXPIRED');
    assert.equal(outcome.wwwAuthenticate, 'Bearer error="invalid_token", error_description="token expired"');
    assert.equal(outcome.details.includes(token.split('.')[1] as string), false);
    const event = rejected.at(-1);
    assert.equal(event?.method, METHODS.unary);
    assert.equal(event?.error.code, 'ERR_AUTH_TOKEN_EXPIRED');
    assert.equal(JSON.stringify({ ...event, message: event?.error.message }).includes(token), false);
  });
});

describe('interceptor: bad input → UNAUTHENTICATED, handler never runs, server keeps serving', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  let publicPem: string;

  before(async () => {
    idp = await createTestIssuer({ alg: 'RS256', audience: 'echo-api', issuer: 'https://idp.test/' });
    const jwk = idp.jwks.keys[0] as Record<string, unknown>;
    const { createPublicKey } = await import('node:crypto');
    publicPem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['RS256'], issuer: 'https://idp.test/', audience: 'echo-api' });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(() => echo.close());

  const segments = (token: string) => token.split('.') as [string, string, string];
  const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const now = () => Math.floor(Date.now() / 1000);

  const cases: Array<[string, () => Promise<grpc.Metadata>, string]> = [
    ['Basic scheme', async () => raw('Basic dXNlcjpwYXNz'), 'AUTHORIZATION_MALFORMED'],
    ['Bearer with no token', async () => raw('Bearer'), 'AUTHORIZATION_MALFORMED'],
    ['Bearer and two tokens', async () => raw(`Bearer ${await idp.sign()} ${await idp.sign()}`), 'AUTHORIZATION_MALFORMED'],
    [
      '2 segments',
      async () =>
        meta(
          segments(await idp.sign())
            .slice(0, 2)
            .join('.'),
        ),
      'TOKEN_MALFORMED',
    ],
    ['4 segments', async () => meta(`${await idp.sign()}.AAAA`), 'TOKEN_MALFORMED'],
    [
      'padded base64url',
      async () => {
        const [h, p, s] = segments(await idp.sign());
        return meta(`${h}.${p}==.${s}`);
      },
      'TOKEN_MALFORMED',
    ],
    [
      'whitespace inside a segment',
      async () => {
        const [h, p, s] = segments(await idp.sign());
        return meta(`${h}.${p.slice(0, 5)}%20${p.slice(5)}.${s}`);
      },
      'TOKEN_MALFORMED',
    ],
    [
      'non-JSON header',
      async () => {
        const [, p, s] = segments(await idp.sign());
        return meta(`${b64('not json')}.${p}.${s}`);
      },
      'TOKEN_MALFORMED',
    ],
    [
      'array payload',
      async () => {
        const [h, , s] = segments(await idp.sign());
        return meta(`${h}.${b64([1, 2])}.${s}`);
      },
      'TOKEN_MALFORMED',
    ],
    ['12 KiB token (over maxTokenBytes, under the transport limit)', async () => meta(`${'a'.repeat(12 * 1024)}.b.c`), 'TOKEN_TOO_LARGE'],
    ['alg none', async () => meta(idp.unsignedToken()), 'ALG_NOT_ALLOWED'],
    ['alg NoNe', async () => meta(craftUnsignedToken({ exp: now() + 60 }, { alg: 'NoNe' })), 'ALG_NOT_ALLOWED'],
    [
      'alg missing',
      async () => {
        const [, p, s] = segments(await idp.sign());
        return meta(`${b64({ typ: 'JWT' })}.${p}.${s}`);
      },
      'ALG_NOT_ALLOWED',
    ],
    [
      'alg unknown',
      async () => {
        const [, p, s] = segments(await idp.sign());
        return meta(`${b64({ alg: 'RS1024', kid: idp.kid })}.${p}.${s}`);
      },
      'ALG_NOT_ALLOWED',
    ],
    [
      'correctly signed under a non-allowed algorithm (PS256)',
      async () => {
        const other = await createTestIssuer({ alg: 'PS256', issuer: 'https://idp.test/', audience: 'echo-api' });
        return meta(await other.sign());
      },
      'ALG_NOT_ALLOWED',
    ],
    [
      'HS256 signed with the server public key as secret',
      async () => {
        const { SignJWT } = await import('jose');
        const forged = await new SignJWT({ iss: 'https://idp.test/', aud: 'echo-api', exp: now() + 60 })
          .setProtectedHeader({ alg: 'HS256', kid: idp.kid })
          .sign(new TextEncoder().encode(publicPem));
        return meta(forged);
      },
      'ALG_NOT_ALLOWED',
    ],
    [
      'embedded jwk header with an attacker key',
      async () => {
        const attacker = await createTestIssuer({ alg: 'RS256', issuer: 'https://idp.test/', audience: 'echo-api', kid: 'attacker' });
        return meta(await attacker.sign({}, { header: { jwk: attacker.jwks.keys[0] } }));
      },
      'KEY_NOT_FOUND',
    ],
    [
      'embedded jwk reusing the trusted kid',
      async () => {
        const attacker = await createTestIssuer({ alg: 'RS256', issuer: 'https://idp.test/', audience: 'echo-api', kid: idp.kid });
        return meta(await attacker.sign({}, { header: { jwk: attacker.jwks.keys[0] } }));
      },
      'SIGNATURE_INVALID',
    ],
    ['kid ../../etc/passwd', async () => meta(await idp.sign({}, { header: { kid: '../../etc/passwd' } })), 'KEY_NOT_FOUND'],
    ['kid __proto__', async () => meta(await idp.sign({}, { header: { kid: '__proto__' } })), 'KEY_NOT_FOUND'],
    ['kid constructor', async () => meta(await idp.sign({}, { header: { kid: 'constructor' } })), 'KEY_NOT_FOUND'],
    ['kid not a string', async () => meta(await idp.sign({}, { header: { kid: 7 } })), 'TOKEN_HEADER_INVALID'],
    ['unknown crit', async () => meta(await idp.sign({}, { header: { crit: ['x-custom'], 'x-custom': 1 } })), 'TOKEN_HEADER_INVALID'],
    ['exp as a string', async () => meta(await idp.sign({ exp: String(now() + 3600) })), 'CLAIM_INVALID'],
    [
      'exp 1e400 (Infinity), correctly signed',
      async () => meta(await idp.signRaw(`{"exp":1e400,"iss":"https://idp.test/","aud":"echo-api"}`)),
      'CLAIM_INVALID',
    ],
    [
      'exp 1e400 pasted over a valid signature',
      async () => {
        const [h, , s] = segments(await idp.sign());
        return meta(`${h}.${b64(`{"exp":1e400,"iss":"https://idp.test/","aud":"echo-api"}`)}.${s}`);
      },
      'SIGNATURE_INVALID',
    ],
    ['missing exp', async () => meta(await idp.sign({ exp: undefined })), 'CLAIM_MISSING'],
    ['expired', async () => meta(await idp.expiredToken()), 'TOKEN_EXPIRED'],
    ['not yet valid', async () => meta(await idp.notYetValidToken()), 'TOKEN_NOT_YET_VALID'],
    ['iat an hour ahead', async () => meta(await idp.sign({ iat: now() + 3600, exp: now() + 7200 })), 'TOKEN_NOT_YET_VALID'],
    ['issuer without its trailing slash', async () => meta(await idp.sign({ iss: 'https://idp.test' })), 'ISSUER_INVALID'],
    ['audience in the wrong case', async () => meta(await idp.sign({ aud: 'ECHO-API' })), 'AUDIENCE_INVALID'],
    ['tampered payload', async () => meta(await idp.tamperedToken()), 'SIGNATURE_INVALID'],
    [
      'signature stripped',
      async () => {
        const [h, p] = segments(await idp.sign());
        return meta(`${h}.${p}.`);
      },
      'SIGNATURE_INVALID',
    ],
  ];

  for (const [name, makeMetadata, reason] of cases) {
    it(`${name} → UNAUTHENTICATED ${reason}`, async () => {
      const runsBefore = { ...echo.runs };
      const outcome = await unary(echo.client, await makeMetadata());
      assert.equal(outcome.code, status.UNAUTHENTICATED);
      assert.equal(outcome.reason, reason);
      assert.deepEqual(echo.runs, runsBefore, 'handler never runs');
      const good = await unary(echo.client, meta(await idp.sign()));
      assert.equal(good.code, status.OK, 'the next good call succeeds');
    });
  }

  it('1 MiB token → refused by the transport before any parsing, server keeps serving', async () => {
    const outcome = await unary(echo.client, meta(`${'a'.repeat(1024 * 1024)}.b.c`));
    assert.notEqual(outcome.code, status.OK);
    assert.equal(echo.runs.unary > 0, true);
    const runs = echo.runs.unary;
    assert.equal((await unary(echo.client, meta(await idp.sign()))).code, status.OK);
    assert.equal(echo.runs.unary, runs + 1);
  });
});

describe('interceptor: statuses other than UNAUTHENTICATED', () => {
  it('keys cannot be fetched → UNAVAILABLE KEYS_UNAVAILABLE', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthInterceptor({ keys: fromJwks('http://127.0.0.1:1/jwks.json', { timeout: 0.5 }), algorithms: ['ES256'] });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const outcome = await unary(echo.client, meta(await idp.sign()));
      assert.equal(outcome.code, status.UNAVAILABLE);
      assert.equal(outcome.reason, 'KEYS_UNAVAILABLE');
      assert.equal(echo.runs.unary, 0);
    } finally {
      await echo.close();
    }
  });

  it('a guard that throws → INTERNAL, a guard that refuses → PERMISSION_DENIED, deny rule → PERMISSION_DENIED', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const broken: Guard = () => {
      throw new Error('bug');
    };
    const refuses: Guard = () => ({ allowed: false, message: 'no', requiredScopes: ['echo:admin'] });
    const forgetful = (() => undefined) as unknown as Guard;
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['HS256'],
      rules: { [METHODS.unary]: broken, [METHODS.serverStream]: refuses, [METHODS.clientStream]: 'deny', [METHODS.bidi]: forgetful },
    });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const token = await idp.sign();
      const outcomes = await allKinds(echo.client, () => meta(token));
      assert.equal(outcomes.unary.code, status.INTERNAL);
      assert.equal(outcomes.serverStream.code, status.PERMISSION_DENIED);
      assert.equal(outcomes.serverStream.reason, 'INSUFFICIENT_SCOPE');
      assert.equal(outcomes.serverStream.wwwAuthenticate?.includes('scope="echo:admin"'), true);
      assert.equal(outcomes.clientStream.code, status.PERMISSION_DENIED);
      assert.equal(outcomes.clientStream.reason, 'ACCESS_DENIED');
      assert.equal(outcomes.bidi.code, status.PERMISSION_DENIED, 'a guard returning undefined refuses');
      assert.deepEqual(echo.runs, { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 });
      const noToken = await unary(echo.client, new Metadata());
      assert.equal(noToken.code, status.UNAUTHENTICATED, 'authentication is decided before authorization');
    } finally {
      await echo.close();
    }
  });

  it('validate hook: false → TOKEN_REJECTED, thrown AuthError passes through, other throw → INTERNAL', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['HS256'],
      validate: (claims, context) => {
        assert.equal(context.header.alg, 'HS256');
        if (claims.jti === 'revoked') return false;
        if (claims.jti === 'denied') throw new AuthError('ERR_AUTH_ACCESS_DENIED');
        if (claims.jti === 'bug') throw new Error('database down');
        return true;
      },
    });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const call = async (jti: string) => unary(echo.client, meta(await idp.sign({ jti })));
      assert.equal((await call('ok')).code, status.OK);
      assert.equal((await call('revoked')).reason, 'TOKEN_REJECTED');
      assert.equal((await call('denied')).code, status.PERMISSION_DENIED);
      assert.equal((await call('bug')).code, status.INTERNAL);
    } finally {
      await echo.close();
    }
  });
});

describe('interceptor: optional rule', () => {
  it('no token → handler runs without claims; a bad token is still refused', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], defaultRule: 'optional' });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const anonymous = await unary(echo.client, new Metadata());
      assert.equal(anonymous.code, status.OK);
      assert.equal(anonymous.replies[0]?.subject, '');
      const signedIn = await unary(echo.client, meta(await idp.sign({ sub: 'bob' })));
      assert.equal(signedIn.replies[0]?.subject, 'bob');
      const bad = await unary(echo.client, meta(await idp.expiredToken()));
      assert.equal(bad.code, status.UNAUTHENTICATED);
    } finally {
      await echo.close();
    }
  });
});

describe('interceptor: long-lived streams', () => {
  // These tests watch streams end at exp itself: clockTolerance 0, or each would wait a minute longer.
  const strict = { clockTolerance: 0 } as const;
  const holdStream = (echo: EchoServer, token: string) => serverStream(echo.client, meta(token), 'hold', { deadline: Date.now() + 6000 });

  it('a server stream is ended with UNAUTHENTICATED TOKEN_EXPIRED when its token expires', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const echo = await startEchoServer({ interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], ...strict })] });
    try {
      const started = Date.now();
      const outcome = await holdStream(echo, await idp.sign({}, { expiresIn: 2 }));
      assert.equal(outcome.code, status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'TOKEN_EXPIRED');
      assert.ok(outcome.replies.length >= 1, 'the stream ran until the token expired');
      assert.ok(Date.now() - started < 5000);
      assert.equal((await unary(echo.client, meta(await idp.sign()))).code, status.OK);
    } finally {
      await echo.close();
    }
  });

  it("bidi and client streams are ended too; streamExpiry: 'ignore' lets them run", async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const ending = await startEchoServer({ interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], ...strict })] });
    const ignoring = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], streamExpiry: 'ignore', ...strict })],
    });
    try {
      const token = await idp.sign({}, { expiresIn: 1 });
      const openBidi = (echo: EchoServer) => {
        const call = echo.client.Bidi(meta(token), { deadline: Date.now() + 3500 });
        call.write({ text: 'hold' });
        return new Promise<number>((resolve) => {
          call.on('data', () => undefined);
          call.on('error', (error: grpc.ServiceError) => resolve(error.code));
        });
      };
      const openClientStream = (echo: EchoServer) =>
        new Promise<number>((resolve) => {
          const call = echo.client.ClientStream(meta(token), { deadline: Date.now() + 3500 }, (error: grpc.ServiceError | null) => resolve(error?.code ?? 0));
          call.write({ text: 'x' });
        });
      const [endedBidi, endedClient, ignoredBidi, ignoredClient] = await Promise.all([
        openBidi(ending),
        openClientStream(ending),
        openBidi(ignoring),
        openClientStream(ignoring),
      ]);
      assert.equal(endedBidi, status.UNAUTHENTICATED);
      assert.equal(endedClient, status.UNAUTHENTICATED);
      assert.equal(ignoredBidi, status.DEADLINE_EXCEEDED, 'ignored: runs until the client deadline');
      assert.equal(ignoredClient, status.DEADLINE_EXCEEDED);
    } finally {
      await ending.close();
      await ignoring.close();
    }
  });

  it('a stream that finishes before its token expires leaves no timer behind', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const echo = await startEchoServer({ interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], ...strict })] });
    try {
      const outcome = await serverStream(echo.client, meta(await idp.sign({}, { expiresIn: 1 })));
      assert.equal(outcome.code, status.OK);
      assert.equal(outcome.replies.length, 3);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal((await unary(echo.client, meta(await idp.sign()))).code, status.OK);
    } finally {
      await echo.close();
    }
  });
});

describe('interceptor: cancellation during verification', () => {
  it('a client that cancels while keys are being resolved: no handler runs, no status is sent twice', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: KeyResolver = {
      kind: 'secret',
      description: 'slow',
      checkAlgorithms: (algorithms, option) => idp.keys.checkAlgorithms(algorithms, option),
      getKeys: async (lookup) => {
        await gate;
        return idp.keys.getKeys(lookup);
      },
      holds: (key) => idp.keys.holds(key),
    };
    const echo = await startEchoServer({ interceptors: [createAuthInterceptor({ keys: slow, algorithms: ['HS256'] })] });
    try {
      const token = await idp.sign();
      const calls = [
        echo.client.Unary({ text: 'x' }, meta(token), () => undefined),
        echo.client.ServerStream({ text: 'x' }, meta(token)),
        echo.client.Bidi(meta(token)),
      ];
      calls[1].on('error', () => undefined);
      calls[2].on('error', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const call of calls) call.cancel();
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(echo.runs, { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 });
      assert.equal((await unary(echo.client, meta(token))).code, status.OK);
    } finally {
      await echo.close();
    }
  });
});

describe('interceptor: configuration mistakes throw at construction, naming the option', () => {
  const keys = fromSecret('x'.repeat(32));
  const cases: Array<[string, () => unknown, string]> = [
    ['algorithms missing', () => createAuthInterceptor({ keys } as never), 'algorithms'],
    ['algorithms empty', () => createAuthInterceptor({ keys, algorithms: [] }), 'algorithms'],
    ['alg none', () => createAuthInterceptor({ keys, algorithms: ['none' as never] }), 'algorithms[0]'],
    ['RS256 with a secret', () => createAuthInterceptor({ keys, algorithms: ['RS256'] }), 'algorithms'],
    ['HS512 with a 32-byte secret', () => createAuthInterceptor({ keys, algorithms: ['HS512'] }), 'algorithms'],
    ['keys missing', () => createAuthInterceptor({ algorithms: ['HS256'] } as never), 'keys'],
    ['misspelt option', () => createAuthInterceptor({ keys, algorithms: ['HS256'], audiance: 'x' } as never), 'audiance'],
    ['clockTolerance over 5 minutes', () => createAuthInterceptor({ keys, algorithms: ['HS256'], clockTolerance: 301 }), 'clockTolerance'],
    ['negative maxTokenAge', () => createAuthInterceptor({ keys, algorithms: ['HS256'], maxTokenAge: -1 }), 'maxTokenAge'],
    ['empty audience', () => createAuthInterceptor({ keys, algorithms: ['HS256'], audience: [] }), 'audience'],
    ['bad streamExpiry', () => createAuthInterceptor({ keys, algorithms: ['HS256'], streamExpiry: 'never' as never }), 'streamExpiry'],
    ['maxTokenBytes too small', () => createAuthInterceptor({ keys, algorithms: ['HS256'], maxTokenBytes: 10 }), 'maxTokenBytes'],
    ['rule pattern without leading slash', () => createAuthInterceptor({ keys, algorithms: ['HS256'], rules: { 'pkg.S/M': 'public' } }), 'rules["pkg.S/M"]'],
    ['unknown rule', () => createAuthInterceptor({ keys, algorithms: ['HS256'], rules: { '/pkg.S/M': 'publik' as never } }), 'rules["/pkg.S/M"]'],
    ['short secret', () => fromSecret('short'), 'secret'],
  ];
  for (const [name, create, option] of cases) {
    it(`${name} → AuthConfigError naming ${option}`, () => {
      assert.throws(create, (error: { code?: string; option?: string }) => error.code === 'ERR_AUTH_INVALID_OPTION' && error.option === option);
    });
  }
});

describe('interceptor: tokens that expire while the call is being admitted', () => {
  it('a token that expires while an async guard runs → UNAUTHENTICATED TOKEN_EXPIRED, and no handler runs (unary and bidi)', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const token = await idp.sign({}, { expiresIn: 1 });
    const exp = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp as number;
    // The guard allows, but only answers once the token is dead.
    const slowGuard: Guard = async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 50));
      return true;
    };
    const echo = await startEchoServer({
      // clockTolerance 0: the token must be dead at exp itself, not a minute later.
      interceptors: [
        createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], clockTolerance: 0, rules: { [METHODS.unary]: slowGuard, [METHODS.bidi]: slowGuard } }),
      ],
    });
    try {
      const [unaryOutcome, bidiOutcome] = await Promise.all([unary(echo.client, meta(token)), bidi(echo.client, meta(token))]);
      assert.equal(unaryOutcome.code, status.UNAUTHENTICATED);
      assert.equal(unaryOutcome.reason, 'TOKEN_EXPIRED');
      assert.equal(bidiOutcome.code, status.UNAUTHENTICATED);
      assert.equal(echo.runs.unary + echo.runs.bidi, 0, 'the handlers never ran');
    } finally {
      await echo.close();
    }
  });
});

describe('interceptor: refusals that cannot be put in a header as given', () => {
  it('a thrown AuthError with non-ASCII wire text or hostile scopes is answered safely, and the server keeps serving', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['HS256'],
      validate: (claims) => {
        if (claims.jti === 'localized') throw new AuthError('ERR_AUTH_TOKEN_REJECTED', 'revoked', { wireMessage: 'jeton révoqué' });
        return true;
      },
      rules: {
        [METHODS.serverStream]: () => {
          throw new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', 'no', { requiredScopes: ['tenant:x", error="invalid_token', 'orders:read'] });
        },
      },
    });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const localized = await unary(echo.client, meta(await idp.sign({ jti: 'localized' })), 'x', { deadline: Date.now() + 5000 });
      assert.equal(localized.code, status.UNAUTHENTICATED);
      assert.equal(localized.reason, 'TOKEN_REJECTED');
      assert.equal(localized.details, 'token was rejected', 'the fixed text replaces the unsafe one');
      const hostile = await serverStream(echo.client, meta(await idp.sign()), 'x', { deadline: Date.now() + 5000 });
      assert.equal(hostile.code, status.PERMISSION_DENIED);
      assert.equal(hostile.wwwAuthenticate?.endsWith('scope="orders:read"'), true, 'only well-formed scopes reach the trailer');
      assert.equal((await unary(echo.client, meta(await idp.sign()))).code, status.OK);
    } finally {
      await echo.close();
    }
  });
});
