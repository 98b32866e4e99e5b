/**
 * Time as the server reads it: the default clock skew, a broken clock (which must fail closed), the
 * inclusive `maxTokenAge` bound on the fresh and the cached path, and streams that end when their token
 * is too old as well as when it expires.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createAuthenticator, type AuthInterceptorOptions, type Guard } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, bidi, serverStream, unary } from '../support/calls.ts';
import { METHODS, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
const meta = (token: string) => bearer(Metadata, token);
const METHOD = '/test.v1.S/M';
/** A whole second, so that "the exact second" is exact. */
const NOW = 1_900_000_000;

/** Runs `body` against a real server whose interceptor has `options` (HS256 keys of `idp`). */
async function withServer(idp: TestIssuer, options: Partial<AuthInterceptorOptions>, body: (echo: EchoServer) => Promise<void>): Promise<void> {
  const echo = await startEchoServer({ interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], ...options })] });
  try {
    await body(echo);
  } finally {
    await echo.close();
  }
}

describe('clock skew: 60 s by default, for exp, nbf and iat', () => {
  it('unary: a token from a provider whose clock is 1 s ahead (iat in the future) → OK with the default options', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, {}, async (echo) => {
      const ahead = Math.floor(Date.now() / 1000) + 1;
      const outcome = await unary(echo.client, meta(await idp.sign({}, { issuedAt: ahead })));
      assert.equal(outcome.code, status.OK, outcome.reason);
    });
  });

  it('unary, server clock fixed: exp 59 s ago, nbf and iat 60 s ahead → OK; exp 60 s ago, nbf or iat 61 s ahead → UNAUTHENTICATED', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, { clock: () => NOW * 1000 }, async (echo) => {
      const call = async (claims: Record<string, unknown>) => unary(echo.client, meta(await idp.sign({ iat: NOW - 600, exp: NOW + 600, ...claims })));
      assert.equal((await call({ exp: NOW - 59 })).code, status.OK);
      assert.equal((await call({ nbf: NOW + 60, iat: NOW + 60 })).code, status.OK);
      assert.equal((await call({ exp: NOW - 60 })).reason, 'TOKEN_EXPIRED');
      assert.equal((await call({ nbf: NOW + 61 })).reason, 'TOKEN_NOT_YET_VALID');
      assert.equal((await call({ iat: NOW + 61 })).reason, 'TOKEN_NOT_YET_VALID');
    });
  });

  it("the test issuer's expired and not-yet-valid tokens stay refused at the largest tolerance (300 s)", async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, { clockTolerance: 300 }, async (echo) => {
      assert.equal((await unary(echo.client, meta(await idp.expiredToken()))).reason, 'TOKEN_EXPIRED');
      assert.equal((await unary(echo.client, meta(await idp.notYetValidToken()))).reason, 'TOKEN_NOT_YET_VALID');
    });
  });
});

