/**
 * Independent review of the DPoP wiring on gRPC (RFC 9449): hostile request shapes on real calls, the
 * Bearer downgrade on every call kind (verified-token cache hit included), concurrent first calls that
 * share one token verification, the order of checks, nonces on responses, replay store failures, the
 * verification limit, and what reaches events and logs. A grpc-js server on 127.0.0.1:0, plain grpc-js
 * clients, proofs from test/support/dpop-proofs.ts; the logical origin https://orders.test.
 *
 * Peer cases ported (behaviours, our own code):
 * - panva/node-oidc-provider test/dpop/dpop.test.js @ b95c294475d7c858a3ea63276dbc8eed77c0bfd2, userinfo
 *   cases not in test/integration/dpop.test.ts: "validates the way DPoP proof JWT is provided" on the
 *   other call kinds, the DPoP challenge of a request without credentials, "validates the DPoP proof JWT is
 *   conform" with nonces on (iat too old / too far in the future with a valid nonce).
 * - auth0/node-oauth2-jwt-bearer packages/express-oauth2-jwt-bearer/test (@ 8701dab): request-shape cases
 *   of its DPoP middleware (mixed-case scheme, extra whitespace, a comma list of proofs).
 * - spring-projects/spring-security oauth2-resource-server DPoPAuthenticationFilterTests /
 *   DPoPAuthenticationProviderTests (@ d449950b36): several DPoP proofs refused, DPoP scheme without a
 *   proof, the proof's key must be the token's jkt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthConfigError,
  certificateThumbprint,
  createAuthInterceptor,
  createMemoryReplayStore,
  findAuth,
  requireBoundToken,
  type AuthenticatedEvent,
  type AuthInterceptorOptions,
  type RejectedEvent,
  type ReplayStore,
} from '../../src/index.ts';
import { decodeErrorInfo } from '../../src/client/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { EchoClient, echoImplementation, startEchoServer, METHODS, type EchoReply, type EchoServer, type HandlerRuns } from '../support/echo-server.ts';
import { testCertificateAuthority } from '../support/pem.ts';
import { makeProof, proofKey, TEST_ORIGIN, type ProofKey, type ProofOverrides } from '../support/dpop-proofs.ts';

type Client = grpc.Client & Record<string, any>;
type Kind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';
const KINDS: readonly Kind[] = ['unary', 'serverStream', 'clientStream', 'bidi'];
const PATH: Record<Kind, string> = { unary: METHODS.unary, serverStream: METHODS.serverStream, clientStream: METHODS.clientStream, bidi: METHODS.bidi };

interface Result {
  readonly code: number;
  readonly reason: string | undefined;
  readonly details: string;
  readonly challenges: readonly string[];
  /** Every `dpop-nonce` value of the trailers and of the response headers. */
  readonly trailerNonces: readonly string[];
  readonly headerNonces: readonly string[];
  readonly text: string | undefined;
}

/**
 * Echo whose replies carry the proven jkt. Request text `empty`: a stream ends OK with no message (a
 * trailers-only answer); `fail-after`: a stream writes one message, then fails.
 */
function reviewEcho(runs: HandlerRuns): grpc.UntypedServiceImplementation {
  const echo = echoImplementation(runs);
  const reply = (call: { metadata: grpc.Metadata }): EchoReply => ({ text: findAuth(call)?.confirmation?.jkt ?? 'unbound', subject: '', scopes: [], count: 0 });
  return {
    ...echo,
    Unary(call: grpc.ServerUnaryCall<{ text: string }, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.unary += 1;
      if (call.request.text === 'fail') return void callback({ code: grpc.status.FAILED_PRECONDITION, details: 'no' });
      callback(null, reply(call));
    },
    ServerStream(call: grpc.ServerWritableStream<{ text: string }, EchoReply>) {
      runs.serverStream += 1;
      if (call.request.text === 'empty') return void call.end();
      call.write(reply(call));
      if (call.request.text === 'fail-after') return void call.emit('error', { code: grpc.status.ABORTED, details: 'after one message' });
      call.end();
    },
    ClientStream(call: grpc.ServerReadableStream<unknown, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.clientStream += 1;
      call.on('data', () => undefined);
      call.on('end', () => callback(null, reply(call)));
    },
    Bidi(call: grpc.ServerDuplexStream<unknown, EchoReply>) {
      runs.bidi += 1;
      call.on('data', () => undefined);
      call.on('end', () => {
        call.write(reply(call));
        call.end();
      });
    },
  };
}

const strings = (metadata: grpc.Metadata | undefined, key: string): string[] => (metadata?.get(key) ?? []).map(String);

