/**
 * anonymousCall and authenticatedCall (grpc-jwt-auth/testing): a unary call with no server, whose token
 * the test issuer signed and the library verified, so a handler's getAuth, findAuth and withGuard see the
 * caller as in a served call; the result is what grpc-js would send.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Metadata, status, type handleUnaryCall, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { AuthConfigError, AuthError, findAuth, getAuth, requireAnyRole, requireScopes, toGrpcError, withGuard, type Guard } from '../../src/index.ts';
import { anonymousCall, authenticatedCall, createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';

const GET_ORDER = '/acme.orders.v1.Orders/GetOrder';

interface Order {
  readonly id: string;
  readonly owner: string;
}

/** A handler with its own authorization logic: the owner reads the order, others get PERMISSION_DENIED. */
const getOrder: handleUnaryCall<{ id: string }, Order> = (call, callback) => {
  const { subject } = getAuth(call);
  if (subject !== 'alice') return callback(toGrpcError(new AuthError('ERR_AUTH_ACCESS_DENIED', `${subject} does not own ${call.request.id}`)));
  callback(null, { id: call.request.id, owner: subject });
};

/** A handler of a public method: greets the caller if there is one. */
const greet: handleUnaryCall<object, { text: string }> = (call, callback) => {
  const auth = findAuth(call);
  callback(null, { text: auth ? `hello ${auth.subject}` : 'hello stranger' });
};

describe('authenticatedCall', () => {
  let idp: TestIssuer;

  before(async () => {
    idp = await createTestIssuer({ audience: 'orders-api' });
  });

  it('getAuth(call) reads the verified caller; call.metadata carries the bearer token; the path is the method', async () => {
    const call = await authenticatedCall(idp, { claims: { sub: 'alice', scope: 'orders:read orders:write' }, method: GET_ORDER, request: { id: 'o-1' } });
    const auth = getAuth(call);
    assert.deepEqual([auth.subject, auth.issuer, auth.audience, auth.scopes], ['alice', idp.issuer, ['orders-api'], ['orders:read', 'orders:write']]);
    assert.equal(call.metadata.get('authorization')[0], `Bearer ${auth.token}`);
    assert.equal(call.getPath(), GET_ORDER);
    assert.deepEqual(call.request, { id: 'o-1' });
    assert.equal(call.cancelled, false);
  });

  it('unary handler: its answer is the result (OK and the value), its own refusal keeps status and ErrorInfo', async () => {
    const alice = await authenticatedCall(idp, { claims: { sub: 'alice' }, request: { id: 'o-1' } });
    getOrder(alice, alice.respond);
    assert.deepEqual(await alice.result, { code: status.OK, details: 'OK', metadata: new Metadata(), reason: undefined, value: { id: 'o-1', owner: 'alice' } });

    const bob = await authenticatedCall(idp, { claims: { sub: 'bob' }, request: { id: 'o-1' } });
    getOrder(bob, bob.respond);
    const refused = await bob.result;
    assert.deepEqual([refused.code, refused.reason, refused.value], [status.PERMISSION_DENIED, 'ACCESS_DENIED', undefined]);
    assert.match(String(refused.metadata.get('www-authenticate')[0]), /^Bearer error="insufficient_scope"/);
  });

  it('withGuard: without the scope → PERMISSION_DENIED INSUFFICIENT_SCOPE naming it, the body never runs; with it → the body answers', async () => {
    let runs = 0;
    const deleteOrder = withGuard(requireScopes('orders:admin'), ((_call, callback) => {
      runs += 1;
      callback(null, {});
    }) as handleUnaryCall<{ id: string }, object>);

    const reader = await authenticatedCall(idp, { claims: { scope: 'orders:read' }, request: { id: 'o-1' } });
    deleteOrder(reader, reader.respond);
    const refused = await reader.result;
    assert.deepEqual([refused.code, refused.reason, runs], [status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE', 0]);
    assert.match(String(refused.metadata.get('www-authenticate')[0]), /scope="orders:admin"/);

    const admin = await authenticatedCall(idp, { claims: { scope: 'orders:admin' }, request: { id: 'o-1' } });
    deleteOrder(admin, admin.respond);
    assert.deepEqual([(await admin.result).code, runs], [status.OK, 1]);
  });

  it('withGuard with an asynchronous guard: a call cancelled while it runs never reaches the body', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const slow: Guard = () => new Promise((resolve) => (release = () => resolve(true)));
    const handler = withGuard(slow, ((_call, callback) => {
      runs += 1;
      callback(null, {});
    }) as handleUnaryCall<object, object>);
    const call = await authenticatedCall(idp, { request: {} });
    const cancelled = new Promise((resolve) => call.once('cancelled', resolve));
    handler(call, call.respond);
    call.cancel();
    await cancelled;
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([call.cancelled, runs], [true, 0]);
  });

  it('the guard and the validate hook see the method; verify options shape the context as on the server (scopeClaims, roleClaims)', async () => {
    const seen: string[] = [];
    const call = await authenticatedCall(idp, {
      claims: { permissions: ['orders:read'], groups: ['support'] },
      method: GET_ORDER,
      verify: {
        scopeClaims: ['permissions'],
        roleClaims: ['groups'],
        validate: (_claims, { method }) => {
          seen.push(method);
          return true;
        },
      },
    });
    assert.deepEqual([getAuth(call).scopes, getAuth(call).roles, seen], [['orders:read'], ['support'], [GET_ORDER]]);
    const handler = withGuard(requireAnyRole('support'), ((guarded: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<string>) =>
      callback(null, guarded.getPath())) as handleUnaryCall<unknown, string>);
    handler(call, call.respond);
    assert.equal((await call.result).value, GET_ORDER);
  });

  it('a token the verify options refuse → rejects with its AuthError (audience, typ, required claim)', async () => {
    await assert.rejects(authenticatedCall(idp, { verify: { audience: 'billing-api' } }), { code: 'ERR_AUTH_AUDIENCE_INVALID' });
    await assert.rejects(authenticatedCall(idp, { verify: { typ: 'at+jwt' } }), { code: 'ERR_AUTH_TOKEN_TYPE_INVALID' });
    const accessToken = await authenticatedCall(idp, { verify: { typ: 'at+jwt' }, signOptions: { header: { typ: 'at+jwt' } } });
    assert.equal(getAuth(accessToken).header.typ, 'at+jwt');
    await assert.rejects(authenticatedCall(idp, { verify: { requiredClaims: ['tenant'] } }), { code: 'ERR_AUTH_CLAIM_MISSING' });
  });

  it('claims the server would refuse cannot make a test call (other aud, other iss, expired): rejects, no call to hand a handler', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assert.rejects(authenticatedCall(idp, { claims: { aud: 'billing-api' } }), { code: 'ERR_AUTH_AUDIENCE_INVALID' });
    await assert.rejects(authenticatedCall(idp, { claims: { iss: 'https://elsewhere.example' } }), { code: 'ERR_AUTH_ISSUER_INVALID' });
    await assert.rejects(authenticatedCall(idp, { claims: { exp: now - 3600, iat: now - 7200 } }), { code: 'ERR_AUTH_TOKEN_EXPIRED' });
  });

  it('a given Metadata that already carries a verified context (from a served call) → anonymousCall stays anonymous', async () => {
    const served = await authenticatedCall(idp, { claims: { sub: 'alice' } });
    assert.equal(findAuth(anonymousCall({ metadata: served.metadata })), undefined);
  });

  it('metadata option: the handler sees its headers; the given Metadata is copied, never changed', async () => {
    const sent = new Metadata();
    sent.set('x-request-id', 'r-42');
    const call = await authenticatedCall(idp, { metadata: sent });
    assert.equal(call.metadata.get('x-request-id')[0], 'r-42');
    assert.notEqual(call.metadata, sent);
    assert.deepEqual(sent.getMap(), { 'x-request-id': 'r-42' });
    assert.equal(findAuth({ metadata: sent }), undefined);
  });

  it('misspelt or wrong options → AuthConfigError naming the option by its path', async () => {
    const cases: Array<[unknown, string]> = [
      [{ requst: {} }, 'requst'],
      [{ verify: { scopeClaim: ['permissions'] } }, 'verify.scopeClaim'],
      [{ verify: { cache: false } }, 'verify.cache'],
      [{ signOptions: { expiresin: 60 } }, 'signOptions.expiresin'],
      [{ method: 'GetOrder' }, 'method'],
      [{ metadata: { 'x-request-id': 'r-1' } }, 'metadata'],
      [{ claims: 'alice' }, 'claims'],
    ];
    await Promise.all(
      cases.map(([options, option]) =>
        assert.rejects(authenticatedCall(idp, options as never), (error) => error instanceof AuthConfigError && error.option === option),
      ),
    );
  });
});

