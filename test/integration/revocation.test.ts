/**
 * Revocations in one process (the memory store, the default `revocations`), over real gRPC on loopback:
 * every call kind refused with UNAUTHENTICATED TOKEN_REVOKED after `revoke`, cache hits included, before
 * `validate`, guards, the handler and the DPoP replay write; unrevoke re-admits; open streams end; the
 * status, the option checks and foreign stores (a bug in one refuses, never admits).
 *
 * Ported behaviours (our own code): Keycloak UserInfoTest.testNotBeforeTokens (a not-before set for the
 * user, then for the client, refuses a live token with invalid_token; clearing it admits it again;
 * AuthenticationManager: `iat < notBefore` is stale); djangorestframework-simplejwt
 * tests/test_token_blacklist.py (blacklisting twice is idempotent); ory/hydra
 * oauth2/fosite_store_helpers_test.go ("inserts same JTI if expired": an entry past its end no longer counts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthConfigError,
  AuthError,
  createAuthInterceptor,
  createAuthenticator,
  createMemoryRevocationStore,
  getAuth,
  isAuthError,
  revocationOf,
  type AuthInterceptorOptions,
  type RejectedEvent,
  type ReplayStore,
  type RevocationStore,
} from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { allKinds, bidi, outcomeOf, serverStream, unary } from '../support/calls.ts';
import { echoImplementation, startEchoServer, type EchoReply, type EchoServer } from '../support/echo-server.ts';
import { TEST_ORIGIN, makeProof, proofKey } from '../support/dpop-proofs.ts';
import { assertRevoked, heldServerStream, meta, withServer } from '../support/revocation-calls.ts';

const { status, Metadata } = grpc;
const now = (): number => Math.floor(Date.now() / 1000);

describe('revocations (memory store, the default)', { timeout: 60_000 }, () => {
  it('all four call kinds: refused TOKEN_REVOKED after revoke, on a token-cache hit; the handler never runs; unrevoke re-admits', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, {}, async (echo, auth) => {
      const token = await idp.sign({ jti: 'j-1', sub: 'alice' });
      for (const [kind, outcome] of Object.entries(await allKinds(echo.client, () => meta(token)))) assert.equal(outcome.code, status.OK, kind);
      const runs = { ...echo.runs };
      await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'j-1' });
      for (const [kind, outcome] of Object.entries(await allKinds(echo.client, () => meta(token)))) assertRevoked(outcome, kind);
      assert.deepEqual(echo.runs, runs, 'no handler ran');
      assert.equal(await auth.revocations.unrevoke({ kind: 'token', issuer: idp.issuer, jti: 'j-1' }), true);
      for (const [kind, outcome] of Object.entries(await allKinds(echo.client, () => meta(token)))) assert.equal(outcome.code, status.OK, kind);
    });
  });

  it('a revoked token is refused before validate (the hook is not called) and before guards', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let validated = 0;
    let guarded = 0;
    const options: Partial<AuthInterceptorOptions> = {
      validate: () => (validated++, true),
      rules: { '/test.echo.v1.Echo/*': () => (guarded++, true) },
    };
    await withServer(idp, options, async (echo, auth) => {
      const token = await idp.sign({ jti: 'j-2' });
      assert.equal((await unary(echo.client, meta(token))).code, status.OK);
      assert.deepEqual([validated, guarded], [1, 1]);
      await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'j-2' });
      assertRevoked(await unary(echo.client, meta(token)), 'cached');
      // The refusal dropped the cache entry: the next call is verified afresh, and refused again.
      assertRevoked(await unary(echo.client, meta(token)), 'verified afresh');
      assert.deepEqual([validated, guarded], [1, 1]);
    });
  });

  it('a handler revokes its own caller with revocationOf(getAuth(call)); the next call with that token is refused, another token of the subject still works', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const store = createMemoryRevocationStore();
    const implementation = (runs: EchoServer['runs']): grpc.UntypedServiceImplementation => ({
      ...echoImplementation(runs),
      Unary(call: grpc.ServerUnaryCall<{ text: string }, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
        runs.unary += 1;
        if (call.request.text !== 'logout') return callback(null, { text: 'ok', subject: '', scopes: [], count: 0 });
        store.revoke(revocationOf(getAuth(call))).then(
          () => callback(null, { text: 'bye', subject: '', scopes: [], count: 0 }),
          (error: unknown) => callback(error as Error),
        );
      },
    });
    await withServer(
      idp,
      { revocations: store },
      async (echo) => {
        const session = await idp.sign({ jti: 's-1', sub: 'alice' });
        const other = await idp.sign({ jti: 's-2', sub: 'alice' });
        const jtiLess = await idp.sign({ sub: 'alice' });
        assert.equal((await unary(echo.client, meta(session), 'logout')).code, status.OK);
        assertRevoked(await unary(echo.client, meta(session)), 'after logout');
        assert.equal((await unary(echo.client, meta(other))).code, status.OK, "the subject's other token");
        // A token without jti is revoked by its tokenId.
        assert.equal((await unary(echo.client, meta(jtiLess), 'logout')).code, status.OK);
        assertRevoked(await unary(echo.client, meta(jtiLess)), 'jti-less token after logout');
        assert.equal((await store.entries()).filter((entry) => 'tokenId' in entry.target).length, 1);
      },
      implementation,
    );
  });

  it('a guard may call match (here: a second, per-method list) on the AuthContext', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const adminBans = createMemoryRevocationStore();
    const rules = { '/test.echo.v1.Echo/Unary': (context: Parameters<RevocationStore['match']>[0]) => adminBans.match(context) === undefined };
    await withServer(idp, { rules }, async (echo) => {
      const token = await idp.sign({ sub: 'mallory', azp: 'cli' });
      assert.equal((await unary(echo.client, meta(token))).code, status.OK);
      await adminBans.revoke({ kind: 'client', issuer: idp.issuer, clientId: 'cli' });
      assert.equal((await unary(echo.client, meta(token))).code, status.PERMISSION_DENIED);
      assert.equal((await serverStream(echo.client, meta(token))).code, status.OK, 'other methods are not guarded by that list');
    });
  });

  for (const streamExpiry of ['end', 'ignore'] as const) {
    it(`an open server stream is ended with UNAUTHENTICATED TOKEN_REVOKED when its token is revoked (streamExpiry ${streamExpiry})`, async () => {
      const idp = await createTestIssuer({ alg: 'HS256' });
      await withServer(idp, { streamExpiry }, async (echo, auth) => {
        const token = await idp.sign({ sub: 'alice' });
        const other = heldServerStream(echo, await idp.sign({ sub: 'bob' }));
        const held = heldServerStream(echo, token);
        await Promise.all([held.firstReply, other.firstReply]);
        await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
        const outcome = await held.ended;
        assertRevoked(outcome, 'held stream');
        assert.ok(outcome.replies.length >= 1, 'the stream ran until then');
        // Bob's stream is untouched: the client ends it.
        const race = await Promise.race([other.ended, new Promise((resolve) => setTimeout(() => resolve('still open'), 200))]);
        assert.equal(race, 'still open');
        other.cancel();
        assert.equal((await other.ended).code, status.CANCELLED);
      });
    });
  }

  it('an open bidi stream is ended TOKEN_REVOKED; a stream that ended first is not touched (no listener left behind)', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const store = createMemoryRevocationStore();
    let listeners = 0;
    const counting: RevocationStore = {
      ...store,
      subscribe(listener) {
        listeners++;
        const stop = store.subscribe(listener);
        return () => {
          listeners--;
          stop();
        };
      },
    };
    await withServer(idp, { revocations: counting }, async (echo) => {
      const token = await idp.sign({ sub: 'alice', azp: 'web' });
      assert.equal((await bidi(echo.client, meta(token))).code, status.OK);
      assert.equal(listeners, 0, 'a finished stream unsubscribed');
      const call = echo.client.Bidi(meta(token), { deadline: Date.now() + 10_000 });
      const ended = new Promise<grpc.ServiceError>((resolve) => {
        call.on('data', () => undefined);
        call.on('error', resolve);
      });
      call.write({ text: 'first' });
      await new Promise<void>((resolve) => call.once('data', () => resolve()));
      assert.equal(listeners, 1);
      await counting.revoke({ kind: 'client', issuer: idp.issuer, clientId: 'web' });
      const error = await ended;
      assert.equal(error.code, status.UNAUTHENTICATED);
      assert.equal(outcomeOf(error, []).reason, 'TOKEN_REVOKED');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(listeners, 0, 'the ended stream unsubscribed');
    });
  });

  it('status().revocations: state local, serving; a rejected event carries TOKEN_REVOKED and the facts, never the token', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const rejected: RejectedEvent[] = [];
    const logs: string[] = [];
    const logger = { debug: (...args: unknown[]) => logs.push(JSON.stringify(args)), info() {}, warn() {}, error() {} };
    await withServer(idp, { onRejected: (event) => rejected.push(event), logger }, async (echo, auth) => {
      await auth.ready();
      const status0 = auth.status();
      assert.equal(status0.serving, true);
      assert.equal(status0.revocations?.state, 'local');
      assert.equal(status0.revocations?.source, 'memory');
      const token = await idp.sign({ jti: 'j-3', sub: 'alice' });
      await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'j-3' });
      assert.equal(auth.status().revocations?.entries, 1);
      assertRevoked(await unary(echo.client, meta(token)), 'unary');
      assert.equal(rejected.length, 1);
      assert.equal(rejected[0]?.error.code, 'ERR_AUTH_TOKEN_REVOKED');
      assert.equal(rejected[0]?.verified?.jti, 'j-3');
      assert.match(rejected[0]?.error.message ?? '', /token revocation/);
      assert.ok(!logs.join('\n').includes(token) && !rejected[0]?.error.message.includes(token));
    });
  });

  it('issuer-scoped (issuers): revoking jti j-1 of issuer A leaves issuer B’s j-1 working', async () => {
    const a = await createTestIssuer({ alg: 'HS256', issuer: 'https://a.example/' });
    const b = await createTestIssuer({ alg: 'HS256', issuer: 'https://b.example/' });
    const auth = createAuthInterceptor({
      issuers: [
        { issuer: a.issuer, keys: a.keys, algorithms: ['HS256'] },
        { issuer: b.issuer, keys: b.keys, algorithms: ['HS256'] },
      ],
    });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const fromA = await a.sign({ jti: 'j-1' });
      const fromB = await b.sign({ jti: 'j-1' });
      await auth.revocations.revoke({ kind: 'token', issuer: a.issuer, jti: 'j-1' });
      assertRevoked(await unary(echo.client, meta(fromA)), 'issuer A');
      assert.equal((await unary(echo.client, meta(fromB))).code, status.OK, 'issuer B');
    } finally {
      await echo.close();
      auth.close();
    }
  });

  it('Keycloak not-before: a subject watermark, then a client watermark, refuse a live cached token; unrevoke admits it again; a token issued after the watermark is admitted', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, {}, async (echo, auth) => {
      const old = await idp.sign({ sub: 'alice', azp: 'web' }, { issuedAt: now() - 60 });
      assert.equal((await unary(echo.client, meta(old))).code, status.OK, 'valid, and now cached');
      const watermark = new Date(Date.now() - 10_000);
      await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice', before: watermark });
      assertRevoked(await unary(echo.client, meta(old)), 'subject not-before');
      const fresh = await idp.sign({ sub: 'alice', azp: 'web' });
      assert.equal((await unary(echo.client, meta(fresh))).code, status.OK, 'issued after the watermark');
      await auth.revocations.unrevoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      assert.equal((await unary(echo.client, meta(old))).code, status.OK, 'reset');
      await auth.revocations.revoke({ kind: 'client', issuer: idp.issuer, clientId: 'web', before: watermark });
      assertRevoked(await unary(echo.client, meta(old)), 'client not-before');
      assert.equal((await unary(echo.client, meta(fresh))).code, status.OK, 'issued after the client watermark');
      await auth.revocations.unrevoke({ kind: 'client', issuer: idp.issuer, clientId: 'web' });
      assert.equal((await unary(echo.client, meta(old))).code, status.OK, 'reset');
    });
  });

  it('simplejwt: revoking twice is one entry; revoking one jti of a subject leaves its other tokens working', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await withServer(idp, {}, async (echo, auth) => {
      const first = await idp.sign({ sub: 'alice', jti: 'a-1' });
      const second = await idp.sign({ sub: 'alice', jti: 'a-2' });
      await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'a-1' });
      await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'a-1' });
      assert.equal(auth.status().revocations?.entries, 1);
      assertRevoked(await unary(echo.client, meta(first)), 'revoked jti');
      assert.equal((await unary(echo.client, meta(second))).code, status.OK, 'the other jti');
    });
  });

  it('hydra: an entry past its end (expiresAt + 300 s) no longer matches', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let offset = 0;
    await withServer(idp, { clock: () => Date.now() + offset }, async (echo, auth) => {
      const token = await idp.sign({ jti: 'h-1' }, { expiresIn: 3600 });
      // An admin gave too early an expiresAt: once the entry is forgotten, the (still valid) token is admitted.
      await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'h-1', expiresAt: new Date(Date.now() + 10_000) });
      assertRevoked(await unary(echo.client, meta(token)), 'before the end');
      offset = 309_000;
      assertRevoked(await unary(echo.client, meta(token)), 'within the 300 s grace');
      offset = 311_000;
      assert.equal((await unary(echo.client, meta(token))).code, status.OK, 'forgotten');
    });
  });

  it('DPoP: a revoked DPoP-bound token is refused before its proof burns a replay-store write', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const key = await proofKey('ES256');
    let writes = 0;
    const replayStore: ReplayStore = { add: () => (writes++, true) };
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], dpop: { origins: [TEST_ORIGIN] }, replayStore });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const token = await idp.sign({ sub: 'alice', jti: 'd-1', cnf: { jkt: key.jkt } });
      const dpopMeta = async (): Promise<grpc.Metadata> => {
        const metadata = new Metadata();
        metadata.set('authorization', `DPoP ${token}`);
        metadata.set('dpop', await makeProof(key, { path: '/test.echo.v1.Echo/Unary', accessToken: token }));
        return metadata;
      };
      assert.equal((await unary(echo.client, await dpopMeta())).code, status.OK);
      assert.equal(writes, 1);
      await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'd-1' });
      const outcome = await unary(echo.client, await dpopMeta());
      assert.equal(outcome.code, status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'TOKEN_REVOKED');
      assert.equal(writes, 1, 'no replay write for a revoked token');
    } finally {
      await echo.close();
      auth.close();
    }
  });
});

describe('revocations option: checks, foreign stores, lifecycle', { timeout: 30_000 }, () => {
  it('a value that is no store throws AuthConfigError("revocations") in both factories', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const wrong: unknown[] = [null, 5, 'memory', {}, { match: () => undefined }, { match: () => undefined, revoke: async () => undefined, unrevoke: 1 }];
    wrong.push({ match: () => undefined, revoke: async () => undefined, unrevoke: async () => false, status: 'local' });
    for (const revocations of wrong) {
      for (const create of [createAuthInterceptor, createAuthenticator]) {
        assert.throws(
          () => create({ keys: idp.keys, algorithms: ['HS256'], revocations: revocations as RevocationStore }),
          (error: unknown) => error instanceof AuthConfigError && error.option === 'revocations',
          String(JSON.stringify(revocations)),
        );
      }
    }
  });

  it('createAuthenticator: authenticator.revocations (default memory store) refuses revoked tokens; ready() awaits a given store; close() leaves a given store open', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const method = '/test.v1.S/M';
    const own = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const token = await idp.sign({ jti: 'c-1' });
    await own.authenticate(token, method);
    await own.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'c-1' });
    await assert.rejects(own.authenticate(token, method), (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_TOKEN_REVOKED');
    own.close();

    const inner = createMemoryRevocationStore();
    const calls: string[] = [];
    const given: RevocationStore = {
      ...inner,
      ready: async () => void calls.push('ready'),
      close: async () => void calls.push('close'),
    };
    const shared = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], revocations: given });
    assert.equal(shared.revocations, given);
    await shared.ready();
    shared.close();
    assert.deepEqual(calls, ['ready']);
  });

  it('a foreign store (no fast path): match(context) is asked; a throw, a promise or a non-match answer refuses with UNAVAILABLE REVOCATIONS_UNAVAILABLE; an AuthError it throws is the refusal', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let answer: () => unknown = () => undefined;
    const seen: unknown[] = [];
    const foreign: RevocationStore = {
      match: (token) => (seen.push(token.tokenId), answer() as undefined),
      revoke: async () => undefined,
      unrevoke: async () => false,
    };
    await withServer(idp, { revocations: foreign }, async (echo, auth) => {
      const token = await idp.sign({ sub: 'alice' });
      assert.equal((await unary(echo.client, meta(token))).code, status.OK);
      assert.equal((await unary(echo.client, meta(token))).code, status.OK, 'a cache hit asks too');
      // The first call waited (its verification), so it is asked once more right before admission.
      assert.equal(seen.length, 3);
      assert.equal(auth.status().revocations, undefined, 'no status()');
      const unavailable: Array<[string, () => unknown]> = [
        [
          'throws',
          () => {
            throw new Error('db down');
          },
        ],
        ['promise', () => Promise.resolve(undefined)],
        ['rejected promise', () => Promise.reject(new Error('db down'))],
        ['true', () => true],
        ['null', () => null],
      ];
      for (const [label, misbehave] of unavailable) {
        answer = misbehave;
        const outcome = await unary(echo.client, meta(token));
        assert.equal(outcome.code, status.UNAVAILABLE, label);
        assert.equal(outcome.reason, 'REVOCATIONS_UNAVAILABLE', label);
      }
      answer = () => ({ kind: 'subject', issuer: idp.issuer, forgetAt: new Date() });
      assertRevoked(await unary(echo.client, meta(token)), 'a match');
      answer = () => {
        throw new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', 'mirror expired');
      };
      assert.equal((await unary(echo.client, meta(token))).code, status.UNAVAILABLE);
      answer = () => undefined;
      assert.equal((await unary(echo.client, meta(token))).code, status.OK, 'works again');
    });
  });

  it('status(): a store whose state is expired or empty makes serving false; a throwing or odd status() reads as undefined', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const inner = createMemoryRevocationStore();
    let status: () => unknown = () => inner.status();
    const store: RevocationStore = { ...inner, status: () => status() as ReturnType<typeof inner.status> };
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], revocations: store });
    try {
      assert.equal(auth.status().serving, true);
      for (const state of ['expired', 'empty'] as const) {
        status = () => ({ ...inner.status(), state });
        assert.equal(auth.status().serving, false, state);
        assert.equal(auth.status().revocations?.state, state);
      }
      status = () => ({ ...inner.status(), state: 'stale' });
      assert.equal(auth.status().serving, true, 'stale still serves');
      for (const odd of [
        () => {
          throw new Error('boom');
        },
        () => Promise.resolve(inner.status()),
        () => 'fresh',
        () => ({ state: 'great' }),
      ]) {
        status = odd;
        assert.equal(auth.status().revocations, undefined);
        assert.equal(auth.status().serving, true);
      }
    } finally {
      auth.close();
    }
  });
});