function call(client: Client, kind: Kind, metadata: grpc.Metadata, options: grpc.CallOptions = {}, text = 'hi'): Promise<Result> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    let reply: string | undefined;
    const onStatus = (status: grpc.StatusObject): void => {
      const details = status.metadata.get('grpc-status-details-bin')[0];
      resolve({
        code: status.code,
        reason: details instanceof Buffer ? decodeErrorInfo(details)?.reason : undefined,
        details: status.details,
        challenges: strings(status.metadata, 'www-authenticate'),
        trailerNonces: strings(status.metadata, 'dpop-nonce'),
        headerNonces: strings(headers, 'dpop-nonce'),
        text: reply,
      });
    };
    const onReply = (error: grpc.ServiceError | null, value?: EchoReply): void => void (reply = error ? undefined : value?.text);
    let stream: NodeJS.EventEmitter;
    if (kind === 'unary') stream = client.Unary({ text }, metadata, options, onReply);
    else if (kind === 'serverStream') stream = client.ServerStream({ text }, metadata, options);
    else if (kind === 'clientStream') stream = client.ClientStream(metadata, options, onReply);
    else stream = client.Bidi(metadata, options);
    stream.on('metadata', (received: grpc.Metadata) => void (headers = received));
    stream.on('status', onStatus);
    stream.on('error', () => undefined);
    if (kind === 'serverStream' || kind === 'bidi') stream.on('data', (value: EchoReply) => void (reply = value.text));
    if (kind === 'clientStream' || kind === 'bidi') {
      const writable = stream as grpc.ClientWritableStream<unknown>;
      writable.write({ text: 'a' });
      writable.end();
    }
  });
}

function credentials(authorization: string | undefined, proofs: readonly string[] = [], extra: Record<string, string | Buffer> = {}): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  for (const proof of proofs) metadata.add('dpop', proof);
  for (const [key, value] of Object.entries(extra)) metadata.add(key, value);
  return metadata;
}

/** A replay store that counts its writes, answering like a memory store. */
function countingStore(): ReplayStore & { adds: number } {
  const inner = createMemoryReplayStore();
  const store = {
    adds: 0,
    add(key: string, expiresAt: Date) {
      store.adds += 1;
      return inner.add(key, expiresAt);
    },
  };
  return store;
}