describe('a clock that reads NaN or another non-finite value fails closed', () => {
  const broken = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1900000000000' as unknown as number, undefined as unknown as number];

  it('authenticator: an expired token with a non-finite clock → ERR_AUTH_INTERNAL, never admitted', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const expired = await idp.expiredToken();
    for (const reading of broken) {
      const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock: () => reading });
      await assert.rejects(async () => authenticator.authenticate(expired, METHOD), { code: 'ERR_AUTH_INTERNAL' }, String(reading));
    }
  });

  it('authenticator: a clock in the wrong unit (seconds, performance.now, 0, negative) → ERR_AUTH_INTERNAL for a token without iat that expired an hour ago', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    // No iat or nbf: a 1970 clock would otherwise find this token unexpired.
    const expired = await idp.signRaw(JSON.stringify({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 3600 }));
    const wrongUnits = [Date.now() / 1000, performance.now(), 0, -1];
    for (const reading of wrongUnits) {
      const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock: () => reading });
      await assert.rejects(async () => authenticator.authenticate(expired, METHOD), { code: 'ERR_AUTH_INTERNAL' }, String(reading));
    }
  });

  it('authenticator: a cached token once the clock turns NaN → ERR_AUTH_INTERNAL', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let reading = Date.now();
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock: () => reading });
    const token = await idp.sign({}, { expiresIn: 60 });
    await authenticator.authenticate(token, METHOD);
    reading = Number.NaN;
    await assert.rejects(async () => authenticator.authenticate(token, METHOD), { code: 'ERR_AUTH_INTERNAL' });
  });

  it('unary: clock () => NaN, an expired token → INTERNAL; the handler never runs', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, { clock: () => Number.NaN }, async (echo) => {
      const outcome = await unary(echo.client, meta(await idp.expiredToken()));
      assert.equal(outcome.code, status.INTERNAL);
      assert.equal(echo.runs.unary, 0);
    });
  });

  it('unary: the clock turns NaN after the token was cached → INTERNAL', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let reading: number | undefined;
    await withServer(idp, { clock: () => reading ?? Date.now() }, async (echo) => {
      const token = await idp.sign();
      assert.equal((await unary(echo.client, meta(token))).code, status.OK);
      reading = Number.NaN;
      assert.equal((await unary(echo.client, meta(token))).code, status.INTERNAL);
      assert.equal(echo.runs.unary, 1);
    });
  });

  it("unary and bidi: the clock turns NaN while a guard runs (the interceptor's last-moment check) → INTERNAL, no handler runs", async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let reading: number | undefined;
    const breaksTheClock: Guard = async () => {
      reading = Number.NaN;
      return true;
    };
    await withServer(idp, { clock: () => reading ?? Date.now(), rules: { [METHODS.unary]: breaksTheClock, [METHODS.bidi]: breaksTheClock } }, async (echo) => {
      const token = await idp.sign();
      const unaryOutcome = await unary(echo.client, meta(token));
      reading = undefined;
      const bidiOutcome = await bidi(echo.client, meta(token));
      assert.equal(unaryOutcome.code, status.INTERNAL);
      assert.equal(bidiOutcome.code, status.INTERNAL);
      assert.equal(echo.runs.unary + echo.runs.bidi, 0);
    });
  });

  it('server stream: the clock turns NaN while the stream is open → the expiry timer ends it with INTERNAL', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let reading: number | undefined;
    // clockTolerance 0: the expiry timer must read the clock within a second, not a minute.
    await withServer(idp, { clock: () => reading ?? Date.now(), clockTolerance: 0 }, async (echo) => {
      const call = echo.client.ServerStream({ text: 'hold' }, meta(await idp.sign({}, { expiresIn: 1 })), { deadline: Date.now() + 6000 });
      const code = await new Promise<number>((resolve) => {
        call.on('data', () => {
          reading = Number.NaN;
        });
        call.on('error', (error: grpc.ServiceError) => resolve(error.code));
        call.on('status', (s: grpc.StatusObject) => s.code === status.OK && resolve(status.OK));
      });
      assert.equal(code, status.INTERNAL, 'not DEADLINE_EXCEEDED: the stream did not run on');
    });
  });
});

describe('maxTokenAge is inclusive, counted in whole seconds as jose does, on the fresh and the cached path alike', () => {
  async function setup(maxTokenAge: number, clockTolerance = 0) {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const token = await idp.sign({ iat: NOW, exp: NOW + 3600 });
    let now = NOW * 1000;
    const options = { keys: idp.keys, algorithms: ['HS256'] as const, maxTokenAge, clockTolerance, clock: () => now };
    const fresh = createAuthenticator({ ...options, algorithms: ['HS256'], cache: false });
    const cached = createAuthenticator({ ...options, algorithms: ['HS256'] });
    await cached.authenticate(token, METHOD);
    /** The verdict of both paths at `seconds` (since the epoch): 'ok' or the error code. */
    const at = async (seconds: number): Promise<[string, string]> => {
      now = seconds * 1000;
      const verdict = async (authenticator: typeof fresh) => {
        try {
          await authenticator.authenticate(token, METHOD);
          return 'ok';
        } catch (error) {
          return (error as { code: string }).code;
        }
      };
      return [await verdict(fresh), await verdict(cached)];
    };
    return { at };
  }

  it('maxTokenAge 60: ok exactly 60 s after iat and until the end of that second; TOO_OLD at 61 s — fresh and cached', async () => {
    const { at } = await setup(60);
    assert.deepEqual(await at(NOW + 59.999), ['ok', 'ok']);
    assert.deepEqual(await at(NOW + 60), ['ok', 'ok']);
    assert.deepEqual(await at(NOW + 60.999), ['ok', 'ok']);
    assert.deepEqual(await at(NOW + 61), ['ERR_AUTH_TOKEN_TOO_OLD', 'ERR_AUTH_TOKEN_TOO_OLD']);
  });

  it('maxTokenAge 0: a token issued this second is ok; the next second it is TOO_OLD — fresh and cached', async () => {
    const { at } = await setup(0);
    assert.deepEqual(await at(NOW + 0.5), ['ok', 'ok']);
    assert.deepEqual(await at(NOW + 0.999), ['ok', 'ok']);
    assert.deepEqual(await at(NOW + 1), ['ERR_AUTH_TOKEN_TOO_OLD', 'ERR_AUTH_TOKEN_TOO_OLD']);
  });

  it('maxTokenAge 60 with 5 s of tolerance: ok until 65.999 s after iat, TOO_OLD at 66 s — fresh and cached', async () => {
    const { at } = await setup(60, 5);
    assert.deepEqual(await at(NOW + 65.999), ['ok', 'ok']);
    assert.deepEqual(await at(NOW + 66), ['ERR_AUTH_TOKEN_TOO_OLD', 'ERR_AUTH_TOKEN_TOO_OLD']);
  });

  it('unary: maxTokenAge 0, a token issued this very second → OK', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, { maxTokenAge: 0, clockTolerance: 0, clock: () => NOW * 1000 + 500 }, async (echo) => {
      assert.equal((await unary(echo.client, meta(await idp.sign({ iat: NOW, exp: NOW + 60 })))).code, status.OK);
    });
  });
});

