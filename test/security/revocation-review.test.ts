/**
 * Review attacks on revocations (issue 15, memory store and foreign stores), over real gRPC on loopback
 * where a call is involved: matching boundaries, the verified-token cache and shared verifications,
 * revocations that land while a call is being admitted (async guard, validate, DPoP replay write), open
 * streams, foreign stores, the memory store's admin input, and the docs' promises.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
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
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, bidi, clientStream, outcomeOf, serverStream, unary, type Outcome } from '../support/calls.ts';
import { echoImplementation, startEchoServer, type EchoReply, type EchoServer } from '../support/echo-server.ts';
import { TEST_ORIGIN, makeProof, proofKey } from '../support/dpop-proofs.ts';

const { status, Metadata } = grpc;
const meta = (token: string): grpc.Metadata => bearer(Metadata, token);
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

async function withServer(
  idp: TestIssuer,
  options: Partial<AuthInterceptorOptions>,
  body: (echo: EchoServer, auth: ReturnType<typeof createAuthInterceptor>) => Promise<void>,
  implementation?: (runs: EchoServer['runs']) => grpc.UntypedServiceImplementation,
): Promise<void> {
  const auth = createAuthInterceptor({ keys: idp.keys, algorithms: [idp.alg], ...options } as AuthInterceptorOptions);
  const echo = await startEchoServer({ interceptors: [auth], ...(implementation ? { implementation } : {}) });
  try {
    await body(echo, auth);
  } finally {
    await echo.close();
    auth.close();
  }
}

function assertRevoked(outcome: Outcome, label: string): void {
  assert.equal(outcome.code, status.UNAUTHENTICATED, label);
  assert.equal(outcome.reason, 'TOKEN_REVOKED', label);
}

const isRevoked = (error: unknown): boolean => isAuthError(error) && error.code === 'ERR_AUTH_TOKEN_REVOKED';

/** A server stream held open by the echo server (`hold`), and how it ended. */
function heldServerStream(echo: EchoServer, token: string): { firstReply: Promise<void>; ended: Promise<Outcome>; cancel(): void } {
  const replies: EchoReply[] = [];
  const first = gate();
  const call = echo.client.ServerStream({ text: 'hold' }, meta(token), { deadline: Date.now() + 20_000 });
  const ended = new Promise<Outcome>((resolve) => {
    call.on('data', (reply: EchoReply) => {
      replies.push(reply);
      first.open();
    });
    call.on('error', (error: grpc.ServiceError) => resolve(outcomeOf(error, replies)));
    call.on('status', (end: grpc.StatusObject) => {
      if (end.code === status.OK) resolve(outcomeOf(null, replies));
    });
  });
  return { firstReply: first.promise, ended, cancel: () => call.cancel() };
}

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
    await assert.rejects(auth.authenticate(await idp.sign({ sub: 123 }), METHOD), (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_CLAIM_INVALID');
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
    const answers = Array.from({ length: 5 }, () => auth.authenticate(token, METHOD).then(() => 'admitted', (error: unknown) => (isRevoked(error) ? 'revoked' : String(error))));
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
});
