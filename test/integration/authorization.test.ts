import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthConfigError,
  allOf,
  createAuthInterceptor,
  guardService,
  requireAnyRole,
  requireAnyScope,
  requireRoles,
  requireScopes,
  rulesFromProto,
  withGuard,
  type Guard,
  type RuleMap,
} from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { allKinds, bearer, bidi, clientStream, serverStream, unary, type Outcome } from '../support/calls.ts';
import { echoImplementation, startEchoServer, type EchoReply, type EchoServer } from '../support/echo-server.ts';
import { SHOP_METHODS, shopPackageDefinition, shopPath, startShopServer, type ShopMethod, type ShopServer } from '../support/shop-server.ts';

const { status, Metadata } = grpc;
const meta = (token: string) => bearer(Metadata, token);
const AUDIENCE = 'shop-api';

/** The policy of shop.proto, written in code. */
const CODE_RULES: RuleMap = {
  [shopPath('ListProducts')]: 'public',
  [shopPath('GetCart')]: 'optional',
  [shopPath('Chat')]: 'optional',
  [shopPath('GetOrder')]: requireScopes('orders:read'),
  [shopPath('WatchOrders')]: requireAnyScope('orders:read', 'orders:admin'),
  [shopPath('ImportOrders')]: allOf(requireScopes('orders:write'), requireRoles('importer')),
  [shopPath('Support')]: requireAnyRole('support', 'admin'),
  [shopPath('DeleteAll')]: 'deny',
  [shopPath('Whoami')]: 'authenticated',
};

/** The same policy read from shop.proto; Whoami has no option there, so its rule comes from code. */
const PROTO_RULES: RuleMap = { ...rulesFromProto(shopPackageDefinition), [shopPath('Whoami')]: 'authenticated' };

function assertRefused(outcome: Outcome, code: number, reason: string): void {
  assert.equal(outcome.code, code, `status ${outcome.code} ${outcome.details}`);
  assert.equal(outcome.reason, reason);
  assert.deepEqual(outcome.replies, []);
}

