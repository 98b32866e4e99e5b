/**
 * Step-up authentication (RFC 9470) over real gRPC: requireAcr and requireAuthTime refuse a valid token
 * whose login is too weak or too old with UNAUTHENTICATED INSUFFICIENT_USER_AUTHENTICATION, the exact
 * `www-authenticate` challenge of RFC 9470 §3 and an ErrorInfo the client reads with stepUpChallenge;
 * the handler never runs and the server keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { allOf, anyOf, createAuthInterceptor, requireAcr, requireAuthTime, requireScopes, withGuard, type RuleMap } from '../../src/index.ts';
import { stepUpChallenge } from '../../src/client/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, bidi, clientStream, outcomeOf, serverStream, unary, type Outcome } from '../support/calls.ts';
import { echoImplementation, METHODS, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
const meta = (token: string) => bearer(Metadata, token);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const DESCRIPTION = 'error_description="stronger or more recent user authentication required"';

/** The ServiceError of a refused unary call, as a client application gets it. */
function unaryError(client: grpc.Client & Record<string, any>, metadata: grpc.Metadata): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => client.Unary({ text: 'hi' }, metadata, (error: grpc.ServiceError | null) => resolve(error)));
}

function assertStepUp(outcome: Outcome, challenge: string, errorInfo: Record<string, string>): void {
  assert.equal(outcome.code, status.UNAUTHENTICATED, `status ${outcome.code} ${outcome.details}`);
  assert.equal(outcome.reason, 'INSUFFICIENT_USER_AUTHENTICATION');
  assert.equal(outcome.details, 'stronger or more recent user authentication required');
  assert.equal(outcome.wwwAuthenticate, `Bearer error="insufficient_user_authentication", ${DESCRIPTION}${challenge}`);
  assert.deepEqual({ ...outcome.errorInfoMetadata }, errorInfo);
  assert.deepEqual(outcome.replies, []);
}

