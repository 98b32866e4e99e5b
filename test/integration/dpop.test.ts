/**
 * DPoP (RFC 9449) on real gRPC calls: a grpc-js server on 127.0.0.1:0 with the auth interceptor and
 * `dpop`, plain grpc-js clients sending `authorization: DPoP <token>` and a `dpop` proof built by
 * test/support/dpop-proofs.ts. Plaintext: DPoP is application-level, TLS changes nothing about it. Both
 * sides use the logical origin https://orders.test, whatever port the server listens on.
 *
 * Cases after the peers (our own code; their behaviours):
 * - auth0/node-oauth2-jwt-bearer packages/access-token-jwt/test/dpop-verifier.test.ts, commit 8701dab,
 *   `assertDPoPRequest`: mixed-case DPoP scheme, Bearer scheme, missing / multiple proofs, cnf and jkt
 *   missing or malformed, extra cnf members pass.
 * - panva/node-oidc-provider test/dpop/dpop.test.js, commit b95c2944, userinfo: "validates the way DPoP
 *   proof JWT is provided" (bound token as Bearer → invalid_token with a DPoP challenge and algs; DPoP
 *   without a proof → invalid_request; Bearer with a proof → invalid_request), "doesn't allow Bearer
 *   tokens to be passed with DPoP scheme", "required nonce", "invalid nonce", "rejects a replay before
 *   repeating the token binding check".
 * - spring-projects/spring-security DPoPAuthenticationProviderTests (commit d449950b36): ath missing /
 *   mismatch, jkt mismatch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthConfigError,
  createAuthInterceptor,
  createAuthenticator,
  getAuth,
  isAuthError,
  requireScopes,
  type AuthenticatedEvent,
  type AuthInterceptorOptions,
  type ReplayStore,
} from '../../src/index.ts';
import { decodeErrorInfo } from '../../src/client/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { echoImplementation, startEchoServer, METHODS, type EchoReply, type EchoServer, type HandlerRuns } from '../support/echo-server.ts';
import { makeProof, proofKey, TEST_ORIGIN, type ProofKey, type ProofOverrides } from '../support/dpop-proofs.ts';

type Client = grpc.Client & Record<string, any>;
type Kind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

/** How a call ended, with the DPoP parts of its response. */
interface Result {
  readonly code: number;
  readonly reason: string | undefined;
  /** Every `www-authenticate` trailer value. */
  readonly challenges: readonly string[];
  /** `dpop-nonce` in the trailers, and in the response headers. */
  readonly trailerNonce: string | undefined;
  readonly headerNonce: string | undefined;
  /** What the handler answered: the token's cnf.jkt as the handler saw it. */
  readonly text: string | undefined;
}

/** Echo whose replies carry the `jkt` the call was proven to hold (`unbound` for none). */
function dpopEcho(runs: HandlerRuns): grpc.UntypedServiceImplementation {
  const echo = echoImplementation(runs);
  const jkt = (call: { metadata: grpc.Metadata }): string => getAuth(call).confirmation?.jkt ?? 'unbound';
  return {
    ...echo,
    Unary(call: grpc.ServerUnaryCall<unknown, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.unary += 1;
      if ((call.request as { text?: string }).text === 'fail') {
        callback({ code: grpc.status.FAILED_PRECONDITION, details: 'handler says no' });
        return;
      }
      callback(null, { text: jkt(call), subject: '', scopes: [], count: 0 });
    },
    ServerStream(call: grpc.ServerWritableStream<unknown, EchoReply>) {
      runs.serverStream += 1;
      call.write({ text: jkt(call), subject: '', scopes: [], count: 0 });
      call.end();
    },
    ClientStream(call: grpc.ServerReadableStream<unknown, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.clientStream += 1;
      call.on('data', () => undefined);
      call.on('end', () => callback(null, { text: jkt(call), subject: '', scopes: [], count: 0 }));
    },
    Bidi(call: grpc.ServerDuplexStream<unknown, EchoReply>) {
      runs.bidi += 1;
      call.on('data', () => undefined);
      call.on('end', () => {
        call.write({ text: jkt(call), subject: '', scopes: [], count: 0 });
        call.end();
      });
    },
  };
}