for (const [source, rules] of [
  ['code', CODE_RULES],
  ['the .proto file', PROTO_RULES],
] as const) {
  describe(`authorization: a mixed policy from ${source}, over all four call kinds`, () => {
    let idp: TestIssuer;
    let shop: ShopServer;
    const token = (claims: Record<string, unknown> = {}) => idp.sign({ sub: 'alice', ...claims });

    before(async () => {
      idp = await createTestIssuer({ alg: 'ES256', audience: AUDIENCE });
      const auth = createAuthInterceptor({
        keys: idp.keys,
        algorithms: ['ES256'],
        issuer: idp.issuer,
        audience: AUDIENCE,
        rules,
        defaultRule: 'deny',
        services: shopPackageDefinition,
        strictRules: true,
      });
      shop = await startShopServer([auth]);
    });
    after(() => shop.close());

    /** Runs a refused call and checks the handler never ran and the next good call works. */
    async function refused(method: ShopMethod, metadata: grpc.Metadata, good: grpc.Metadata): Promise<Outcome> {
      const before = { ...shop.runs };
      const outcome = await shop.call(method, metadata);
      assert.deepEqual(shop.runs, before, `${method}: the handler never ran`);
      const next = await shop.call(method, good);
      assert.equal(next.code, status.OK, `${method}: the next good call works`);
      assert.equal(shop.runs[method], before[method] + 1);
      return outcome;
    }

    it('public (server stream): no token and even a garbage authorization header are fine, none is read', async () => {
      const none = await shop.call('ListProducts', new Metadata());
      assert.equal(none.code, status.OK);
      assert.equal(none.replies.length, 2);
      const garbage = new Metadata();
      garbage.set('authorization', 'Bearer not.a.token');
      const outcome = await shop.call('ListProducts', garbage);
      assert.equal(outcome.code, status.OK);
      assert.equal(outcome.replies[0]?.subject, '', 'no claims on a public method');
    });

    it('optional (unary and bidi): anonymous runs without claims, a valid token attaches them, a bad token is refused', async () => {
      for (const method of ['GetCart', 'Chat'] as const) {
        const anonymous = await shop.call(method, new Metadata());
        assert.equal(anonymous.code, status.OK, method);
        assert.equal(anonymous.replies[0]?.subject, '', method);
        const signedIn = await shop.call(method, meta(await token()));
        assert.equal(signedIn.replies[0]?.subject, 'alice', method);
        const expired = await refused(method, meta(await idp.expiredToken()), meta(await token()));
        assertRefused(expired, status.UNAUTHENTICATED, 'TOKEN_EXPIRED');
      }
    });

    it('requireScopes (unary): the scope → OK; near misses → PERMISSION_DENIED naming the scope', async () => {
      const ok = await shop.call('GetOrder', meta(await token({ scope: 'orders:read' })));
      assert.equal(ok.code, status.OK);
      assert.deepEqual(ok.replies[0]?.scopes, ['orders:read']);
      const good = meta(await token({ scope: 'orders:read' }));
      for (const scope of ['orders:readonly', 'Orders:Read', 'orders:rea', 'orders:write', '']) {
        const outcome = await refused('GetOrder', meta(await token({ scope })), good);
        assertRefused(outcome, status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE');
        assert.equal(
          outcome.wwwAuthenticate,
          'Bearer error="insufficient_scope", error_description="token does not grant access to this method", scope="orders:read"',
        );
        assert.deepEqual({ ...outcome.errorInfoMetadata }, { requiredScopes: 'orders:read' });
      }
    });

    it('a guarded method without a token, or with a bad one, is UNAUTHENTICATED: authentication comes first', async () => {
      const good = meta(await token({ scope: 'orders:read' }));
      assertRefused(await refused('GetOrder', new Metadata(), good), status.UNAUTHENTICATED, 'TOKEN_MISSING');
      assertRefused(await refused('GetOrder', meta(await idp.tamperedToken({ scope: 'orders:read' })), good), status.UNAUTHENTICATED, 'SIGNATURE_INVALID');
      assertRefused(await refused('GetOrder', meta(await idp.wrongAudienceToken({ scope: 'orders:read' })), good), status.UNAUTHENTICATED, 'AUDIENCE_INVALID');
    });

    it('requireAnyScope (server stream): either scope → OK; neither → PERMISSION_DENIED naming both', async () => {
      for (const scope of ['orders:read', 'orders:admin', 'orders:admin orders:read']) {
        const outcome = await shop.call('WatchOrders', meta(await token({ scope })));
        assert.equal(outcome.code, status.OK, scope);
        assert.equal(outcome.replies.length, 2);
      }
      const outcome = await refused('WatchOrders', meta(await token({ scp: ['orders:write'] })), meta(await token({ scp: ['orders:admin'] })));
      assertRefused(outcome, status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE');
      assert.match(outcome.wwwAuthenticate ?? '', /scope="orders:read orders:admin"$/);
    });

    it('scopes and roles together (client stream): both → every message arrives; either alone → PERMISSION_DENIED', async () => {
      const texts = Array.from({ length: 20 }, (_, i) => `order-${i}`);
      const ok = await shop.call('ImportOrders', meta(await token({ permissions: ['orders:write'], roles: ['importer'] })), texts);
      assert.equal(ok.code, status.OK);
      assert.equal(ok.replies[0]?.text, texts.join(','));
      const good = meta(await token({ permissions: ['orders:write'], roles: ['importer'] }));
      const scopeOnly = await refused('ImportOrders', meta(await token({ permissions: ['orders:write'] })), good);
      assertRefused(scopeOnly, status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE');
      assert.equal(scopeOnly.wwwAuthenticate?.includes('scope='), false, 'a missing role names no scope');
      const roleOnly = await refused('ImportOrders', meta(await token({ roles: ['importer'] })), good);
      assertRefused(roleOnly, status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE');
      assert.match(roleOnly.wwwAuthenticate ?? '', /scope="orders:write"$/);
    });

    it('requireAnyRole (bidi): Keycloak realm role → OK; superadmin or a string of roles → PERMISSION_DENIED', async () => {
      const ok = await shop.call('Support', meta(await token({ realm_access: { roles: ['support'] } })), ['x', 'y']);
      assert.equal(ok.code, status.OK);
      assert.deepEqual(
        ok.replies.map((r) => r.text),
        ['x', 'y'],
      );
      const good = meta(await token({ 'cognito:groups': ['admin'] }));
      assertRefused(await refused('Support', meta(await token({ roles: ['superadmin'] })), good), status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE');
      assertRefused(await refused('Support', meta(await token({ roles: 'supporter' })), good), status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE');
    });

    it('deny: PERMISSION_DENIED ACCESS_DENIED whatever the token, even with none', async () => {
      const before = shop.runs.DeleteAll;
      for (const metadata of [new Metadata(), meta(await token({ scope: 'orders:read orders:write orders:admin', roles: ['admin'] }))]) {
        const outcome = await shop.call('DeleteAll', metadata);
        assertRefused(outcome, status.PERMISSION_DENIED, 'ACCESS_DENIED');
        assert.match(outcome.wwwAuthenticate ?? '', /^Bearer error="insufficient_scope"/);
      }
      assert.equal(shop.runs.DeleteAll, before);
    });

    it('authenticated (from code in both policies): any valid token', async () => {
      assert.equal((await shop.call('Whoami', meta(await token()))).code, status.OK);
      assertRefused(await shop.call('Whoami', new Metadata()), status.UNAUTHENTICATED, 'TOKEN_MISSING');
    });

    it('every method of every kind was reached by some call', () => {
      for (const method of Object.keys(SHOP_METHODS) as ShopMethod[]) {
        if (method !== 'DeleteAll') assert.ok(shop.runs[method] > 0, method);
      }
    });
  });
}

describe('authorization: code rules override the .proto file', () => {
  it('a method made stricter and a denied one opened in code follow the code', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const rules: RuleMap = {
      ...PROTO_RULES,
      [shopPath('GetCart')]: requireScopes('cart:read'),
      [shopPath('DeleteAll')]: requireRoles('admin'),
    };
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['HS256'],
      rules,
      defaultRule: 'deny',
      services: shopPackageDefinition,
      strictRules: true,
    });
    const shop = await startShopServer([auth]);
    try {
      assertRefused(await shop.call('GetCart', new Metadata()), status.UNAUTHENTICATED, 'TOKEN_MISSING');
      assert.equal((await shop.call('GetCart', meta(await idp.sign({ scope: 'cart:read' })))).code, status.OK);
      assert.equal((await shop.call('DeleteAll', meta(await idp.sign({ roles: ['admin'] })))).code, status.OK);
      assertRefused(await shop.call('DeleteAll', meta(await idp.sign())), status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE');
      assert.equal((await shop.call('GetOrder', meta(await idp.sign({ scope: 'orders:read' })))).code, status.OK, 'the rest of the file still applies');
    } finally {
      await shop.close();
    }
  });

  it('a typo in a code rule next to the file throws at construction', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    assert.throws(
      () =>
        createAuthInterceptor({
          keys: idp.keys,
          algorithms: ['HS256'],
          rules: { ...PROTO_RULES, '/test.shop.v1.Shop/Whoamii': 'authenticated' },
          services: shopPackageDefinition,
        }),
      AuthConfigError,
    );
  });
});

/** A guard that waits until opened, and says when a call reached it. */
function gatedGuard(): { guard: Guard; reached: Promise<void>; open(): void } {
  let open: () => void = () => undefined;
  let enter: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (enter = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  const guard: Guard = async () => {
    enter();
    await opened;
    return true;
  };
  return { guard, reached, open: () => open() };
}

describe('authorization: withGuard and guardService on handlers of all four call kinds', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  const allowedToken = () => idp.sign({ scope: 'echo:read echo:write', roles: ['admin'] });

  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    // The interceptor only authenticates (optional); authorization lives next to the handlers.
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], defaultRule: 'optional' });
    echo = await startEchoServer({
      interceptors: [auth],
      implementation: (runs) =>
        guardService(echoImplementation(runs), {
          Unary: requireScopes('echo:read'),
          ServerStream: requireScopes('echo:read'),
          // An asynchronous guard: client messages must wait for it, complete and in order.
          ClientStream: async (context) => {
            await new Promise((resolve) => setImmediate(resolve));
            return context.scopes.includes('echo:write') || { allowed: false, message: 'no write', requiredScopes: ['echo:write'] };
          },
          Bidi: requireAnyRole('admin'),
        }),
    });
  });
  after(() => echo.close());

  it('allowed: every call kind runs its handler', async () => {
    const token = await allowedToken();
    const outcomes = await allKinds(echo.client, () => meta(token));
    for (const [kind, outcome] of Object.entries(outcomes)) assert.equal(outcome.code, status.OK, kind);
    assert.equal(outcomes.clientStream.replies[0]?.text, 'a,b,c');
    assert.deepEqual(
      outcomes.bidi.replies.map((reply: EchoReply) => reply.text),
      ['a', 'b', 'c'],
    );
  });

  it('refused: PERMISSION_DENIED with the same trailers as the interceptor, the handler never runs, the next call works', async () => {
    const before = { ...echo.runs };
    const token = await idp.sign({ scope: 'echo:readonly', roles: ['superadmin'] });
    const outcomes = await allKinds(echo.client, () => meta(token));
    for (const [kind, outcome] of Object.entries(outcomes)) {
      assertRefused(outcome, status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE');
      assert.match(outcome.wwwAuthenticate ?? '', /^Bearer error="insufficient_scope"/, kind);
    }
    assert.match(outcomes.unary.wwwAuthenticate ?? '', /scope="echo:read"$/);
    assert.deepEqual({ ...outcomes.clientStream.errorInfoMetadata }, { requiredScopes: 'echo:write' });
    assert.deepEqual(echo.runs, before);
    const good = await allowedToken();
    for (const [kind, outcome] of Object.entries(await allKinds(echo.client, () => meta(good)))) assert.equal(outcome.code, status.OK, kind);
  });

  it('no token on a method the interceptor lets through: the wrapper fails closed with UNAUTHENTICATED', async () => {
    const before = { ...echo.runs };
    const outcomes = await allKinds(echo.client, () => new Metadata());
    for (const outcome of Object.values(outcomes)) assertRefused(outcome, status.UNAUTHENTICATED, 'TOKEN_MISSING');
    assert.deepEqual(echo.runs, before);
  });

  it('an asynchronous guard: 50 client-stream messages arrive complete and in order', async () => {
    const texts = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const outcome = await clientStream(echo.client, meta(await idp.sign({ scope: 'echo:write' })), texts);
    assert.equal(outcome.code, status.OK);
    assert.equal(outcome.replies[0]?.text, texts.join(','));
  });

  it('a guard that throws → INTERNAL; a handler that throws after an asynchronous guard → UNKNOWN; the server keeps serving', async () => {
    const broken: Guard = () => {
      throw new Error('bug');
    };
    const throwing: grpc.handleServerStreamingCall<unknown, unknown> = () => {
      throw new Error('handler bug');
    };
    const server = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] })],
      implementation: (runs) => {
        const implementation = echoImplementation(runs);
        return {
          ...implementation,
          Unary: withGuard(broken, implementation.Unary as grpc.UntypedHandleCall),
          ServerStream: withGuard(async () => true, throwing),
        };
      },
    });
    try {
      const internal = await unary(server.client, meta(await idp.sign()));
      assert.equal(internal.code, status.INTERNAL);
      assert.equal(internal.reason, 'INTERNAL');
      assert.equal(server.runs.unary, 0);
      assert.equal((await serverStream(server.client, meta(await idp.sign()))).code, status.UNKNOWN);
      assert.equal((await bidi(server.client, meta(await idp.sign()))).code, status.OK);
    } finally {
      await server.close();
    }
  });

  it('a call cancelled while an asynchronous guard runs never reaches its handler', async () => {
    const gate = gatedGuard();
    // The client sees CANCELLED at once; wait until the server has processed the cancellation too.
    let serverCancelled: () => void = () => undefined;
    const cancelledOnServer = new Promise<void>((resolve) => (serverCancelled = resolve));
    const cancelSpy: grpc.ServerInterceptor = (_descriptor, call) =>
      new grpc.ServerInterceptingCall(call, { start: (next) => next({ onCancel: () => serverCancelled() }) });
    const server = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] }), cancelSpy],
      implementation: (runs) => guardService(echoImplementation(runs), gate.guard),
    });
    try {
      const call = server.client.ServerStream({ text: 'x' }, meta(await idp.sign()));
      const ended = new Promise<number>((resolve) => call.on('error', (error: grpc.ServiceError) => resolve(error.code)));
      await gate.reached;
      call.cancel();
      assert.equal(await ended, status.CANCELLED);
      await cancelledOnServer;
      gate.open();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(server.runs.serverStream, 0);
      assert.equal((await unary(server.client, meta(await idp.sign()))).code, status.OK, 'the gate is open: the next call runs');
      const texts = Array.from({ length: 50 }, (_, i) => `m${i}`);
      const duplex = await bidi(server.client, meta(await idp.sign()), texts);
      assert.deepEqual(
        duplex.replies.map((reply: EchoReply) => reply.text),
        texts,
        'bidi messages wait for the asynchronous guard, in order',
      );
    } finally {
      await server.close();
    }
  });

  it('without the auth interceptor, even a valid token is UNAUTHENTICATED: the wrapper never trusts an unverified call', async () => {
    const server = await startEchoServer({ implementation: (runs) => guardService(echoImplementation(runs), requireScopes('echo:read')) });
    try {
      const token = await idp.sign({ scope: 'echo:read' });
      const outcomes = await allKinds(server.client, () => meta(token));
      for (const outcome of Object.values(outcomes)) assertRefused(outcome, status.UNAUTHENTICATED, 'TOKEN_MISSING');
      assert.deepEqual(server.runs, { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 });
    } finally {
      await server.close();
    }
  });

  it('guardService and withGuard: configuration mistakes throw at once', () => {
    const implementation = echoImplementation({ unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 });
    assert.throws(() => guardService(implementation, { Unry: requireScopes('x') } as never), {
      code: 'ERR_AUTH_INVALID_OPTION',
      option: 'guardService(guards).Unry',
    });
    assert.throws(() => guardService(implementation, { constructor: requireScopes('x') } as never), {
      code: 'ERR_AUTH_INVALID_OPTION',
      option: 'guardService(guards).constructor',
    });
    assert.throws(() => guardService(implementation, { Unary: 'public' } as never), { code: 'ERR_AUTH_INVALID_OPTION', option: 'guardService(guards).Unary' });
    assert.throws(() => guardService(implementation, 'public' as never), { code: 'ERR_AUTH_INVALID_OPTION', option: 'guardService(guards)' });
    assert.throws(() => withGuard(requireScopes('x'), undefined as never), { code: 'ERR_AUTH_INVALID_OPTION', option: 'withGuard(handler)' });
  });

  it('guardService keeps the this of a class instance', async () => {
    class Greeter {
      readonly greeting = 'hello';
      Unary(call: grpc.ServerUnaryCall<{ text: string }, EchoReply>, callback: grpc.sendUnaryData<EchoReply>): void {
        callback(null, { text: `${this.greeting} ${call.request.text}`, subject: '', scopes: [], count: 0 });
      }
    }
    const server = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] })],
      implementation: () => guardService(new Greeter(), { Unary: requireScopes('echo:read') }) as unknown as grpc.UntypedServiceImplementation,
    });
    try {
      const outcome = await unary(server.client, meta(await idp.sign({ scope: 'echo:read' })), 'bob');
      assert.equal(outcome.replies[0]?.text, 'hello bob');
    } finally {
      await server.close();
    }
  });
});