describe('step-up over real gRPC: requireAcr, requireAuthTime, anyOf and allOf', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  const token = (claims: Record<string, unknown> = {}) => idp.sign({ sub: 'alice', ...claims });

  const RULES: RuleMap = {
    [METHODS.unary]: requireAcr('mfa', 'phr'),
    [METHODS.serverStream]: requireAuthTime({ maxAge: 300 }),
    [METHODS.clientStream]: anyOf(requireAcr('hwk'), requireAuthTime({ maxAge: 600 }), requireAcr('mfa'), requireAuthTime({ maxAge: 300 })),
    [METHODS.bidi]: allOf(requireScopes('orders:write'), requireAcr('mfa'), requireAuthTime({ maxAge: 300 })),
    [METHODS.ping]: anyOf(requireScopes('orders:admin'), requireAcr('mfa')),
  };

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: idp.audience, rules: RULES });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(() => echo.close());

  it('requireAcr (unary): acr missing, another, another case, or not a string → step-up naming acr_values; mfa or phr → OK', async () => {
    for (const claims of [{}, { acr: 'pwd' }, { acr: 'MFA' }, { acr: ['mfa'] }, { acr: 2 }]) {
      const outcome = await unary(echo.client, meta(await token(claims)));
      assertStepUp(outcome, ', acr_values="mfa phr"', { acrValues: 'mfa phr' });
    }
    assert.equal(echo.runs.unary, 0, 'the handler never ran');
    for (const acr of ['mfa', 'phr']) assert.equal((await unary(echo.client, meta(await token({ acr })))).code, status.OK, acr);
    assert.equal(echo.runs.unary, 2);
  });

  it('requireAuthTime (server stream): auth_time missing, not a number, too old, in the future beyond tolerance → step-up with max_age; fresh → OK', async () => {
    const now = nowSeconds();
    for (const authTime of [undefined, String(now), now - 301 - 5, now + 61 + 5, now + 3600]) {
      const outcome = await serverStream(echo.client, meta(await token(authTime === undefined ? {} : { auth_time: authTime })));
      assertStepUp(outcome, ', max_age="300"', { maxAge: '300' });
    }
    assert.equal(echo.runs.serverStream, 0);
    for (const authTime of [now - 10, now - 290, now + 30]) {
      const outcome = await serverStream(echo.client, meta(await token({ auth_time: authTime })));
      assert.equal(outcome.code, status.OK, `auth_time ${authTime - now}`);
      assert.equal(outcome.replies.length, 3);
    }
  });

  it('anyOf (client stream): every denial a step-up → one challenge with the acr values in order and the smallest max_age; any one met → OK', async () => {
    const outcome = await clientStream(echo.client, meta(await token({ acr: 'pwd', auth_time: nowSeconds() - 3600 })));
    assertStepUp(outcome, ', acr_values="hwk mfa", max_age="300"', { acrValues: 'hwk mfa', maxAge: '300' });
    assert.equal((await clientStream(echo.client, meta(await token({ acr: 'mfa' })))).code, status.OK);
    assert.equal((await clientStream(echo.client, meta(await token({ auth_time: nowSeconds() - 500 })))).code, status.OK, 'the 600 s limit is met');
  });

  it('anyOf mixing a scope and a step-up (Public/Ping): step-up wins (a new login is the way the caller can take); the scope → OK', async () => {
    const readerToken = meta(await token({ scope: 'orders:read' }));
    const outcome = await new Promise<Outcome>((resolve) =>
      echo.publicClient.Ping({}, readerToken, (error: grpc.ServiceError | null) => resolve(outcomeOf(error, []))),
    );
    assert.equal(outcome.code, status.UNAUTHENTICATED);
    assert.equal(outcome.reason, 'INSUFFICIENT_USER_AUTHENTICATION');
    assert.equal(outcome.wwwAuthenticate, `Bearer error="insufficient_user_authentication", ${DESCRIPTION}, acr_values="mfa"`);
    const adminToken = meta(await token({ scope: 'orders:admin' }));
    const admin = await new Promise<grpc.ServiceError | null>((resolve) =>
      echo.publicClient.Ping({}, adminToken, (error: grpc.ServiceError | null) => resolve(error)),
    );
    assert.equal(admin, null);
  });

  it('allOf (bidi): no scope → PERMISSION_DENIED; weak and old login → one challenge with acr_values and max_age; old login → max_age; all → OK', async () => {
    const old = nowSeconds() - 3600;
    const noScope = await bidi(echo.client, meta(await token({ acr: 'mfa', auth_time: nowSeconds() })));
    assert.equal(noScope.code, status.PERMISSION_DENIED);
    assert.equal(noScope.reason, 'INSUFFICIENT_SCOPE');
    assertStepUp(await bidi(echo.client, meta(await token({ scope: 'orders:write', acr: 'pwd', auth_time: old }))), ', acr_values="mfa", max_age="300"', {
      acrValues: 'mfa',
      maxAge: '300',
    });
    assertStepUp(await bidi(echo.client, meta(await token({ scope: 'orders:write', acr: 'pwd', auth_time: nowSeconds() }))), ', acr_values="mfa"', {
      acrValues: 'mfa',
    });
    assertStepUp(await bidi(echo.client, meta(await token({ scope: 'orders:write', acr: 'mfa', auth_time: old }))), ', max_age="300"', { maxAge: '300' });
    assert.equal(echo.runs.bidi, 0);
    const ok = await bidi(echo.client, meta(await token({ scope: 'orders:write', acr: 'mfa', auth_time: nowSeconds() })));
    assert.equal(ok.code, status.OK);
    assert.equal(ok.replies.length, 3);
  });

  it('the client reads the refusal with stepUpChallenge; other refusals and successes read as undefined', async () => {
    const weak = await unaryError(echo.client, meta(await token({ acr: 'pwd' })));
    const merging = meta(await token({ acr: 'pwd', auth_time: nowSeconds() - 3600 }));
    assert.deepEqual(stepUpChallenge(weak), { acrValues: ['mfa', 'phr'] });
    const merged = await new Promise<grpc.ServiceError | null>((resolve) => {
      const call = echo.client.ClientStream(merging, (error: grpc.ServiceError | null) => resolve(error));
      call.end();
    });
    assert.deepEqual(stepUpChallenge(merged), { acrValues: ['hwk', 'mfa'], maxAge: 300 }, 'a stream error reads the same');
    const expired = await unaryError(echo.client, meta(await idp.expiredToken({ acr: 'mfa' })));
    assert.equal(expired?.code, status.UNAUTHENTICATED);
    assert.equal(stepUpChallenge(expired), undefined, 'TOKEN_EXPIRED is no step-up');
    assert.equal(stepUpChallenge(await unaryError(echo.client, meta(await token({ acr: 'mfa' })))), undefined, 'OK: null');
    assert.equal(stepUpChallenge(new Error('boom')), undefined);
    assert.equal(stepUpChallenge(undefined), undefined);
  });
});