function first(metadata: grpc.Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** One call of `kind`, its status, trailers and response headers. */
function call(client: Client, kind: Kind, metadata: grpc.Metadata, options: grpc.CallOptions = {}, text = 'hi'): Promise<Result> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    let reply: string | undefined;
    const onStatus = (status: grpc.StatusObject): void => {
      const details = status.metadata.get('grpc-status-details-bin')[0];
      resolve({
        code: status.code,
        reason: details instanceof Buffer ? decodeErrorInfo(details)?.reason : undefined,
        challenges: status.metadata.get('www-authenticate').map(String),
        trailerNonce: first(status.metadata, 'dpop-nonce'),
        headerNonce: first(headers, 'dpop-nonce'),
        text: reply,
      });
    };
    const ignore = (): void => undefined;
    const onReply = (error: grpc.ServiceError | null, value?: EchoReply): void => void (reply = error ? undefined : value?.text);
    let stream: NodeJS.EventEmitter;
    if (kind === 'unary') stream = client.Unary({ text }, metadata, options, onReply);
    else if (kind === 'serverStream') stream = client.ServerStream({ text }, metadata, options);
    else if (kind === 'clientStream') stream = client.ClientStream(metadata, options, onReply);
    else stream = client.Bidi(metadata, options);
    stream.on('metadata', (received: grpc.Metadata) => void (headers = received));
    stream.on('status', onStatus);
    stream.on('error', ignore);
    if (kind === 'serverStream' || kind === 'bidi') stream.on('data', (value: EchoReply) => void (reply = value.text));
    if (kind === 'clientStream' || kind === 'bidi') {
      const writable = stream as grpc.ClientWritableStream<unknown>;
      writable.write({ text: 'a' });
      writable.end();
    }
  });
}

const PATH: Record<Kind, string> = { unary: METHODS.unary, serverStream: METHODS.serverStream, clientStream: METHODS.clientStream, bidi: METHODS.bidi };
const KINDS: readonly Kind[] = ['unary', 'serverStream', 'clientStream', 'bidi'];

function withCredentials(authorization: string | undefined, proofs: readonly string[] = []): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  for (const proof of proofs) metadata.add('dpop', proof);
  return metadata;
}

