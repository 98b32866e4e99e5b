/**
 * Review attacks on revocations (issue 15, memory store and foreign stores), over real gRPC on loopback
 * where a call is involved: matching boundaries, the verified-token cache and shared verifications,
 * revocations that land while a call is being admitted (async guard, validate, DPoP replay write), open
 * streams, foreign stores, the memory store's admin input, and the docs' promises.
 *
 * Ported behaviours (our own code): Keycloak not-before (AuthenticationManager `iat < notBefore`; the
 * higher of the user's and the client's watermark decides), oidc-provider replay_detection (a jti is
 * unique per issuer: the same jti from two issuers is two tokens).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthError,
  createAuthInterceptor,
  createAuthenticator,
  createMemoryRevocationStore,
  getAuth,
  isAuthError,
  revocationOf,
  type AuthInterceptorOptions,
  type KeyResolver,
  type RejectedEvent,
  type ReplayStore,
  type RevocationEvent,
  type RevocationStore,
} from '../../src/index.ts';
import { diagnose } from '../../src/cli/diagnose.ts';
import { hasLookupMatch } from '../../src/stores/revocation-keys.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { outcomeOf, serverStream, unary, type Outcome } from '../support/calls.ts';
import { echoImplementation, startEchoServer, type EchoReply, type EchoServer } from '../support/echo-server.ts';
import { TEST_ORIGIN, makeProof, proofKey } from '../support/dpop-proofs.ts';
import { assertRevoked, heldServerStream, meta, withServer } from '../support/revocation-calls.ts';

const { status, Metadata } = grpc;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const METHOD = '/test.echo.v1.Echo/Unary';
const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The order of the P-256 group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The same ES256 token with its signature (r, s) respelt (r, n − s): genuine, verifies, another text. */
function respelt(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), flipped]).toString('base64url')}`;
}

/** A promise and the function that settles it: the tests' gates. */
function gate(): { promise: Promise<void>; open(): void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const isRevoked = (error: unknown): boolean => isAuthError(error) && error.code === 'ERR_AUTH_TOKEN_REVOKED';

/** Whether `ended` is still pending after `ms`. */
async function stillOpen(ended: Promise<unknown>, ms = 150): Promise<boolean> {
  return (await Promise.race([ended.then(() => false), tick(ms).then(() => true)])) as boolean;
}

/** A memory store that counts its listeners. */
function countingStore(): { store: RevocationStore; listeners: () => number } {
  const inner = createMemoryRevocationStore();
  let listeners = 0;
  const store: RevocationStore = {
    ...inner,
    subscribe(listener) {
      listeners++;
      const stop = inner.subscribe(listener);
      let stopped = false;
      return () => {
        if (!stopped) listeners--;
        stopped = true;
        stop();
      };
    },
  };
  return { store, listeners: () => listeners };
}

describe('revocation review: matching boundaries (createAuthenticator, no gRPC)', { timeout: 30_000 }, () => {
  it('iat exactly at before is admitted, a millisecond earlier (fractional iat) refused; before is compared in ms', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
    const iat = nowSeconds() - 60;
    const atBefore = await idp.sign({ sub: 'alice' }, { issuedAt: iat });
    const justBefore = await idp.sign({ sub: 'bob' }, { issuedAt: iat - 0.001 });
    await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice', before: new Date(iat * 1000) });
    await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'bob', before: new Date(iat * 1000) });
    await auth.authenticate(atBefore, METHOD);
    await assert.rejects(auth.authenticate(justBefore, METHOD), isRevoked);
    auth.close();
  });

  it('tokens without iss: a revocation for issuer "" matches them, one for a named issuer does not; a trailing slash is another issuer', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
    const noIss = await idp.sign({ iss: undefined, sub: 'alice', jti: 'n-1' });
    const slash = await idp.sign({ iss: 'https://idp.example', sub: 'carol', jti: 'n-2' });
    await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
    await auth.revocations.revoke({ kind: 'token', issuer: 'https://idp.example/', jti: 'n-2' });
    await auth.authenticate(noIss, METHOD);
    await auth.authenticate(slash, METHOD);
    await auth.revocations.revoke({ kind: 'token', issuer: '', jti: 'n-1' });
    await assert.rejects(auth.authenticate(noIss, METHOD), isRevoked);
    await auth.revocations.revoke({ kind: 'token', issuer: 'https://idp.example', jti: 'n-2' });
    await assert.rejects(auth.authenticate(slash, METHOD), isRevoked);
    auth.close();
  });

  it('azp wins over client_id; a non-string azp falls back to client_id, as TokenFacts.clientId does; a non-string sub is refused by verification', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
    const both = await idp.sign({ azp: 'web', client_id: 'cli' });
    const arrayAzp = await idp.sign({ azp: ['web'], client_id: 'cli' });
    await auth.revocations.revoke({ kind: 'client', issuer: idp.issuer, clientId: 'cli' });
    await auth.authenticate(both, METHOD);
    await assert.rejects(auth.authenticate(arrayAzp, METHOD), isRevoked);
    await auth.revocations.revoke({ kind: 'client', issuer: idp.issuer, clientId: 'web' });
    await assert.rejects(auth.authenticate(both, METHOD), isRevoked);
    // A numeric sub never reaches the lookup: verification refuses its type.
    await assert.rejects(
      auth.authenticate(await idp.sign({ sub: 123 }), METHOD),
      (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_CLAIM_INVALID',
    );
    auth.close();
  });

  it('ECDSA malleability: a token revoked by tokenId, or by iss + jti, is refused in its respelt (r, n − s) spelling too, cached or not', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
    const token = await idp.sign({ sub: 'alice' });
    const twin = respelt(token);
    const { context } = await auth.authenticate(token, METHOD);
    assert.equal((await auth.authenticate(twin, METHOD)).context.tokenId, context.tokenId, 'both verify, one identity');
    await auth.revocations.revoke(revocationOf(context));
    await assert.rejects(auth.authenticate(twin, METHOD), isRevoked);
    await assert.rejects(auth.authenticate(respelt(twin), METHOD), isRevoked);
    const withJti = await idp.sign({ sub: 'alice', jti: 'm-1' });
    await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'm-1' });
    await assert.rejects(auth.authenticate(respelt(withJti), METHOD), isRevoked);
    auth.close();
  });

  it('jti "" cannot be revoked by jti (refused as admin input); revocationOf names such a token by its tokenId, which refuses it', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
    const token = await idp.sign({ jti: '' });
    const { context } = await auth.authenticate(token, METHOD);
    await assert.rejects(auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: '' }), TypeError);
    const revocation = revocationOf(context);
    assert.ok('tokenId' in revocation);
    await auth.revocations.revoke(revocation);
    await assert.rejects(auth.authenticate(token, METHOD), isRevoked);
    auth.close();
  });

  it('oidc-provider: the same jti from two issuers is two tokens (issuers option)', async () => {
    const a = await createTestIssuer({ alg: 'ES256', issuer: 'https://a.example/' });
    const b = await createTestIssuer({ alg: 'ES256', issuer: 'https://b.example/' });
    const auth = createAuthenticator({
      issuers: [
        { issuer: a.issuer, keys: a.keys, algorithms: ['ES256'] },
        { issuer: b.issuer, keys: b.keys, algorithms: ['ES256'] },
      ],
    });
    await auth.revocations.revoke({ kind: 'token', issuer: b.issuer, jti: 'same' });
    await auth.authenticate(await a.sign({ jti: 'same' }), METHOD);
    await assert.rejects(auth.authenticate(await b.sign({ jti: 'same' }), METHOD), isRevoked);
    auth.close();
  });
});

describe('revocation review: cache, shared verifications, entry expiry', { timeout: 30_000 }, () => {
  it('revoked while its verification is in flight: the first caller and every joiner are refused', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const held = gate();
    const asked = gate();
    const keys: KeyResolver = {
      kind: idp.keys.kind,
      description: 'gated',
      checkAlgorithms: (algorithms, option) => idp.keys.checkAlgorithms(algorithms, option),
      holds: (key) => idp.keys.holds(key),
      async getKeys(lookup) {
        asked.open();
        await held.promise;
        return idp.keys.getKeys(lookup);
      },
    };
    const auth = createAuthenticator({ keys, algorithms: ['ES256'] });
    const token = await idp.sign({ sub: 'alice', jti: 'f-1' });
    const answers = Array.from({ length: 5 }, () =>
      auth.authenticate(token, METHOD).then(
        () => 'admitted',
        (error: unknown) => (isRevoked(error) ? 'revoked' : String(error)),
      ),
    );
    await asked.promise;
    await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'f-1' });
    held.open();
    assert.deepEqual(await Promise.all(answers), Array(5).fill('revoked'));
    await auth.revocations.unrevoke({ kind: 'token', issuer: idp.issuer, jti: 'f-1' });
    await auth.authenticate(token, METHOD);
    auth.close();
  });

  it('an entry is forgotten only when no verifier could admit its token (clockTolerance 300, fake clock)', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    let at = Date.now();
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'], clockTolerance: 300, clock: () => at });
    const token = await idp.sign({ sub: 'alice', jti: 'e-1' }, { expiresIn: 600 });
    const { context } = await auth.authenticate(token, METHOD);
    await auth.revocations.revoke(revocationOf(context));
    const exp = context.claims.exp as number;
    for (const instant of [at, (exp + 299) * 1000, (exp + 300) * 1000 - 1]) {
      at = instant;
      await assert.rejects(auth.authenticate(token, METHOD), isRevoked, `at exp + ${instant / 1000 - exp} s`);
    }
    at = (exp + 300) * 1000;
    await assert.rejects(auth.authenticate(token, METHOD), (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_TOKEN_EXPIRED');
    auth.close();
  });

  it('requireExp false: a token that never expires, revoked with revocationOf, stays refused after maxTokenLifetime has passed', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    let offset = 0;
    const clock = (): number => Date.now() + offset;
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'], requireExp: false, clockTolerance: 300, clock });
    const token = await idp.sign({ sub: 'batch', jti: 'forever', exp: undefined });
    const { context } = await auth.authenticate(token, METHOD);
    await auth.revocations.revoke(revocationOf(context));
    await assert.rejects(auth.authenticate(token, METHOD), isRevoked);
    offset = 2 * 86_400_000;
    await assert.rejects(auth.authenticate(token, METHOD), isRevoked, 'two days later (maxTokenLifetime is one)');
    auth.close();
  });
});

describe('revocation review: revoked while the call is being admitted', { timeout: 30_000 }, () => {
  it('unary: revoked while an async guard runs → TOKEN_REVOKED, the handler never runs', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const guarding = gate();
    const release = gate();
    const rules = {
      '/test.echo.v1.Echo/*': async () => {
        guarding.open();
        await release.promise;
        return true;
      },
    };
    await withServer(idp, { rules }, async (echo, auth) => {
      const token = await idp.sign({ sub: 'alice' });
      const call = unary(echo.client, meta(token));
      await guarding.promise;
      await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      release.open();
      assertRevoked(await call, 'admitted after revoke() resolved');
      assert.equal(echo.runs.unary, 0);
    });
  });

  it('server stream: revoked while an async validate hook runs → refused, never left open with a revoked token', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const validating = gate();
    const release = gate();
    const validate = async (): Promise<boolean> => {
      validating.open();
      await release.promise;
      return true;
    };
    await withServer(idp, { validate }, async (echo, auth) => {
      const token = await idp.sign({ sub: 'alice' });
      const stream = heldServerStream(echo, token);
      await validating.promise;
      await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      release.open();
      const ended = await Promise.race([stream.ended, tick(2000).then(() => undefined)]);
      if (ended === undefined) stream.cancel();
      assert.ok(ended !== undefined, 'the stream stayed open with a revoked token');
      assertRevoked(ended, 'stream');
    });
  });

  it('DPoP: revoked while the replay store write is pending → TOKEN_REVOKED', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const key = await proofKey('ES256');
    const writing = gate();
    const release = gate();
    const replayStore: ReplayStore = {
      add: async () => {
        writing.open();
        await release.promise;
        return true;
      },
    };
    await withServer(idp, { dpop: { origins: [TEST_ORIGIN] }, replayStore }, async (echo, auth) => {
      const token = await idp.sign({ sub: 'alice', cnf: { jkt: key.jkt } });
      const metadata = new Metadata();
      metadata.set('authorization', `DPoP ${token}`);
      metadata.set('dpop', await makeProof(key, { path: METHOD, accessToken: token }));
      const call = unary(echo.client, metadata);
      await writing.promise;
      await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      release.open();
      assertRevoked(await call, 'DPoP call');
    });
  });
  it('createAuthenticator (no gRPC): revoked while an async validate hook runs → rejects TOKEN_REVOKED', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const validating = gate();
    const release = gate();
    const validate = async (): Promise<boolean> => {
      validating.open();
      await release.promise;
      return true;
    };
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'], validate });
    const token = await idp.sign({ sub: 'alice' });
    const answer = auth.authenticate(token, METHOD);
    await validating.promise;
    await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
    release.open();
    await assert.rejects(answer, isRevoked, 'admitted after revoke() resolved');
    auth.close();
  });
});

describe('revocation review: open streams', { timeout: 60_000 }, () => {
  it('client-streaming and bidi streams end TOKEN_REVOKED (status and ErrorInfo in trailers); a handler writing on after that crashes nothing', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const { store, listeners } = countingStore();
    const lateWrites: string[] = [];
    const implementation = (runs: EchoServer['runs']): grpc.UntypedServiceImplementation => ({
      ...echoImplementation(runs),
      Bidi(call: grpc.ServerDuplexStream<{ text: string }, EchoReply>) {
        runs.bidi += 1;
        call.on('data', () => {
          call.write({ text: 'first', subject: '', scopes: [], count: 0 });
          // Keeps writing (and finally ends) whatever happened to the call meanwhile.
          const writer = setInterval(() => {
            try {
              call.write({ text: 'late', subject: '', scopes: [], count: 0 });
            } catch (error) {
              lateWrites.push(String(error));
            }
          }, 5);
          setTimeout(() => {
            clearInterval(writer);
            try {
              call.end();
            } catch (error) {
              lateWrites.push(String(error));
            }
          }, 400);
        });
      },
    });
    await withServer(
      idp,
      { revocations: store },
      async (echo) => {
        const token = await idp.sign({ sub: 'alice', azp: 'web' });
        const upload = new Promise<Outcome>((resolve) => {
          const call = echo.client.ClientStream(meta(token), (error: grpc.ServiceError | null) => resolve(outcomeOf(error, [])));
          call.write({ text: 'a' });
        });
        const duplex = echo.client.Bidi(meta(token), { deadline: Date.now() + 20_000 });
        const chat = new Promise<Outcome>((resolve) => {
          duplex.on('data', () => undefined);
          duplex.on('error', (error: grpc.ServiceError) => resolve(outcomeOf(error, [])));
        });
        duplex.write({ text: 'x' });
        await new Promise<void>((resolve) => duplex.once('data', () => resolve()));
        while (listeners() === 0 || echo.runs.clientStream === 0) await tick(5);
        await store.revoke({ kind: 'client', issuer: idp.issuer, clientId: 'web' });
        for (const [label, outcome] of [
          ['client stream', await upload],
          ['bidi', await chat],
        ] as const) {
          assertRevoked(outcome, label);
          assert.equal(outcome.details, 'token revoked', label);
        }
        await tick(500);
        assert.equal(listeners(), 0, 'no listener left');
        assert.equal((await unary(echo.client, meta(await idp.sign({ sub: 'bob' })))).code, status.OK, 'the server still serves');
      },
      implementation,
    );
  });

  it('1,000 open streams and one subject revocation: all end TOKEN_REVOKED, another subject’s stream stays open, no listener left; unrevoke resurrects nothing', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const { store, listeners } = countingStore();
    await withServer(idp, { revocations: store }, async (echo) => {
      const token = await idp.sign({ sub: 'alice' });
      const bob = heldServerStream(echo, await idp.sign({ sub: 'bob' }));
      await bob.firstReply;
      const streams = Array.from({ length: 1000 }, () => {
        const call = echo.client.Bidi(meta(token), { deadline: Date.now() + 30_000 });
        const replied = new Promise<void>((resolve) => call.once('data', () => resolve()));
        const ended = new Promise<Outcome>((resolve) => {
          call.on('data', () => undefined);
          call.on('error', (error: grpc.ServiceError) => resolve(outcomeOf(error, [])));
          call.on('status', (end: grpc.StatusObject) => end.code === status.OK && resolve(outcomeOf(null, [])));
        });
        call.write({ text: 'x' });
        return { replied, ended };
      });
      await Promise.all(streams.map((stream) => stream.replied));
      assert.equal(listeners(), 1, 'one subscription for all streams');
      await store.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      const outcomes = await Promise.all(streams.map((stream) => stream.ended));
      assert.deepEqual(new Set(outcomes.map((outcome) => `${outcome.code} ${outcome.reason}`)), new Set([`${status.UNAUTHENTICATED} TOKEN_REVOKED`]));
      assert.ok(await stillOpen(bob.ended), 'bob’s stream is untouched');
      assert.equal(listeners(), 1, 'bob’s stream still listens');
      await store.unrevoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      assert.equal((await serverStream(echo.client, meta(token))).code, status.OK, 'a new call is admitted again');
      bob.cancel();
      await bob.ended;
      await tick(50);
      assert.equal(listeners(), 0, 'every stream unsubscribed');
    });
  });

  it('a bidi handler that revokes its own caller (logout) ends its own stream TOKEN_REVOKED, outside revoke(); its reply after that crashes nothing', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const store = createMemoryRevocationStore();
    const implementation = (runs: EchoServer['runs']): grpc.UntypedServiceImplementation => ({
      ...echoImplementation(runs),
      Bidi(call: grpc.ServerDuplexStream<{ text: string }, EchoReply>) {
        call.on('data', (message: { text: string }) => {
          if (message.text !== 'logout') return call.write({ text: message.text, subject: '', scopes: [], count: 0 });
          store.revoke(revocationOf(getAuth(call))).then(
            () => call.write({ text: 'bye', subject: '', scopes: [], count: 0 }),
            (error: unknown) => call.destroy(error as Error),
          );
        });
      },
    });
    await withServer(
      idp,
      { revocations: store },
      async (echo) => {
        const token = await idp.sign({ sub: 'alice', jti: 'l-1' });
        const call = echo.client.Bidi(meta(token), { deadline: Date.now() + 10_000 });
        const ended = new Promise<Outcome>((resolve) => {
          call.on('data', () => undefined);
          call.on('error', (error: grpc.ServiceError) => resolve(outcomeOf(error, [])));
        });
        call.write({ text: 'hello' });
        await new Promise<void>((resolve) => call.once('data', () => resolve()));
        call.write({ text: 'logout' });
        assertRevoked(await ended, 'own stream');
        assertRevoked(await unary(echo.client, meta(token)), 'next call');
      },
      implementation,
    );
  });

  it('auth.close() with open streams: no throw, the store loses its listener, the streams end by themselves', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const { store, listeners } = countingStore();
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], revocations: store });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const held = heldServerStream(echo, await idp.sign({ sub: 'alice' }));
      await held.firstReply;
      assert.equal(listeners(), 1);
      auth.close();
      assert.equal(listeners(), 0);
      await store.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      held.cancel();
      assert.equal((await held.ended).code, status.CANCELLED);
    } finally {
      await echo.close();
    }
  });

  it('one store given to two interceptors: a revocation refuses on both and ends the streams of both; each unsubscribes', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const { store, listeners } = countingStore();
    await withServer(idp, { revocations: store }, async (first) => {
      await withServer(idp, { revocations: store }, async (second) => {
        const token = await idp.sign({ sub: 'alice', jti: 'two' });
        const a = heldServerStream(first, token);
        const b = heldServerStream(second, token);
        await Promise.all([a.firstReply, b.firstReply]);
        assert.equal(listeners(), 2);
        await store.revoke({ kind: 'token', issuer: idp.issuer, jti: 'two' });
        assertRevoked(await a.ended, 'first');
        assertRevoked(await b.ended, 'second');
        assertRevoked(await unary(second.client, meta(token)), 'second, unary');
        await tick(50);
        assert.equal(listeners(), 0);
      });
    });
  });
});

describe('revocation review: foreign stores', { timeout: 30_000 }, () => {
  const base = (): RevocationStore => ({ match: () => undefined, revoke: async () => undefined, unrevoke: async () => false });

  it('match answering a number or throwing a string → UNAVAILABLE REVOCATIONS_UNAVAILABLE; a match whose getters throw → TOKEN_REVOKED', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    let answer: () => unknown = () => 7;
    const store: RevocationStore = { ...base(), match: () => answer() as undefined };
    await withServer(idp, { revocations: store }, async (echo) => {
      const token = await idp.sign({ sub: 'alice' });
      for (const odd of [
        () => 7,
        () => {
          throw 'db down';
        },
      ]) {
        answer = odd;
        const outcome = await unary(echo.client, meta(token));
        assert.deepEqual([outcome.code, outcome.reason], [status.UNAVAILABLE, 'REVOCATIONS_UNAVAILABLE']);
      }
      answer = () =>
        Object.defineProperty({}, 'kind', {
          get() {
            throw new Error('getter');
          },
          enumerable: true,
        });
      assertRevoked(await unary(echo.client, meta(token)), 'a match with hostile getters still refuses');
    });
  });

  it('subscribe missing, throwing, or returning a non-function: admission still checks, streams open and end without a crash; no ready(): auth.ready() resolves', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const variants: Array<[string, Partial<RevocationStore>]> = [
      ['missing', {}],
      [
        'throws',
        {
          subscribe: () => {
            throw new Error('no events');
          },
        },
      ],
      ['returns a non-function', { subscribe: () => 42 as never }],
    ];
    for (const [label, extra] of variants) {
      const revoked = new Set<string>();
      const store: RevocationStore = {
        match: (token) => (revoked.has(token.claims.sub as string) ? { kind: 'subject', issuer: '', forgetAt: new Date(Date.now() + 60_000) } : undefined),
        revoke: async () => undefined,
        unrevoke: async () => false,
        ...extra,
      };
      await withServer(idp, { revocations: store }, async (echo, auth) => {
        await auth.ready();
        const held = heldServerStream(echo, await idp.sign({ sub: 'alice' }));
        await held.firstReply;
        revoked.add('alice');
        assertRevoked(await unary(echo.client, meta(await idp.sign({ sub: 'alice' }))), label);
        held.cancel();
        assert.equal((await held.ended).code, status.CANCELLED, label);
      });
    }
  });

  it('a store emitting malformed events (undefined, a getter that throws): nothing throws into the store; a later revoked event still ends streams', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const inner = createMemoryRevocationStore();
    const listeners = new Set<(event: RevocationEvent) => void>();
    const thrown: unknown[] = [];
    const emit = (event: unknown): void => {
      for (const listener of listeners) {
        try {
          listener(event as RevocationEvent);
        } catch (error) {
          thrown.push(error);
        }
      }
    };
    const store: RevocationStore = {
      match: (token) => inner.match(token),
      revoke: async (revocation) => {
        await inner.revoke(revocation);
        emit({ type: 'revoked' });
      },
      unrevoke: (target) => inner.unrevoke(target),
      subscribe(listener) {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    };
    await withServer(idp, { revocations: store }, async (echo) => {
      const held = heldServerStream(echo, await idp.sign({ sub: 'alice' }));
      await held.firstReply;
      emit(undefined);
      emit(null);
      emit(
        Object.defineProperty({}, 'type', {
          get() {
            throw new Error('getter');
          },
        }),
      );
      await store.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      const ended = await Promise.race([held.ended, tick(2000).then(() => undefined)]);
      if (ended === undefined) held.cancel();
      assert.deepEqual(thrown, [], 'the interceptor’s listener threw into the store');
      assert.ok(ended !== undefined, 'the stream stayed open');
      assertRevoked(ended, 'stream');
    });
  });
});

describe('revocation review: memory store admin input', { timeout: 30_000 }, () => {
  const token = (claims: Record<string, unknown>, tokenId = 'tid') => ({ claims: { iss: 'https://idp.example/', ...claims }, tokenId });
  const ISS = 'https://idp.example/';

  it('maxEntries: the revocation past it is refused (REVOCATIONS_UNAVAILABLE), nothing evicted; merging a known target still works', async () => {
    const store = createMemoryRevocationStore({ maxEntries: 2 });
    await store.revoke({ kind: 'token', issuer: ISS, jti: 'a' });
    await store.revoke({ kind: 'subject', issuer: ISS, subject: 'alice' });
    await assert.rejects(
      store.revoke({ kind: 'token', issuer: ISS, jti: 'c' }),
      (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
    );
    await store.revoke({ kind: 'token', issuer: ISS, jti: 'a', expiresAt: new Date(Date.now() + 7 * 86_400_000) });
    assert.equal(store.match(token({ jti: 'a' }))?.kind, 'token');
    assert.equal(store.match(token({ sub: 'alice' }))?.kind, 'subject');
    assert.equal(store.status().entries, 2);
  });

  it('bad instants are refused and leave the store unchanged: Invalid Date, a Date whose getTime throws, a Proxy of a Date, out of range', async () => {
    const store = createMemoryRevocationStore();
    class Hostile extends Date {
      override getTime(): number {
        throw new Error('hostile');
      }
    }
    for (const before of [new Date(Number.NaN), new Hostile(), new Proxy(new Date(), {}), new Date(-1), new Date('+010000-01-01T00:00:00Z'), 0 as never]) {
      await assert.rejects(store.revoke({ kind: 'subject', issuer: ISS, subject: 'alice', before }));
    }
    assert.equal(store.status().entries, 0);
    await store.revoke({ kind: 'subject', issuer: ISS, subject: 'alice', before: new Date('9999-12-31T23:59:59.999Z') });
    assert.equal(store.match(token({ sub: 'alice', iat: 4_000_000_000 }))?.kind, 'subject', 'a far-future watermark bans every token');
  });

  it('prototype pollution: an inherited kind, before or expiresAt is not read (a logout everywhere stays "before now", a token entry its own length)', async (t) => {
    const store = createMemoryRevocationStore();
    const proto = Object.prototype as Record<string, unknown>;
    t.after(() => {
      delete proto.kind;
      delete proto.before;
      delete proto.expiresAt;
    });
    proto.before = new Date(0);
    proto.expiresAt = new Date(1000);
    await store.revoke({ kind: 'subject', issuer: ISS, subject: 'alice' });
    await store.revoke({ kind: 'token', issuer: ISS, jti: 'p-1' });
    delete proto.before;
    delete proto.expiresAt;
    assert.equal(store.match(token({ sub: 'alice', iat: Math.floor(Date.now() / 1000) - 5 }))?.kind, 'subject', 'the watermark is now, not 1970');
    assert.equal(store.match(token({ jti: 'p-1' }))?.kind, 'token', 'the token entry was not forgotten in 1970');
    proto.kind = 'token';
    await assert.rejects(store.revoke({ issuer: ISS, jti: 'p-2' } as never), TypeError);
  });

  it('__proto__ and JSON-looking issuers/ids are plain keys; a Proxy revocation is judged by its own fields; unrevoke of a target never revoked is false', async () => {
    const store = createMemoryRevocationStore();
    await store.revoke({ kind: 'token', issuer: '__proto__', jti: '__proto__' });
    await store.revoke(new Proxy({ kind: 'subject', issuer: ISS, subject: 'constructor' }, {}) as never);
    assert.equal(store.match(token({ iss: '__proto__', jti: '__proto__' }))?.kind, 'token');
    assert.equal(store.match(token({ iss: '__proto__', jti: 'other' })), undefined);
    assert.equal(store.match(token({ sub: 'constructor' }))?.kind, 'subject');
    assert.equal(store.match(token({ sub: 'toString' })), undefined);
    assert.equal(await store.unrevoke({ kind: 'client', issuer: ISS, clientId: 'never' }), false);
    assert.equal(store.status().entries, 2);
  });

  it('events are frozen copies; a throwing listener breaks neither revoke() nor the next listener', async () => {
    const store = createMemoryRevocationStore();
    const seen: RevocationEvent[] = [];
    store.subscribe(() => {
      throw new Error('listener bug');
    });
    store.subscribe((event) => {
      if (event.type === 'revoked') event.entry.forgetAt.setTime(0);
    });
    store.subscribe((event) => seen.push(event));
    await store.revoke({ kind: 'subject', issuer: ISS, subject: 'alice' });
    const [event] = seen;
    assert.ok(event?.type === 'revoked');
    assert.ok(Object.isFrozen(event) && Object.isFrozen(event.entry) && Object.isFrozen(event.entry.target));
    assert.ok(event.entry.forgetAt.getTime() > Date.now(), 'another listener changed its own copy only');
    assert.ok(store.match(token({ sub: 'alice' })));
  });
});

describe('revocation review: order, cost, wire, docs', { timeout: 30_000 }, () => {
  it('a revoked DPoP-bound token on a cache miss burns no replay write, runs no validate or guard; the wire says only "token revoked", the event carries no token', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const key = await proofKey('ES256');
    let writes = 0;
    let hooks = 0;
    const rejected: RejectedEvent[] = [];
    const replayStore: ReplayStore = { add: () => (writes++, true) };
    const options: Partial<AuthInterceptorOptions> = {
      dpop: { origins: [TEST_ORIGIN] },
      replayStore,
      cache: false,
      validate: () => (hooks++, true),
      rules: { '/test.echo.v1.Echo/*': () => (hooks++, true) },
      onRejected: (event) => rejected.push(event),
    };
    await withServer(idp, options, async (echo, auth) => {
      const token = await idp.sign({ sub: 'alice', jti: 'w-1', cnf: { jkt: key.jkt } });
      await auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: 'w-1' });
      const metadata = new Metadata();
      metadata.set('authorization', `DPoP ${token}`);
      metadata.set('dpop', await makeProof(key, { path: METHOD, accessToken: token }));
      const outcome = await unary(echo.client, metadata);
      assertRevoked(outcome, 'DPoP');
      assert.equal(outcome.details, 'token revoked');
      assert.deepEqual([writes, hooks], [0, 0]);
      const wire = JSON.stringify(outcome);
      for (const secret of [token, token.split('.')[2] as string, 'w-1', 'alice']) assert.ok(!wire.includes(secret), 'nothing of the token on the wire');
      assert.equal(rejected[0]?.error.code, 'ERR_AUTH_TOKEN_REVOKED');
      assert.ok(!JSON.stringify(rejected[0]?.error.message).includes(token.split('.')[2] as string));
    });
  });

  it('CLI diagnose names the two codes with an action (including the in-process API, not only the Redis CLI)', () => {
    const input = (code: 'ERR_AUTH_TOKEN_REVOKED' | 'ERR_AUTH_REVOCATIONS_UNAVAILABLE') => ({ error: new AuthError(code, 'x') }) as never;
    const revoked = diagnose(input('ERR_AUTH_TOKEN_REVOKED'));
    assert.equal(revoked.check, 'revocations');
    assert.match(revoked.fix, /revocations\.unrevoke|unrevoke\(/);
    const unavailable = diagnose(input('ERR_AUTH_REVOCATIONS_UNAVAILABLE'));
    assert.match(unavailable.fix, /store of your own|your own store/);
  });
});

describe('revocation review: the memory store clock', { timeout: 30_000 }, () => {
  it('a store clock that turns NaN refuses the call (INTERNAL), never admits a revoked token; a clock in seconds is refused at revoke', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    let reading: () => number = Date.now;
    const store = createMemoryRevocationStore({ clock: () => reading() });
    await withServer(idp, { revocations: store }, async (echo) => {
      const token = await idp.sign({ sub: 'alice' });
      await store.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      assertRevoked(await unary(echo.client, meta(token)), 'good clock');
      reading = () => Number.NaN;
      const outcome = await unary(echo.client, meta(token));
      assert.notEqual(outcome.code, status.OK, 'a NaN clock admitted a revoked token');
    });
    const seconds = createMemoryRevocationStore({ clock: () => Date.now() / 1000 });
    // A "logout everywhere" before 1970-01-20 (the seconds read as ms) would revoke nothing.
    await assert.rejects(seconds.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' }), (error: unknown) => isAuthError(error));
  });
});

describe('revocation review: a store wrapping the memory store', { timeout: 30_000 }, () => {
  it('{ ...memoryStore, match } — the wrapper’s own match is what decides, not the spread-in fast path', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const inner = createMemoryRevocationStore();
    const banned = new Set(['mallory']);
    // A user adds a list of their own in front of the memory store.
    const store: RevocationStore = {
      ...inner,
      match: (token) =>
        banned.has(token.claims.sub as string) ? { kind: 'subject', issuer: '', forgetAt: new Date(Date.now() + 60_000) } : inner.match(token),
    };
    await withServer(idp, { revocations: store }, async (echo) => {
      assertRevoked(await unary(echo.client, meta(await idp.sign({ sub: 'mallory' }))), 'the wrapper’s list');
      await inner.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
      assertRevoked(await unary(echo.client, meta(await idp.sign({ sub: 'alice' }, { issuedAt: nowSeconds() - 5 }))), 'the inner list');
      assert.equal((await unary(echo.client, meta(await idp.sign({ sub: 'bob' })))).code, status.OK);
    });
    // The store itself keeps its fast path (the cached-token cost); a spread copy has none.
    assert.ok(hasLookupMatch(inner));
    assert.ok(!hasLookupMatch({ ...inner }));
  });
});

describe('revocation review: ported watermarks', { timeout: 30_000 }, () => {
  it('Keycloak not-before: a later watermark wins a merge (an earlier one never lowers it); subject and client watermarks both apply, the higher decides', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
    const t = nowSeconds();
    const older = await idp.sign({ sub: 'alice', azp: 'web' }, { issuedAt: t - 300 });
    const middle = await idp.sign({ sub: 'alice', azp: 'web' }, { issuedAt: t - 100 });
    const newer = await idp.sign({ sub: 'alice', azp: 'web' }, { issuedAt: t - 10 });
    await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice', before: new Date((t - 50) * 1000) });
    await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice', before: new Date((t - 200) * 1000) });
    await assert.rejects(auth.authenticate(middle, METHOD), isRevoked, 'the later watermark kept');
    await auth.authenticate(newer, METHOD);
    await auth.revocations.unrevoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice' });
    await auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice', before: new Date((t - 200) * 1000) });
    await auth.revocations.revoke({ kind: 'client', issuer: idp.issuer, clientId: 'web', before: new Date((t - 50) * 1000) });
    await assert.rejects(auth.authenticate(older, METHOD), isRevoked);
    await assert.rejects(auth.authenticate(middle, METHOD), isRevoked, 'the client watermark is the higher one');
    await auth.authenticate(newer, METHOD);
    auth.close();
  });

  it('a watermark outlives every token it revokes whose lifetime is within maxTokenLifetime (clockTolerance 300, fake clock)', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    let at = Date.now();
    const store = createMemoryRevocationStore({ maxTokenLifetime: 3600, clock: () => at });
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'], clockTolerance: 300, clock: () => at, revocations: store });
    const iat = nowSeconds() - 1;
    const token = await idp.sign({ sub: 'alice' }, { issuedAt: iat, expiresIn: 3600 });
    await store.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice', before: new Date((iat + 1) * 1000) });
    at = (iat + 3600 + 300) * 1000 - 1;
    await assert.rejects(auth.authenticate(token, METHOD), isRevoked, 'the last admissible millisecond');
    at += 1;
    await assert.rejects(auth.authenticate(token, METHOD), (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_TOKEN_EXPIRED');
    auth.close();
  });
});