describe('anonymousCall', () => {
  it('findAuth → undefined: a handler of a public method answers as for an anonymous caller', async () => {
    const call = anonymousCall({ request: {} });
    assert.equal(findAuth(call), undefined);
    greet(call, call.respond);
    assert.deepEqual((await call.result).value, { text: 'hello stranger' });
  });

  it('getAuth → throws ERR_AUTH_INTERNAL and the call ends INTERNAL with reason INTERNAL, as on a server', async () => {
    const call = anonymousCall({ request: { id: 'o-1' } });
    assert.throws(() => getOrder(call, call.respond), { code: 'ERR_AUTH_INTERNAL' });
    const result = await call.result;
    assert.deepEqual([result.code, result.reason], [status.INTERNAL, 'INTERNAL']);
  });

  it('withGuard → UNAUTHENTICATED TOKEN_MISSING, fail closed', async () => {
    const call = anonymousCall({ method: GET_ORDER, request: {} });
    withGuard(requireScopes('orders:read'), greet)(call, call.respond);
    const result = await call.result;
    assert.deepEqual([result.code, result.reason], [status.UNAUTHENTICATED, 'TOKEN_MISSING']);
  });

  it('an AuthError passed to the callback as is → UNKNOWN with its message, as grpc-js answers it (use toGrpcError)', async () => {
    const call = anonymousCall();
    call.respond(new AuthError('ERR_AUTH_ACCESS_DENIED', 'for the logs') as never);
    call.respond(null, {});
    const result = await call.result;
    assert.deepEqual([result.code, result.details, result.reason], [status.UNKNOWN, 'for the logs', undefined]);
  });

  it('cancel() ends the call CANCELLED, as the departed client sees it; an answer after it is dropped, as grpc-js drops it', async () => {
    const call = anonymousCall<object, string>();
    call.cancel();
    call.respond(null, 'too late');
    const result = await call.result;
    assert.deepEqual([result.code, result.value, call.cancelled], [status.CANCELLED, undefined, true]);
  });

  it('the first answer wins, as grpc-js sends one status', async () => {
    const call = anonymousCall<object, string>();
    call.respond(null, 'first');
    call.respond({ code: status.INTERNAL, details: 'late' });
    call.emit('error', { code: status.UNAVAILABLE });
    assert.deepEqual([(await call.result).code, (await call.result).value], [status.OK, 'first']);
  });
});