describe('DPoP on gRPC (RFC 9449)', { timeout: 60_000 }, () => {
  let idp: TestIssuer;
  let key: ProofKey;
  let thief: ProofKey;
  let bound: string;
  let unbound: string;
  const servers: EchoServer[] = [];

  /** A server with `dpop` (origins: the logical origin) plus `options`; closed after the suite. */
  async function serve(options: Partial<AuthInterceptorOptions> = {}): Promise<EchoServer> {
    const single = options.issuers === undefined ? { keys: idp.keys, algorithms: ['ES256'] as const, issuer: idp.issuer } : {};
    const auth = createAuthInterceptor({ ...single, dpop: { origins: [TEST_ORIGIN] }, ...options } as AuthInterceptorOptions);
    const server = await startEchoServer({ interceptors: [auth], implementation: dpopEcho });
    servers.push(server);
    return server;
  }

  /** `DPoP <bound>` with a fresh proof by `key` for `kind`'s method. */
  async function dpopCall(overrides: ProofOverrides = {}, kind: Kind = 'unary', token = bound, proofKeyUsed = key): Promise<grpc.Metadata> {
    return withCredentials(`DPoP ${token}`, [await makeProof(proofKeyUsed, { path: PATH[kind], accessToken: token, ...overrides })]);
  }

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
    key = await proofKey('ES256');
    thief = await proofKey('ES256');
    bound = await idp.sign({ sub: 'alice', cnf: { jkt: key.jkt } });
    unbound = await idp.sign({ sub: 'bob' });
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('all four call kinds: a DPoP-bound token with its proof → OK, the handler sees confirmation.jkt; the event tells dpopThumbprint', async () => {
    const events: AuthenticatedEvent[] = [];
    const server = await serve({ onAuthenticated: (event) => events.push(event) });
    for (const kind of KINDS) {
      const result = await call(server.client, kind, await dpopCall({}, kind));
      assert.deepEqual([kind, result.code, result.text], [kind, 0, key.jkt]);
    }
    assert.deepEqual(
      events.map((event) => event.dpopThumbprint),
      [key.jkt, key.jkt, key.jkt, key.jkt],
    );
    assert.deepEqual(server.runs, { unary: 1, serverStream: 1, clientStream: 1, bidi: 1, ping: 0 });
  });

  it('the scheme is case-insensitive (dPoP), and an unbound Bearer token still passes on a DPoP server', async () => {
    const server = await serve();
    const metadata = withCredentials(`dPoP ${bound}`, [await makeProof(key, { accessToken: bound })]);
    assert.equal((await call(server.client, 'unary', metadata)).code, 0);
    const bearer = await call(server.client, 'unary', withCredentials(`Bearer ${unbound}`));
    assert.deepEqual([bearer.code, bearer.text], [0, 'unbound']);
  });

  it('the same token on a verified-token cache hit still needs a fresh proof: a replayed proof → DPOP_PROOF_REPLAYED', async () => {
    const server = await serve();
    const proof = await dpopCall();
    assert.equal((await call(server.client, 'unary', proof)).code, 0);
    // A second call with the same token hits the cache, and is admitted only with its own proof.
    assert.equal((await call(server.client, 'unary', await dpopCall())).code, 0);
    const replay = await call(server.client, 'unary', proof);
    assert.deepEqual([replay.code, replay.reason], [grpc.status.UNAUTHENTICATED, 'DPOP_PROOF_REPLAYED']);
    assert.equal(server.runs.unary, 2);
  });

  const refusals: ReadonlyArray<readonly [string, () => Promise<grpc.Metadata>, string]> = [
    ['a proof for another method → DPOP_PROOF_INVALID', () => dpopCall({ path: METHODS.bidi }), 'DPOP_PROOF_INVALID'],
    ['a proof for another origin → DPOP_PROOF_INVALID', () => dpopCall({ origin: 'https://billing.test' }), 'DPOP_PROOF_INVALID'],
    ['htm GET → DPOP_PROOF_INVALID', () => dpopCall({ claims: { htm: 'GET' } }), 'DPOP_PROOF_INVALID'],
    ['ath of another token → DPOP_PROOF_INVALID', () => dpopCall({ accessToken: unbound }), 'DPOP_PROOF_INVALID'],
    ['no ath → DPOP_PROOF_INVALID', () => dpopCall({ claims: { ath: undefined } }), 'DPOP_PROOF_INVALID'],
    ['a proof by another key (a thief with a stolen token) → DPOP_KEY_MISMATCH', () => dpopCall({}, 'unary', bound, thief), 'DPOP_KEY_MISMATCH'],
    ['iat 100 s old → DPOP_PROOF_STALE', () => dpopCall({ now: Date.now() - 100_000 }), 'DPOP_PROOF_STALE'],
    ['iat 20 s in the future → DPOP_PROOF_STALE', () => dpopCall({ now: Date.now() + 20_000 }), 'DPOP_PROOF_STALE'],
    ['DPoP scheme without dpop metadata → DPOP_PROOF_MISSING', async () => withCredentials(`DPoP ${bound}`), 'DPOP_PROOF_MISSING'],
    ['an empty dpop value → DPOP_PROOF_INVALID', async () => withCredentials(`DPoP ${bound}`, ['']), 'DPOP_PROOF_INVALID'],
    [
      'two dpop values → DPOP_PROOF_INVALID',
      async () => withCredentials(`DPoP ${bound}`, [await makeProof(key, { accessToken: bound }), await makeProof(key, { accessToken: bound })]),
      'DPOP_PROOF_INVALID',
    ],
    ['a bound token as Bearer → DPOP_SCHEME_REQUIRED', async () => withCredentials(`Bearer ${bound}`), 'DPOP_SCHEME_REQUIRED'],
    [
      'Bearer with a dpop proof → AUTHORIZATION_MALFORMED',
      async () => withCredentials(`Bearer ${bound}`, [await makeProof(key, { accessToken: bound })]),
      'AUTHORIZATION_MALFORMED',
    ],
    [
      'an unbound token with the DPoP scheme and a valid proof → TOKEN_NOT_BOUND',
      async () => withCredentials(`DPoP ${unbound}`, [await makeProof(key, { accessToken: unbound })]),
      'TOKEN_NOT_BOUND',
    ],
  ];
  for (const [name, metadata, reason] of refusals) {
    it(`unary: ${name}; the handler never runs`, async () => {
      const server = await serve();
      const result = await call(server.client, 'unary', await metadata());
      assert.deepEqual([result.code, result.reason], [grpc.status.UNAUTHENTICATED, reason]);
      assert.equal(server.runs.unary, 0);
    });
  }

  it("every call kind: a thief's proof → DPOP_KEY_MISMATCH, and no handler runs", async () => {
    const server = await serve();
    for (const kind of KINDS) {
      const result = await call(server.client, kind, await dpopCall({}, kind, bound, thief));
      assert.deepEqual([kind, result.reason], [kind, 'DPOP_KEY_MISMATCH']);
    }
    assert.deepEqual(server.runs, { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 });
  });

  it('query and fragment of htu are ignored; the proof must not name the address the client dialled (:authority is never trusted)', async () => {
    const server = await serve();
    assert.equal((await call(server.client, 'unary', await dpopCall({ claims: { htu: `${TEST_ORIGIN}${METHODS.unary}?x=1#f` } }))).code, 0);
    const dialled = await call(server.client, 'unary', await dpopCall({ origin: `http://${server.address}` }));
    assert.equal(dialled.reason, 'DPOP_PROOF_INVALID');
  });

  it('refusals challenge in the scheme the call used: DPoP with algs for DPoP calls and DPOP_SCHEME_REQUIRED, Bearer plus DPoP algs otherwise', async () => {
    const server = await serve({ dpop: { origins: [TEST_ORIGIN], algorithms: ['ES256', 'EdDSA'] } });
    const mismatch = await call(server.client, 'unary', await dpopCall({}, 'unary', bound, thief));
    assert.deepEqual(mismatch.challenges, [
      'DPoP error="invalid_token", error_description="DPoP proof key does not match the token binding", algs="ES256 EdDSA"',
    ]);
    const asBearer = await call(server.client, 'unary', withCredentials(`Bearer ${bound}`));
    assert.match(asBearer.challenges[0] ?? '', /^DPoP error="invalid_token", .*algs="ES256 EdDSA"$/);
    const missing = await call(server.client, 'unary', withCredentials(undefined));
    // Two challenges; HTTP/2 joins the values of one header with ", " (RFC 9110 §5.3).
    assert.deepEqual(missing.challenges, ['Bearer, DPoP algs="ES256 EdDSA"']);
    const stale = await call(server.client, 'unary', await dpopCall({ now: Date.now() - 100_000 }));
    assert.match(stale.challenges[0] ?? '', /^DPoP error="invalid_dpop_proof"/);
  });

  describe('nonces', () => {
    it('first call → DPOP_NONCE_REQUIRED with a dpop-nonce trailer and use_dpop_nonce; the retry with it → OK', async () => {
      const server = await serve({ dpop: { origins: [TEST_ORIGIN], nonce: true } });
      const refused = await call(server.client, 'unary', await dpopCall());
      assert.deepEqual([refused.code, refused.reason], [grpc.status.UNAUTHENTICATED, 'DPOP_NONCE_REQUIRED']);
      assert.match(refused.trailerNonce ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.match(refused.challenges[0] ?? '', /^DPoP error="use_dpop_nonce"/);
      const retried = await call(server.client, 'unary', await dpopCall({ claims: { nonce: refused.trailerNonce } }));
      assert.deepEqual([retried.code, retried.headerNonce], [0, undefined]);
      assert.equal(server.runs.unary, 1);
    });

    it('a nonce past its window (server clock 6 minutes on) → a new nonce; an admitted call with an older valid nonce gets the current one in its response headers', async () => {
      let offset = 0;
      const server = await serve({ dpop: { origins: [TEST_ORIGIN], nonce: true }, clock: () => Date.now() + offset });
      const first = (await call(server.client, 'unary', await dpopCall())).trailerNonce;
      offset = 6 * 60_000;
      const expired = await call(server.client, 'unary', await dpopCall({ now: Date.now() + offset, claims: { nonce: first } }));
      assert.equal(expired.reason, 'DPOP_NONCE_REQUIRED');
      assert.notEqual(expired.trailerNonce, first);
      // Two minutes later that nonce still passes, and the response says which one to use now.
      offset += 2 * 60_000;
      for (const kind of KINDS) {
        const admitted = await call(server.client, kind, await dpopCall({ now: Date.now() + offset, claims: { nonce: expired.trailerNonce } }, kind));
        assert.equal(admitted.code, 0, kind);
        assert.match(admitted.headerNonce ?? '', /^[A-Za-z0-9_-]{43}$/, kind);
        assert.notEqual(admitted.headerNonce, expired.trailerNonce, kind);
      }
    });

    it('a handler that fails before any message: the nonce rides in the trailers', async () => {
      let offset = 0;
      const server = await serve({ dpop: { origins: [TEST_ORIGIN], nonce: true }, clock: () => Date.now() + offset });
      const nonce = (await call(server.client, 'unary', await dpopCall())).trailerNonce;
      offset = 2 * 60_000;
      const failed = await call(server.client, 'unary', await dpopCall({ now: Date.now() + offset, claims: { nonce } }), {}, 'fail');
      assert.equal(failed.code, grpc.status.FAILED_PRECONDITION);
      assert.match(failed.trailerNonce ?? '', /^[A-Za-z0-9_-]{43}$/);
    });

    it('a call refused by its guard after its proof verified with an older nonce: the current nonce rides in the trailers', async () => {
      let offset = 0;
      const server = await serve({
        dpop: { origins: [TEST_ORIGIN], nonce: true },
        clock: () => Date.now() + offset,
        rules: { [METHODS.unary]: requireScopes('orders:admin') },
      });
      const nonce = (await call(server.client, 'unary', await dpopCall())).trailerNonce;
      offset = 2 * 60_000;
      const denied = await call(server.client, 'unary', await dpopCall({ now: Date.now() + offset, claims: { nonce } }));
      assert.deepEqual([denied.code, denied.reason], [grpc.status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE']);
      assert.match(denied.trailerNonce ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(denied.trailerNonce, nonce);
      assert.match(denied.challenges[0] ?? '', /^DPoP error="insufficient_scope"/);
    });

    it('a nonce that is not a string → DPOP_PROOF_INVALID without a nonce challenge', async () => {
      const server = await serve({ dpop: { origins: [TEST_ORIGIN], nonce: true } });
      const result = await call(server.client, 'unary', await dpopCall({ claims: { nonce: 42 } }));
      assert.deepEqual([result.reason, result.trailerNonce], ['DPOP_PROOF_INVALID', undefined]);
    });

    it("replicas sharing nonce.secret accept each other's nonces", async () => {
      const dpop = { origins: [TEST_ORIGIN], nonce: { secret: 'a secret shared by every replica, 32+ bytes' } };
      const a = await serve({ dpop });
      const b = await serve({ dpop });
      const nonce = (await call(a.client, 'unary', await dpopCall())).trailerNonce;
      assert.equal((await call(b.client, 'unary', await dpopCall({ claims: { nonce } }))).code, 0);
    });
  });

  describe('the replay store', () => {
    const stores: ReadonlyArray<readonly [string, ReplayStore, number, string]> = [
      ['answers false → DPOP_PROOF_REPLAYED', { add: () => false }, grpc.status.UNAUTHENTICATED, 'DPOP_PROOF_REPLAYED'],
      [
        'throws → UNAVAILABLE REPLAY_CHECK_UNAVAILABLE',
        {
          add: () => {
            throw new Error('redis down');
          },
        },
        grpc.status.UNAVAILABLE,
        'REPLAY_CHECK_UNAVAILABLE',
      ],
      [
        'rejects → UNAVAILABLE REPLAY_CHECK_UNAVAILABLE',
        { add: async () => Promise.reject(new Error('redis down')) },
        grpc.status.UNAVAILABLE,
        'REPLAY_CHECK_UNAVAILABLE',
      ],
    ];
    for (const [name, replayStore, code, reason] of stores) {
      it(`a store that ${name}; the handler never runs`, async () => {
        const server = await serve({ replayStore });
        const result = await call(server.client, 'unary', await dpopCall());
        assert.deepEqual([result.code, result.reason], [code, reason]);
        assert.equal(server.runs.unary, 0);
      });
    }

    it('a store that settles after the call was cancelled: one status, the handler never runs', async () => {
      let release: (answer: boolean) => void = () => undefined;
      let entered: () => void = () => undefined;
      const inStore = new Promise<void>((resolve) => (entered = resolve));
      const replayStore: ReplayStore = {
        add: () =>
          new Promise<boolean>((settle) => {
            release = settle;
            entered();
          }),
      };
      let serverSawCancel: () => void = () => undefined;
      const cancelSeen = new Promise<void>((resolve) => (serverSawCancel = resolve));
      // In front of the auth interceptor: tells when the server learned of the cancel.
      const watcher: grpc.ServerInterceptor = (_descriptor, serverCall) =>
        new grpc.ServerInterceptingCall(serverCall, { start: (next) => next({ onCancel: () => serverSawCancel() }) });
      const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], dpop: { origins: [TEST_ORIGIN] }, replayStore });
      const server = await startEchoServer({ interceptors: [watcher, auth], implementation: dpopEcho });
      servers.push(server);
      const statuses: number[] = [];
      const pending = server.client.Unary({ text: 'hi' }, await dpopCall(), () => undefined);
      pending.on('status', (status: grpc.StatusObject) => statuses.push(status.code));
      await inStore;
      pending.cancel();
      await cancelSeen;
      release(true);
      await new Promise((done) => setTimeout(done, 50));
      assert.deepEqual(statuses, [grpc.status.CANCELLED]);
      assert.equal(server.runs.unary, 0);
    });

    it('a call waiting on the replay store holds no place under maxConcurrentVerifications: with 1, a second call is checked meanwhile and both pass once the store answers', async () => {
      const releases: Array<(answer: boolean) => void> = [];
      const replayStore: ReplayStore = { add: () => new Promise<boolean>((settle) => releases.push(settle)) };
      const server = await serve({ replayStore, maxConcurrentVerifications: 1 });
      const first = call(server.client, 'unary', await dpopCall());
      while (releases.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = call(server.client, 'unary', await dpopCall());
      // The second proof was checked (not shed with VERIFIER_BUSY) and reached the store as well.
      while (releases.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      for (const release of releases) release(true);
      assert.deepEqual([(await first).code, (await second).code], [0, 0]);
    });
  });

  describe('configuration and tokens', () => {
    it('without dpop: the DPoP scheme is malformed, and a DPoP-bound token as Bearer → DPOP_SCHEME_REQUIRED', async () => {
      const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'] });
      const server = await startEchoServer({ interceptors: [auth], implementation: dpopEcho });
      servers.push(server);
      assert.equal((await call(server.client, 'unary', await dpopCall())).reason, 'AUTHORIZATION_MALFORMED');
      const asBearer = await call(server.client, 'unary', withCredentials(`Bearer ${bound}`));
      assert.deepEqual(
        [asBearer.reason, asBearer.challenges],
        ['DPOP_SCHEME_REQUIRED', ['Bearer error="invalid_token", error_description="DPoP-bound token must be sent with the DPoP scheme and a proof"']],
      );
    });

    it("dpopBinding 'required': an unbound Bearer token → TOKEN_NOT_BOUND; per issuer, only that issuer's", async () => {
      const server = await serve({ dpopBinding: 'required' });
      assert.equal((await call(server.client, 'unary', withCredentials(`Bearer ${unbound}`))).reason, 'TOKEN_NOT_BOUND');
      assert.equal((await call(server.client, 'unary', await dpopCall())).code, 0);
      const other = await createTestIssuer({ alg: 'ES256', issuer: 'https://other.test/' });
      const perIssuer = await serve({
        issuers: [
          { issuer: idp.issuer, keys: idp.keys, algorithms: ['ES256'], dpopBinding: 'required' },
          { issuer: other.issuer, keys: other.keys, algorithms: ['ES256'] },
        ],
      });
      assert.equal((await call(perIssuer.client, 'unary', withCredentials(`Bearer ${unbound}`))).reason, 'TOKEN_NOT_BOUND');
      assert.equal((await call(perIssuer.client, 'unary', withCredentials(`Bearer ${await other.sign({ sub: 'carol' })}`))).code, 0);
    });

    it('malformed cnf.jkt → CLAIM_INVALID; extra cnf members are ignored', async () => {
      const server = await serve();
      for (const jkt of ['', 'ab'.repeat(32), 42, null, key.jkt.slice(1)]) {
        const token = await idp.sign({ sub: 'alice', cnf: { jkt } });
        const result = await call(server.client, 'unary', withCredentials(`DPoP ${token}`, [await makeProof(key, { accessToken: token })]));
        assert.equal(result.reason, 'CLAIM_INVALID', String(jkt));
      }
      const extra = await idp.sign({ sub: 'alice', cnf: { jkt: key.jkt, 'kc-jkt-type': 'DPoP' } });
      assert.equal((await call(server.client, 'unary', withCredentials(`DPoP ${extra}`, [await makeProof(key, { accessToken: extra })]))).code, 0);
    });

    it('a token bound to both a DPoP key and a certificate needs both: a valid proof alone → CERTIFICATE_MISSING', async () => {
      const server = await serve();
      const both = await idp.sign({ sub: 'alice', cnf: { jkt: key.jkt, 'x5t#S256': 'A'.repeat(43) } });
      const result = await call(server.client, 'unary', withCredentials(`DPoP ${both}`, [await makeProof(key, { accessToken: both })]));
      assert.equal(result.reason, 'CERTIFICATE_MISSING');
    });

    it('configuration mistakes throw AuthConfigError naming the option', () => {
      const base = { keys: idp.keys, algorithms: ['ES256'] as const };
      const cases: ReadonlyArray<readonly [AuthInterceptorOptions, string]> = [
        [{ ...base, dpopBinding: 'required' }, 'dpopBinding'],
        [{ issuers: [{ issuer: 'x', keys: idp.keys, algorithms: ['ES256'], dpopBinding: 'required' }] }, 'issuers[0].dpopBinding'],
        [{ ...base, dpop: { origins: [TEST_ORIGIN] }, tokenFrom: { cookie: 'session' } }, 'tokenFrom'],
        [{ ...base, dpop: { origins: ['https://orders.test/api'] } }, 'dpop.origins[0]'],
        [{ ...base, dpop: { origins: [TEST_ORIGIN], algorithms: ['HS256' as 'ES256'] } }, 'dpop.algorithms[0]'],
        [{ ...base, dpop: { origins: [TEST_ORIGIN] }, replayStore: {} as ReplayStore }, 'replayStore'],
      ];
      for (const [options, option] of cases) {
        assert.throws(
          () => createAuthInterceptor(options),
          (error: unknown) => error instanceof AuthConfigError && error.option === option,
          option,
        );
      }
    });

    it('createAuthenticator checks no proofs: a DPoP-bound token → DPOP_SCHEME_REQUIRED (a stolen one stays useless behind a gateway)', async () => {
      const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
      await assert.rejects(
        authenticator.authenticate(bound, METHODS.unary),
        (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_DPOP_SCHEME_REQUIRED',
      );
      assert.equal((await authenticator.authenticate(unbound, METHODS.unary)).context.subject, 'bob');
      assert.throws(() => createAuthenticator({ keys: idp.keys, algorithms: ['ES256'], dpopBinding: 'required' }), AuthConfigError);
      authenticator.close();
    });
  });
});