describe('streams end when their token becomes too old for maxTokenAge, not only at exp', () => {
  // clockTolerance 0 and maxTokenAge 1: the token is too old one to two seconds after it was issued
  // (whole seconds), long before its exp an hour later.
  const options = { maxTokenAge: 1, clockTolerance: 0 };

  it('server stream → UNAUTHENTICATED TOKEN_TOO_OLD once the token is older than maxTokenAge', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, options, async (echo) => {
      const started = Date.now();
      const outcome = await serverStream(echo.client, meta(await idp.sign({}, { expiresIn: 3600 })), 'hold', { deadline: Date.now() + 6000 });
      assert.equal(outcome.code, status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'TOKEN_TOO_OLD');
      assert.ok(outcome.replies.length >= 1, 'the stream ran until then');
      assert.ok(Date.now() - started < 5000);
    });
  });

  it('bidi stream → UNAUTHENTICATED TOKEN_TOO_OLD once the token is older than maxTokenAge', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, options, async (echo) => {
      const call = echo.client.Bidi(meta(await idp.sign({}, { expiresIn: 3600 })), { deadline: Date.now() + 6000 });
      call.write({ text: 'hold' });
      const error = await new Promise<grpc.ServiceError>((resolve) => {
        call.on('data', () => undefined);
        call.on('error', resolve);
      });
      assert.equal(error.code, status.UNAUTHENTICATED);
      assert.equal(error.metadata.get('www-authenticate')[0]?.toString().includes('invalid_token'), true);
    });
  });

  it('a token that becomes too old while an async guard runs → UNAUTHENTICATED TOKEN_TOO_OLD, no handler runs', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const token = await idp.sign({}, { expiresIn: 3600 });
    const iat = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).iat as number;
    // The guard allows, but only answers once the token is too old (whole seconds: iat + 1 + 1).
    const slowGuard: Guard = async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, (iat + 2) * 1000 - Date.now()) + 50));
      return true;
    };
    await withServer(idp, { ...options, rules: { [METHODS.unary]: slowGuard } }, async (echo) => {
      const outcome = await unary(echo.client, meta(token));
      assert.equal(outcome.reason, 'TOKEN_TOO_OLD');
      assert.equal(echo.runs.unary, 0);
    });
  });
});

describe('createAuthenticator (and createTestIssuer) refuse configuration mistakes by name', () => {
  it('a misspelt option (audiance) → AuthConfigError naming it', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    assert.throws(() => createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], audiance: 'orders-api' } as never), {
      code: 'ERR_AUTH_INVALID_OPTION',
      option: 'audiance',
    });
    assert.throws(() => createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], rules: {} } as never), { option: 'rules' }, 'interceptor-only option');
  });

  it('createTestIssuer: a misspelt option (audiance) → AuthConfigError naming it', async () => {
    await assert.rejects(async () => createTestIssuer({ alg: 'HS256', audiance: 'orders-api' } as never), {
      code: 'ERR_AUTH_INVALID_OPTION',
      option: 'audiance',
    });
  });

  it('clock: null, 0, "" or a number → AuthConfigError naming clock, for the authenticator and the interceptor', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    for (const clock of [null, 0, '', 1_900_000_000_000]) {
      assert.throws(() => createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock: clock as never }), { option: 'clock' }, String(clock));
      assert.throws(() => createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], clock: clock as never }), { option: 'clock' }, String(clock));
    }
  });
});