describe('step-up as time passes (manual clock)', () => {
  // Guards read GuardInfo.clock when the interceptor hands one over, else Date.now: the mocked Date moves
  // both the interceptor's clock (given as () => Date.now()) and the guard's time, with real timers.
  const START = 2_000_000_000_000;
  let idp: TestIssuer;
  let echo: EchoServer;

  before(async () => {
    mock.timers.enable({ apis: ['Date'], now: START });
    idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: idp.audience,
      clock: () => Date.now(),
      rules: { [METHODS.unary]: requireAuthTime({ maxAge: 300 }), [METHODS.bidi]: requireAuthTime({ maxAge: 300 }) },
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(async () => {
    await echo.close();
    mock.timers.reset();
  });

  it('a cached token passes while its login is recent, is refused with max_age once it is older than maxAge, and the server keeps serving', async () => {
    const token = await idp.sign({ sub: 'alice', auth_time: START / 1000 - 10 }, { expiresIn: 3600 });
    assert.equal((await unary(echo.client, meta(token))).code, status.OK, 'fresh: 10 s');
    mock.timers.tick(280_000);
    assert.equal((await unary(echo.client, meta(token))).code, status.OK, 'the same (cached) token, 290 s: still fresh');
    mock.timers.tick(20_000);
    const stale = await unaryError(echo.client, meta(token));
    assert.equal(stale?.code, status.UNAUTHENTICATED, 'the same token, 310 s after login: refused');
    assert.deepEqual(stepUpChallenge(stale), { maxAge: 300 });
    assert.equal(echo.runs.unary, 2, 'the refused call never reached the handler');
    const fresh = await idp.sign({ sub: 'alice', auth_time: Date.now() / 1000 }, { expiresIn: 3600 });
    assert.equal((await unary(echo.client, meta(fresh))).code, status.OK, 'after a new login the server serves again');
  });

  it('a stream is judged when admitted: opened with a fresh login, it keeps serving after maxAge (as README and SECURITY say)', async () => {
    const token = await idp.sign({ sub: 'alice', auth_time: Date.now() / 1000 - 10 }, { expiresIn: 7200 });
    const call = echo.client.Bidi(meta(token));
    const replies: string[] = [];
    const ended = new Promise<number>((resolve) => {
      call.on('data', (reply: { text: string }) => replies.push(reply.text));
      call.on('error', (error: grpc.ServiceError) => resolve(error.code));
      call.on('status', (result: grpc.StatusObject) => resolve(result.code));
    });
    call.write({ text: 'first' });
    while (replies.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    mock.timers.tick(600_000);
    call.write({ text: 'after maxAge' });
    call.end();
    assert.equal(await ended, status.OK);
    assert.deepEqual(replies, ['first', 'after maxAge']);
  });
});

describe('step-up guards next to handlers (withGuard)', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: idp.audience });
    echo = await startEchoServer({
      interceptors: [auth],
      implementation: (runs) => {
        const plain = echoImplementation(runs);
        return { ...plain, Unary: withGuard(requireAcr('mfa'), plain.Unary as grpc.handleUnaryCall<unknown, unknown>) };
      },
    });
  });
  after(() => echo.close());

  it('withGuard(requireAcr): the same UNAUTHENTICATED trailers before the handler body runs; mfa → OK', async () => {
    assertStepUp(await unary(echo.client, meta(await idp.sign({ acr: 'pwd' }))), ', acr_values="mfa"', { acrValues: 'mfa' });
    assert.equal(echo.runs.unary, 0);
    assert.equal((await unary(echo.client, meta(await idp.sign({ acr: 'mfa' })))).code, status.OK);
  });
});

describe('requireAuthTime reads the interceptor clock (i14 plan §5: GuardInfo.clock)', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  const AHEAD = 3_600_000;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: idp.audience,
      clock: () => Date.now() + AHEAD,
      rules: { [METHODS.unary]: requireAuthTime({ maxAge: 300 }) },
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(() => echo.close());

  // The guard reads the interceptor's checked clock (GuardInfo.clock), as exp and nbf are judged on it.
  it('a login 10 s old by the configured clock → OK', async () => {
    const token = await idp.sign({ sub: 'alice', auth_time: Math.floor((Date.now() + AHEAD) / 1000) - 10 }, { expiresIn: 7200 });
    assert.equal((await unary(echo.client, meta(token))).code, status.OK);
  });
});