describe('DPoP on gRPC: independent review', { timeout: 120_000 }, () => {
  let idp: TestIssuer;
  let key: ProofKey;
  let thief: ProofKey;
  let bound: string;
  let unbound: string;
  const servers: EchoServer[] = [];

  async function serve(options: Partial<AuthInterceptorOptions> = {}, serverOptions: grpc.ServerOptions = {}): Promise<EchoServer> {
    const single = options.issuers === undefined ? { keys: idp.keys, algorithms: ['ES256'] as const, issuer: idp.issuer } : {};
    const auth = createAuthInterceptor({ ...single, dpop: { origins: [TEST_ORIGIN] }, ...options } as AuthInterceptorOptions);
    const server = await startEchoServer({ interceptors: [auth], implementation: reviewEcho, serverOptions });
    servers.push(server);
    return server;
  }

  const proofFor = (kind: Kind, overrides: ProofOverrides = {}, token = bound, signer = key): Promise<string> =>
    makeProof(signer, { path: PATH[kind], accessToken: token, ...overrides });
  const dpopCall = async (kind: Kind, overrides: ProofOverrides = {}, token = bound, signer = key): Promise<grpc.Metadata> =>
    credentials(`DPoP ${token}`, [await proofFor(kind, overrides, token, signer)]);

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

  describe('the Bearer downgrade', () => {
    it('every call kind: a DPoP-bound token as Bearer on a verified-token cache hit after a legitimate DPoP call → DPOP_SCHEME_REQUIRED, no handler runs', async () => {
      const server = await serve();
      const token = await idp.sign({ sub: 'alice', cnf: { jkt: key.jkt } });
      assert.equal((await call(server.client, 'unary', await dpopCall('unary', {}, token))).code, 0);
      const before = { ...server.runs };
      for (const kind of KINDS) {
        const result = await call(server.client, kind, credentials(`Bearer ${token}`));
        assert.deepEqual([kind, result.code, result.reason], [kind, grpc.status.UNAUTHENTICATED, 'DPOP_SCHEME_REQUIRED']);
        assert.match(result.challenges[0] ?? '', /^DPoP error="invalid_token"/, kind);
      }
      assert.deepEqual(server.runs, before);
    });

    it('every call kind, server without dpop: a DPoP-bound token as Bearer, first call and cache hit → DPOP_SCHEME_REQUIRED', async () => {
      const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer });
      const server = await startEchoServer({ interceptors: [auth], implementation: reviewEcho });
      servers.push(server);
      for (const kind of [...KINDS, ...KINDS]) {
        const result = await call(server.client, kind, credentials(`Bearer ${bound}`));
        assert.deepEqual([kind, result.reason], [kind, 'DPOP_SCHEME_REQUIRED']);
      }
      // With a proof too: a server without dpop reads no proof, and the bound token stays refused.
      const withProof = await call(server.client, 'unary', credentials(`Bearer ${bound}`, [await proofFor('unary')]));
      assert.equal(withProof.reason, 'DPOP_SCHEME_REQUIRED');
      assert.deepEqual(server.runs, { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 });
    });

    it('every call kind: Bearer with a dpop proof → AUTHORIZATION_MALFORMED (bound or unbound token); an unbound token with the DPoP scheme → TOKEN_NOT_BOUND', async () => {
      const server = await serve();
      for (const kind of KINDS) {
        const boundBearer = await call(server.client, kind, credentials(`Bearer ${bound}`, [await proofFor(kind)]));
        const unboundBearer = await call(server.client, kind, credentials(`Bearer ${unbound}`, [await proofFor(kind, {}, unbound)]));
        const unboundDpop = await call(server.client, kind, await dpopCall(kind, {}, unbound));
        assert.deepEqual(
          [kind, boundBearer.reason, unboundBearer.reason, unboundDpop.reason],
          [kind, 'AUTHORIZATION_MALFORMED', 'AUTHORIZATION_MALFORMED', 'TOKEN_NOT_BOUND'],
        );
      }
      assert.deepEqual(server.runs, { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 });
    });

    it('a binary dpop-bin value is no proof: with DPoP → DPOP_PROOF_MISSING; a bound token as Bearer with it → DPOP_SCHEME_REQUIRED; an unbound Bearer token with it passes', async () => {
      const server = await serve();
      const proof = Buffer.from(await proofFor('unary'));
      assert.equal((await call(server.client, 'unary', credentials(`DPoP ${bound}`, [], { 'dpop-bin': proof }))).reason, 'DPOP_PROOF_MISSING');
      assert.equal((await call(server.client, 'unary', credentials(`Bearer ${bound}`, [], { 'dpop-bin': proof }))).reason, 'DPOP_SCHEME_REQUIRED');
      assert.equal((await call(server.client, 'unary', credentials(`Bearer ${unbound}`, [], { 'dpop-bin': proof }))).code, 0);
    });
  });

  describe('request shapes', () => {
    it('scheme case variants (DPOP, dpop, dPoP) are the DPoP scheme; whitespace and list variants are AUTHORIZATION_MALFORMED', async () => {
      const server = await serve();
      for (const scheme of ['DPOP', 'dpop', 'dPoP']) {
        const result = await call(server.client, 'unary', credentials(`${scheme} ${bound}`, [await proofFor('unary')]));
        assert.deepEqual([scheme, result.code], [scheme, 0]);
      }
      for (const authorization of [
        `DPoP  ${bound}`,
        `DPoP ${bound} x`,
        `DPoP ${bound},`,
        `DPoP, ${bound}`,
        `DPoP=${bound}`,
        'DPoP',
        `DPoP ${bound} ${bound}`,
      ]) {
        const result = await call(server.client, 'unary', credentials(authorization, [await proofFor('unary')]));
        assert.equal(result.reason, 'AUTHORIZATION_MALFORMED', JSON.stringify(authorization.slice(0, 8)));
      }
      assert.equal(server.runs.unary, 3);
    });

    it('several authorization values (added by an interceptor in front) → AUTHORIZATION_MALFORMED', async () => {
      const adder: grpc.ServerInterceptor = (_descriptor, serverCall) =>
        new grpc.ServerInterceptingCall(serverCall, {
          start: (next) =>
            next({
              onReceiveMetadata: (metadata, nextMetadata) => {
                metadata.add('authorization', `DPoP ${bound}`);
                nextMetadata(metadata);
              },
            }),
        });
      const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], dpop: { origins: [TEST_ORIGIN] } });
      const server = await startEchoServer({ interceptors: [adder, auth], implementation: reviewEcho });
      servers.push(server);
      assert.equal((await call(server.client, 'unary', await dpopCall('unary'))).reason, 'AUTHORIZATION_MALFORMED');
    });

    it('several dpop values, a comma list of two proofs, an empty or a huge value → DPOP_PROOF_INVALID (no crypto, no store write)', async () => {
      const store = countingStore();
      const server = await serve({ replayStore: store }, { 'grpc.max_metadata_size': 64 * 1024 });
      const a = await proofFor('unary');
      const b = await proofFor('unary');
      const shapes: ReadonlyArray<readonly [string, grpc.Metadata]> = [
        ['two values', credentials(`DPoP ${bound}`, [a, b])],
        ['a comma list', credentials(`DPoP ${bound}`, [`${a}, ${b}`])],
        ['a comma list without space', credentials(`DPoP ${bound}`, [`${a},${b}`])],
        ['an empty value', credentials(`DPoP ${bound}`, [''])],
        ['8 KiB + 1', credentials(`DPoP ${bound}`, [`${a}${'A'.repeat(8 * 1024 + 1 - a.length)}`])],
        ['40 KiB', credentials(`DPoP ${bound}`, ['A'.repeat(40 * 1024)])],
      ];
      for (const [name, metadata] of shapes) {
        const result = await call(server.client, 'unary', metadata, { deadline: Date.now() + 10_000 });
        assert.deepEqual([name, result.code, result.reason], [name, grpc.status.UNAUTHENTICATED, 'DPOP_PROOF_INVALID']);
      }
      assert.equal(store.adds, 0);
      assert.equal(server.runs.unary, 0);
    });
  });

  describe('the proof on every call', () => {
    it('concurrent first calls sharing one token verification: owner and thief at once → OK and DPOP_KEY_MISMATCH; two proofs of the owner → both OK; one proof twice → one OK, one REPLAYED', async () => {
      const server = await serve();
      for (let round = 0; round < 3; round += 1) {
        const token = await idp.sign({ sub: 'alice', round, cnf: { jkt: key.jkt } });
        const shared = await proofFor('unary', {}, token);
        const pairs: Array<[grpc.Metadata, grpc.Metadata]> = [
          [await dpopCall('unary', {}, token), await dpopCall('unary', {}, token, thief)],
          [await dpopCall('unary', {}, token), await dpopCall('unary', {}, token)],
          [credentials(`DPoP ${token}`, [shared]), credentials(`DPoP ${token}`, [shared])],
        ];
        const [first, second] = await Promise.all((pairs[round] ?? []).map((metadata) => call(server.client, 'unary', metadata)));
        const outcome = [first?.reason ?? first?.code, second?.reason ?? second?.code].sort();
        const expected = [
          [0, 'DPOP_KEY_MISMATCH'],
          [0, 0],
          [0, 'DPOP_PROOF_REPLAYED'],
        ][round];
        assert.deepEqual(outcome, expected, `round ${round}`);
      }
    });

    it("a stolen token with the thief's own key, or a proof with a broken signature: no replay store write", async () => {
      const store = countingStore();
      const server = await serve({ replayStore: store });
      assert.equal((await call(server.client, 'unary', await dpopCall('unary', {}, bound, thief))).reason, 'DPOP_KEY_MISMATCH');
      const good = await proofFor('unary');
      const broken = `${good.slice(0, -4)}${good.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      assert.equal((await call(server.client, 'unary', credentials(`DPoP ${bound}`, [broken]))).reason, 'DPOP_PROOF_INVALID');
      const signedByThief = await proofFor('unary', { signWith: thief });
      assert.equal((await call(server.client, 'unary', credentials(`DPoP ${bound}`, [signedByThief]))).reason, 'DPOP_PROOF_INVALID');
      assert.equal(store.adds, 0);
      assert.equal((await call(server.client, 'unary', await dpopCall('unary'))).code, 0);
      assert.equal(store.adds, 1);
    });

    it("rule 'optional': no token → admitted; a bound token as Bearer → DPOP_SCHEME_REQUIRED; DPoP without a proof → DPOP_PROOF_MISSING; with its proof → OK and the jkt", async () => {
      const server = await serve({ defaultRule: 'optional' });
      assert.deepEqual([(await call(server.client, 'unary', credentials(undefined))).code], [0]);
      assert.equal((await call(server.client, 'unary', credentials(`Bearer ${bound}`))).reason, 'DPOP_SCHEME_REQUIRED');
      assert.equal((await call(server.client, 'unary', credentials(`DPoP ${bound}`))).reason, 'DPOP_PROOF_MISSING');
      const admitted = await call(server.client, 'unary', await dpopCall('unary'));
      assert.deepEqual([admitted.code, admitted.text], [0, key.jkt]);
    });

    it("rule 'public': nothing is read, a garbage DPoP call runs its handler", async () => {
      const server = await serve({ rules: { [METHODS.unary]: 'public' } });
      assert.equal((await call(server.client, 'unary', credentials('DPoP x', ['garbage']))).code, 0);
      assert.equal(server.runs.unary, 1);
    });

    it("requireBoundToken('dpop') runs after the proof: a proven DPoP call → OK, an unbound Bearer → TOKEN_NOT_BOUND, a thief's proof → DPOP_KEY_MISMATCH (not the guard)", async () => {
      const server = await serve({ rules: { [METHODS.unary]: requireBoundToken('dpop') } });
      assert.equal((await call(server.client, 'unary', await dpopCall('unary'))).code, 0);
      assert.equal((await call(server.client, 'unary', credentials(`Bearer ${unbound}`))).reason, 'TOKEN_NOT_BOUND');
      assert.equal((await call(server.client, 'unary', await dpopCall('unary', {}, bound, thief))).reason, 'DPOP_KEY_MISMATCH');
    });
  });

  describe('nonces on responses', () => {
    /** A server with nonces whose clock the test moves; the nonce of its first refusal. */
    async function nonceServer(): Promise<{ server: EchoServer; nonce: string; later: (ms: number) => void; now: () => number }> {
      let offset = 0;
      const server = await serve({ dpop: { origins: [TEST_ORIGIN], nonce: true }, clock: () => Date.now() + offset });
      const refused = await call(server.client, 'unary', await dpopCall('unary'));
      assert.equal(refused.reason, 'DPOP_NONCE_REQUIRED');
      assert.equal(refused.trailerNonces.length, 1);
      assert.match(refused.challenges[0] ?? '', /^DPoP error="use_dpop_nonce", error_description="[^"]*", algs="ES256 EdDSA PS256"$/);
      return { server, nonce: refused.trailerNonces[0] ?? '', later: (ms) => void (offset += ms), now: () => Date.now() + offset };
    }

    it('every call kind with a current nonce → OK, no dpop-nonce on the response', async () => {
      const { server, nonce } = await nonceServer();
      for (const kind of KINDS) {
        const result = await call(server.client, kind, await dpopCall(kind, { claims: { nonce } }));
        assert.deepEqual([kind, result.code, result.headerNonces, result.trailerNonces], [kind, 0, [], []]);
      }
    });

    it('an older valid nonce: exactly one fresh dpop-nonce on every kind, also for a trailers-only OK stream and a stream that fails after a message', async () => {
      const { server, nonce, later, now } = await nonceServer();
      later(2 * 60_000);
      const cases: ReadonlyArray<readonly [Kind, string]> = [
        ['unary', 'hi'],
        ['unary', 'fail'],
        ['serverStream', 'hi'],
        ['serverStream', 'empty'],
        ['serverStream', 'fail-after'],
        ['clientStream', 'hi'],
        ['bidi', 'hi'],
      ];
      for (const [kind, text] of cases) {
        const result = await call(server.client, kind, await dpopCall(kind, { now: now(), claims: { nonce } }), {}, text);
        const nonces = [...result.headerNonces, ...result.trailerNonces];
        assert.equal(nonces.length, 1, `${kind} ${text}: ${JSON.stringify(result)}`);
        assert.match(nonces[0] ?? '', /^[A-Za-z0-9_-]{43}$/);
        assert.notEqual(nonces[0], nonce);
      }
    });

    it('nonces on: iat 10 minutes old or 10 minutes ahead with a valid nonce → DPOP_PROOF_STALE (oidc-provider "proof is conform", nonces on)', async () => {
      const { server, nonce, now } = await nonceServer();
      for (const shift of [-10 * 60_000, 10 * 60_000]) {
        const result = await call(server.client, 'unary', await dpopCall('unary', { now: now() + shift, claims: { nonce } }));
        assert.equal(result.reason, 'DPOP_PROOF_STALE', String(shift));
      }
    });
  });

  describe('replay store failures and the verification limit', () => {
    it('a store that never settles: the call ends at its deadline, the handler never runs', async () => {
      const server = await serve({ replayStore: { add: () => new Promise<boolean>(() => undefined) } });
      const result = await call(server.client, 'unary', await dpopCall('unary'), { deadline: Date.now() + 300 });
      assert.equal(result.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(server.runs.unary, 0);
    });

    it('a store that never settles holds no place under maxConcurrentVerifications: with a bound of 1, fresh Bearer and DPoP tokens are still verified after hung calls', async () => {
      const server = await serve({ replayStore: { add: () => new Promise<boolean>(() => undefined) }, maxConcurrentVerifications: 1 });
      for (let i = 0; i < 3; i += 1) {
        const hung = await call(server.client, 'unary', await dpopCall('unary'), { deadline: Date.now() + 200 });
        assert.equal(hung.code, grpc.status.DEADLINE_EXCEEDED);
      }
      // A new bearer token needs a full verification: a place must be free.
      const fresh = await idp.sign({ sub: 'carol' });
      assert.equal((await call(server.client, 'unary', credentials(`Bearer ${fresh}`))).code, 0);
      // A proof under a new token is checked too (then it waits on the store until its deadline).
      const freshBound = await idp.sign({ sub: 'dave', cnf: { jkt: key.jkt } });
      const waiting = await call(server.client, 'unary', await dpopCall('unary', {}, freshBound), { deadline: Date.now() + 200 });
      assert.equal(waiting.code, grpc.status.DEADLINE_EXCEEDED);
    });

    it('a store that throws: UNAVAILABLE REPLAY_CHECK_UNAVAILABLE with a logger warning, and its place under maxConcurrentVerifications is given back', async () => {
      const warnings: Array<Record<string, unknown>> = [];
      let failures = 2;
      const inner = createMemoryReplayStore();
      const replayStore: ReplayStore = {
        add: (entry, expiresAt) => {
          if (failures > 0) {
            failures -= 1;
            throw new Error('store down');
          }
          return inner.add(entry, expiresAt);
        },
      };
      const server = await serve({ replayStore, maxConcurrentVerifications: 1, logger: { warn: (fields) => void warnings.push(fields) } });
      for (let i = 0; i < 2; i += 1) {
        const result = await call(server.client, 'unary', await dpopCall('unary'));
        assert.deepEqual([result.code, result.reason], [grpc.status.UNAVAILABLE, 'REPLAY_CHECK_UNAVAILABLE']);
      }
      assert.equal((await call(server.client, 'unary', await dpopCall('unary'))).code, 0);
      assert.ok(warnings.some((fields) => fields.code === 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE'));
    });

    it('proof checks that fail (bad signature, key mismatch, stale, malformed) give their place back: with maxConcurrentVerifications 1, a good call after twenty refused ones → OK', async () => {
      const server = await serve({ maxConcurrentVerifications: 1 });
      const good = await proofFor('unary');
      const failing = [
        credentials(`DPoP ${bound}`, [`${good.slice(0, good.lastIndexOf('.'))}.${'A'.repeat(86)}`]),
        await dpopCall('unary', {}, bound, thief),
        await dpopCall('unary', { now: Date.now() - 600_000 }),
        credentials(`DPoP ${bound}`, ['not.a.proof']),
        await dpopCall('unary', { signWith: thief }),
      ];
      for (let round = 0; round < 4; round += 1) {
        for (const metadata of failing) assert.equal((await call(server.client, 'unary', metadata)).code, grpc.status.UNAUTHENTICATED);
      }
      assert.equal((await call(server.client, 'unary', credentials(`DPoP ${bound}`, [good]))).code, 0);
    });

    it('server defaults: a dpop value far over the metadata limit never reaches a handler, and the server keeps serving', async () => {
      const server = await serve();
      const huge = await call(server.client, 'unary', credentials(`DPoP ${bound}`, ['A'.repeat(64 * 1024)]), { deadline: Date.now() + 10_000 });
      assert.notEqual(huge.code, grpc.status.OK);
      assert.notEqual(huge.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(server.runs.unary, 0);
      assert.equal((await call(server.client, 'unary', await dpopCall('unary'))).code, 0);
    });

    it('calls waiting on the replay store hold no place: with a bound of 2 and two calls held by the store, five more are checked (none VERIFIER_BUSY) and wait too; once it answers, all pass', async () => {
      const releases: Array<(answer: boolean) => void> = [];
      let holding = true;
      const inner = createMemoryReplayStore();
      const replayStore: ReplayStore = {
        add: (entry, expiresAt) => (holding ? new Promise<boolean>((settle) => releases.push(settle)) : inner.add(entry, expiresAt)),
      };
      const server = await serve({ replayStore, maxConcurrentVerifications: 2 });
      const waiting = [call(server.client, 'unary', await dpopCall('unary'))];
      while (releases.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      waiting.push(call(server.client, 'unary', await dpopCall('unary')));
      while (releases.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      for (let i = 0; i < 5; i += 1) waiting.push(call(server.client, 'unary', await dpopCall('unary')));
      // Every proof was checked and reached the store: none was shed while the others waited there.
      while (releases.length < 7) await new Promise((resolve) => setTimeout(resolve, 5));
      holding = false;
      for (const release of releases) release(true);
      assert.deepEqual(
        (await Promise.all(waiting)).map((result) => result.code),
        Array.from({ length: 7 }, () => 0),
      );
      assert.equal((await call(server.client, 'unary', await dpopCall('unary'))).code, 0);
    });
  });

  describe('challenges (oidc-provider userinfo, spring-security DPoPAuthenticationTests)', () => {
    it('a call that meant DPoP and was refused before its token was read answers in the DPoP scheme with algs: Bearer with a proof, a malformed DPoP authorization', async () => {
      const server = await serve();
      const shapes: ReadonlyArray<readonly [string, grpc.Metadata]> = [
        ['Bearer with a dpop proof', credentials(`Bearer ${bound}`, [await proofFor('unary')])],
        ['DPoP <token> m a l f o r m e d', credentials(`DPoP ${bound} m a l f o r m e d`, [await proofFor('unary')])],
        ['DPoP without a token', credentials('DPoP', [await proofFor('unary')])],
      ];
      for (const [name, metadata] of shapes) {
        const result = await call(server.client, 'unary', metadata);
        assert.equal(result.reason, 'AUTHORIZATION_MALFORMED', name);
        assert.equal(result.challenges.length, 1, name);
        assert.match(result.challenges[0] ?? '', /^DPoP error="invalid_request", error_description="[^"]+", algs="ES256 EdDSA PS256"$/, name);
      }
      // A call that did not try DPoP keeps its Bearer challenge, plus the DPoP one.
      const basic = await call(server.client, 'unary', credentials('Basic dXNlcjpwYXNz'));
      assert.match(basic.challenges[0] ?? '', /^Bearer error="invalid_request", .*, DPoP algs="ES256 EdDSA PS256"$/);
    });

    it('every challenge parses as RFC 6750 auth-params (no double quote inside error_description, auth0 "replace double quotes"); a DPoP server names both schemes in a malformed refusal', async () => {
      // RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E; a `"` inside ends the quoted string early.
      const param = '[a-z_]+="[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]*"';
      const wellFormed = new RegExp(`^(Bearer|DPoP)( ${param}(, ${param})*)?(, DPoP algs="[A-Za-z0-9 ]+")?$`);
      const plain = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'] });
      const bearerOnly = await startEchoServer({ interceptors: [plain], implementation: reviewEcho });
      servers.push(bearerOnly);
      const dpopServer = await serve();
      for (const [name, server] of [
        ['bearer-only', bearerOnly],
        ['dpop', dpopServer],
      ] as const) {
        for (const authorization of ['Basic dXNlcjpwYXNz', `Bearer ${unbound} x`, `DPoP ${bound} x`, 'Bearer']) {
          const result = await call(server.client, 'unary', credentials(authorization));
          assert.equal(result.reason, 'AUTHORIZATION_MALFORMED', `${name} ${authorization.slice(0, 8)}`);
          for (const challenge of result.challenges) assert.match(challenge, wellFormed, `${name} ${authorization.slice(0, 8)}`);
        }
      }
      const malformed = await call(dpopServer.client, 'unary', credentials('Basic dXNlcjpwYXNz'));
      assert.match(malformed.details, /Bearer <token>.*DPoP <token>/);
    });

    it('DPoP without a proof → invalid_request in the DPoP scheme; a DPoP call with a token that is no JWT → invalid_token in the DPoP scheme; ath mismatch → invalid_dpop_proof', async () => {
      const server = await serve();
      const missing = await call(server.client, 'unary', credentials(`DPoP ${bound}`));
      assert.match(missing.challenges[0] ?? '', /^DPoP error="invalid_request", error_description="[^"]+", algs="ES256 EdDSA PS256"$/);
      const notJwt = await call(server.client, 'unary', credentials('DPoP token', [await proofFor('unary', {}, 'token')]));
      assert.match(notJwt.challenges[0] ?? '', /^DPoP error="invalid_token"/);
      const ath = await call(server.client, 'unary', credentials(`DPoP ${bound}`, [await proofFor('unary', { accessToken: 'anotherAccessTokenValue' })]));
      assert.deepEqual([ath.reason, /^DPoP error="invalid_dpop_proof"/.test(ath.challenges[0] ?? '')], ['DPOP_PROOF_INVALID', true]);
    });

    for (const nonces of [true, false]) {
      it(`iat 301 s old or ahead without a nonce, nonces ${nonces ? 'on → use_dpop_nonce with a dpop-nonce' : 'off → invalid_dpop_proof, no dpop-nonce'} (oidc-provider "proof is conform")`, async () => {
        const server = await serve({ dpop: { origins: [TEST_ORIGIN], ...(nonces ? { nonce: true as const } : {}) } });
        for (const shift of [301_000, -301_000]) {
          const result = await call(server.client, 'unary', await dpopCall('unary', { now: Date.now() + shift }));
          if (nonces) {
            assert.deepEqual([result.reason, result.trailerNonces.length], ['DPOP_NONCE_REQUIRED', 1]);
            assert.match(result.challenges[0] ?? '', /^DPoP error="use_dpop_nonce"/);
          } else {
            assert.deepEqual([result.reason, result.trailerNonces.length], ['DPOP_PROOF_STALE', 0]);
            assert.match(result.challenges[0] ?? '', /^DPoP error="invalid_dpop_proof"/);
          }
        }
      });
    }
  });

  describe('configuration', () => {
    it('dpop with a tokenFrom other than authorization (metadata, cookie, function) → AuthConfigError naming tokenFrom', () => {
      for (const tokenFrom of [{ metadata: 'x-token' }, { cookie: 'session' }, () => undefined] as const) {
        assert.throws(
          () => createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], dpop: { origins: [TEST_ORIGIN] }, tokenFrom }),
          (error: unknown) => error instanceof AuthConfigError && error.option === 'tokenFrom',
        );
      }
      assert.doesNotThrow(() =>
        createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], dpop: { origins: [TEST_ORIGIN] }, tokenFrom: 'authorization' }).close(),
      );
    });

    it("per issuer: certificateBinding 'off' still needs the DPoP proof of a jkt token; dpopBinding 'required' refuses only that issuer's unbound tokens", async () => {
      const other = await createTestIssuer({ alg: 'ES256', issuer: 'https://other.test/' });
      const server = await serve({
        issuers: [
          { issuer: idp.issuer, keys: idp.keys, algorithms: ['ES256'], certificateBinding: 'off' },
          { issuer: other.issuer, keys: other.keys, algorithms: ['ES256'], dpopBinding: 'required' },
        ],
      });
      const both = await idp.sign({ sub: 'alice', cnf: { jkt: key.jkt, 'x5t#S256': 'A'.repeat(43) } });
      assert.equal((await call(server.client, 'unary', await dpopCall('unary', {}, both))).code, 0);
      assert.equal((await call(server.client, 'unary', credentials(`Bearer ${both}`))).reason, 'DPOP_SCHEME_REQUIRED');
      assert.equal((await call(server.client, 'unary', credentials(`Bearer ${unbound}`))).code, 0);
      assert.equal((await call(server.client, 'unary', credentials(`Bearer ${await other.sign({ sub: 'carol' })}`))).reason, 'TOKEN_NOT_BOUND');
      const otherBound = await other.sign({ sub: 'carol', cnf: { jkt: key.jkt } });
      assert.equal((await call(server.client, 'unary', await dpopCall('unary', {}, otherBound))).code, 0);
    });

    it('the :authority a client sends is never trusted (auth0 "Host injection"): a proof naming it → DPOP_PROOF_INVALID, a proof for the configured origin → OK', async () => {
      const server = await serve();
      const hostile = new EchoClient(server.address, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'evil.test' }) as Client;
      try {
        assert.equal((await call(hostile, 'unary', await dpopCall('unary', { origin: 'https://evil.test' }))).reason, 'DPOP_PROOF_INVALID');
        assert.equal((await call(hostile, 'unary', await dpopCall('unary'))).code, 0);
      } finally {
        hostile.close();
      }
    });
  });

  describe('a token bound to a certificate and a DPoP key, over mutual TLS (Abblix #159: each binding enforced)', () => {
    const ca = testCertificateAuthority();
    it(
      'needs both: its certificate and its proof → OK with both thumbprints; the other certificate → CERTIFICATE_MISMATCH before any proof work; its certificate without the proof → DPOP_SCHEME_REQUIRED / DPOP_PROOF_MISSING; a thief key → DPOP_KEY_MISMATCH',
      { skip: ca === undefined && 'openssl not found' },
      async () => {
        const authority = ca as NonNullable<typeof ca>;
        try {
          const serverCert = authority.issue('localhost', 'server', ['localhost', '127.0.0.1']);
          const clientA = authority.issue('client-a', 'client');
          const clientB = authority.issue('client-b', 'client');
          const store = countingStore();
          const events: AuthenticatedEvent[] = [];
          const auth = createAuthInterceptor({
            keys: idp.keys,
            algorithms: ['ES256'],
            dpop: { origins: [TEST_ORIGIN] },
            replayStore: store,
            onAuthenticated: (event) => events.push(event),
          });
          const server = await startEchoServer({
            interceptors: [auth],
            implementation: reviewEcho,
            credentials: grpc.ServerCredentials.createSsl(authority.cert, [{ private_key: serverCert.key, cert_chain: serverCert.cert }], true),
            clientCredentials: grpc.credentials.createSsl(authority.cert, clientA.key, clientA.cert),
          });
          servers.push(server);
          const asB = new EchoClient(`localhost:${server.port}`, grpc.credentials.createSsl(authority.cert, clientB.key, clientB.cert)) as Client;
          const asA = new EchoClient(`localhost:${server.port}`, grpc.credentials.createSsl(authority.cert, clientA.key, clientA.cert)) as Client;
          try {
            const both = await idp.sign({ sub: 'alice' }, { bindTo: { jkt: key.jkt, certificate: clientA.cert } });
            assert.equal((await call(asB, 'unary', await dpopCall('unary', {}, both))).reason, 'CERTIFICATE_MISMATCH');
            assert.equal(store.adds, 0, 'no proof was checked for the wrong certificate');
            for (const kind of KINDS) assert.equal((await call(asA, kind, await dpopCall(kind, {}, both))).code, 0, kind);
            assert.deepEqual(
              events.map((event) => [event.certificateThumbprint, event.dpopThumbprint]),
              KINDS.map(() => [certificateThumbprint(clientA.cert), key.jkt]),
            );
            assert.equal((await call(asA, 'unary', credentials(`Bearer ${both}`))).reason, 'DPOP_SCHEME_REQUIRED');
            assert.equal((await call(asA, 'unary', credentials(`DPoP ${both}`))).reason, 'DPOP_PROOF_MISSING');
            assert.equal((await call(asA, 'unary', await dpopCall('unary', {}, both, thief))).reason, 'DPOP_KEY_MISMATCH');
          } finally {
            asA.close();
            asB.close();
          }
        } finally {
          authority.remove();
        }
      },
    );
  });

  describe('events and logs', () => {
    it('never carry the token or the proof (not even a segment of either); jkt may appear', async () => {
      const logged: string[] = [];
      const log = (fields: unknown, message?: string) =>
        void logged.push(
          JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? { message: v.message, cause: String(v.cause) } : v)),
          String(message),
        );
      const events: Array<AuthenticatedEvent | RejectedEvent> = [];
      const server = await serve({
        logger: { debug: log, info: log, warn: log, error: log },
        onAuthenticated: (event) => events.push(event),
        onRejected: (event) => events.push(event),
        replayStore: { add: (k) => (k.endsWith('replay') ? false : true) },
      });
      const proofs: string[] = [];
      const send = async (metadata: grpc.Metadata): Promise<void> => {
        proofs.push(...metadata.get('dpop').map(String));
        await call(server.client, 'unary', metadata);
      };
      await send(await dpopCall('unary'));
      await send(await dpopCall('unary', {}, bound, thief));
      await send(await dpopCall('unary', { claims: { htm: 'GET' } }));
      await send(await dpopCall('unary', { now: Date.now() - 600_000 }));
      await send(await dpopCall('unary', { claims: { jti: 'replay' } }));
      await send(credentials(`DPoP ${bound}`, [`${(await proofFor('unary')).split('.').slice(0, 2).join('.')}.AAAA`]));
      await send(credentials(`DPoP ${bound}`, ['eyJhbGciOiJub25lIn0.eyJ9.']));
      await send(credentials(`Bearer ${bound}`, [await proofFor('unary')]));
      await send(credentials(`Bearer ${bound}`));
      const text = [
        ...logged,
        ...events.map((event) =>
          JSON.stringify({
            ...event,
            metadata: event.metadata.toJSON(),
            error: 'error' in event ? { message: event.error.message, cause: String(event.error.cause) } : undefined,
          }),
        ),
      ].join('\n');
      const secrets = [bound, ...bound.split('.'), ...proofs, ...proofs.flatMap((proof) => proof.split('.')).filter((segment) => segment.length > 8)];
      for (const secret of secrets) assert.ok(!text.includes(secret), `leaked ${secret.slice(0, 12)}…`);
      assert.ok(text.includes(key.jkt));
    });
  });
});
