/**
 * The DPoP client (RFC 9449) against real servers: a grpc-js server on 127.0.0.1:0 whose interceptor
 * records every call's metadata and refuses on demand (the library's server-side verifier is not used:
 * proofs are checked here with jose directly), and a node:http token endpoint on 127.0.0.1:0.
 *
 * Cases ported from panva/oauth4webapi `test/dpop.test.ts` (commit 11c0206): "dpop()" (proof contents
 * seen by the resource server: `authorization: DPoP token`, header `{ alg, typ, jwk }`, claims `htu`
 * without query and fragment, `htm`, `iat`, `jti`, `ath`) and "dpop() w/ a nonce" (the first request
 * carries no nonce, the server answers with `DPoP-Nonce`, the next request carries it), here for gRPC
 * calls and for the token endpoint. Our own code, their cases.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { EmbeddedJWK, calculateJwkThumbprint, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import {
  AuthConfigError,
  clientCredentials,
  createCallCredentials,
  createDpopKey,
  createTokenInterceptor,
  isTokenError,
  refreshingToken,
  type DpopKey,
  type TokenInterceptorOptions,
} from '../../src/client/index.ts';
import { ERROR_DOMAIN, encodeStatusDetails } from '../../src/errors/error-info.ts';
import { bidi, clientStream, serverStream, unary } from '../support/calls.ts';
import { EchoClient, METHODS, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
type Client = grpc.Client & Record<string, any>;

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3b3JrZXIifQ.c2lnbmF0dXJl';
const sha256 = (text: string): string => createHash('sha256').update(text, 'ascii').digest('base64url');

/** What the server's interceptor saw of one call. */
interface Seen {
  readonly method: string;
  readonly authorization: string[];
  readonly dpop: string[];
}

/** A refusal the server makes, before any handler runs. */
interface Refusal {
  readonly reason: 'DPOP_NONCE_REQUIRED' | 'TOKEN_EXPIRED';
  readonly nonce?: string;
}

interface DpopServer {
  readonly echo: EchoServer;
  readonly seen: Seen[];
  /** Refusals for the next calls, one per call, in order. */
  readonly refusals: Refusal[];
  /** A nonce to send in the response headers of admitted calls. */
  headerNonce: string | undefined;
  client(options: TokenInterceptorOptions, target?: string): Client;
  close(): Promise<void>;
}

async function startDpopServer(): Promise<DpopServer> {
  const seen: Seen[] = [];
  const refusals: Refusal[] = [];
  const state = { headerNonce: undefined as string | undefined };
  const recorder: grpc.ServerInterceptor = (descriptor, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, proceed) => {
            seen.push({ method: descriptor.path, authorization: metadata.get('authorization').map(String), dpop: metadata.get('dpop').map(String) });
            const refusal = refusals.shift();
            if (refusal === undefined) {
              proceed(metadata);
              return;
            }
            const trailers = new Metadata();
            trailers.set(
              'grpc-status-details-bin',
              encodeStatusDetails(status.UNAUTHENTICATED, 'refused', { reason: refusal.reason, domain: ERROR_DOMAIN, metadata: {} }),
            );
            if (refusal.nonce !== undefined) trailers.set('dpop-nonce', refusal.nonce);
            call.sendStatus({ code: status.UNAUTHENTICATED, details: 'refused', metadata: trailers });
          },
        }),
      sendMetadata: (metadata, next) => {
        if (state.headerNonce !== undefined) metadata.set('dpop-nonce', state.headerNonce);
        next(metadata);
      },
    });
  const echo = await startEchoServer({ interceptors: [recorder] });
  const clients: Client[] = [];
  return {
    echo,
    seen,
    refusals,
    get headerNonce() {
      return state.headerNonce;
    },
    set headerNonce(value) {
      state.headerNonce = value;
    },
    client(options, target = echo.address) {
      const client = new EchoClient(target, grpc.credentials.createInsecure(), { interceptors: [createTokenInterceptor(options)] }) as Client;
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await echo.close();
    },
  };
}

/** Checks one proof as a resource server would (jose, the key in its header) and returns its claims. */
async function checkProof(proof: string | undefined, expected: { htu: string; token: string; key: DpopKey }): Promise<JWTPayload> {
  assert.ok(proof !== undefined, 'a dpop value');
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'EdDSA', 'PS256'] });
  assert.equal(protectedHeader.alg, expected.key.alg);
  assert.deepEqual(protectedHeader.jwk, expected.key.publicJwk, 'the public key only');
  assert.equal(await calculateJwkThumbprint(protectedHeader.jwk!, 'sha256'), expected.key.thumbprint);
  assert.equal(payload.htm, 'POST');
  assert.equal(payload.htu, expected.htu);
  assert.equal(payload.ath, sha256(expected.token));
  assert.equal(typeof payload.jti, 'string');
  assert.ok(typeof payload.iat === 'number' && Math.abs(payload.iat - Date.now() / 1000) < 60);
  return payload;
}

function assertConfigError(option: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof AuthConfigError, String(error));
    assert.equal(error.option, option);
    return true;
  };
}

/** One request the token endpoint got. */
interface TokenRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: URLSearchParams;
}

interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

/** A node:http token endpoint on 127.0.0.1:0 that answers with `answer(request, index)`. */
async function startTokenEndpoint(answer: (request: TokenRequest, index: number) => TokenAnswer) {
  const requests: TokenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { headers: req.headers, body: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) };
      requests.push(request);
      const reply = answer(request, requests.length - 1);
      res.writeHead(reply.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/oauth/token`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const DPOP_TOKEN: TokenAnswer = { status: 200, body: { access_token: TOKEN, token_type: 'DPoP', expires_in: 300 } };

describe('DPoP token interceptor: what each call carries', () => {
  let server: DpopServer;
  let key: DpopKey;
  const htu = (method: string, origin = 'https://127.0.0.1') => `${origin}${method}`;

  before(async () => {
    server = await startDpopServer();
    key = await createDpopKey();
  });
  after(() => server.close());

  it('dpop(): unary carries authorization: DPoP <token> and one proof (typ, public jwk, htm POST, htu https://<host>/<method>, ath)', async () => {
    const outcome = await unary(server.client({ token: TOKEN, dpop: { key } }), new Metadata());
    assert.equal(outcome.code, status.OK);
    const call = server.seen.at(-1)!;
    assert.deepEqual(call.authorization, [`DPoP ${TOKEN}`]);
    assert.equal(call.dpop.length, 1);
    const claims = await checkProof(call.dpop[0], { htu: htu(METHODS.unary), token: TOKEN, key });
    assert.equal('nonce' in claims, false, 'no nonce before the server sent one');
  });

  it('all four call kinds: one proof each (streams: one at the start), a new jti every call', async () => {
    const client = server.client({ token: TOKEN, dpop: { key } });
    const start = server.seen.length;
    const outcomes = [
      await unary(client, new Metadata()),
      await serverStream(client, new Metadata()),
      await clientStream(client, new Metadata()),
      await bidi(client, new Metadata()),
      await unary(client, new Metadata()),
    ];
    for (const outcome of outcomes) assert.equal(outcome.code, status.OK);
    const calls = server.seen.slice(start);
    assert.deepEqual(
      calls.map((call) => call.method),
      [METHODS.unary, METHODS.serverStream, METHODS.clientStream, METHODS.bidi, METHODS.unary],
    );
    const ids = new Set<unknown>();
    for (const call of calls) {
      assert.deepEqual(call.authorization, [`DPoP ${TOKEN}`]);
      assert.equal(call.dpop.length, 1, call.method);
      ids.add((await checkProof(call.dpop[0], { htu: htu(call.method), token: TOKEN, key })).jti);
    }
    assert.equal(ids.size, calls.length, 'every proof has its own jti');
  });

  it("the application's own authorization and dpop values are replaced, and its Metadata object is left as it was", async () => {
    const metadata = new Metadata();
    metadata.set('dpop', 'forged');
    metadata.set('authorization', 'Bearer other');
    assert.equal((await unary(server.client({ token: TOKEN, dpop: { key } }), metadata)).code, status.OK);
    const call = server.seen.at(-1)!;
    assert.deepEqual(call.authorization, [`DPoP ${TOKEN}`]);
    assert.equal(call.dpop.length, 1);
    assert.notEqual(call.dpop[0], 'forged');
    assert.deepEqual(metadata.get('dpop'), ['forged']);
  });

  it('dpop.origin replaces the default origin of htu; a localhost target gives https://localhost', async () => {
    await unary(server.client({ token: TOKEN, dpop: { key, origin: 'https://orders.test:8443' } }), new Metadata());
    await checkProof(server.seen.at(-1)!.dpop[0], { htu: htu(METHODS.unary, 'https://orders.test:8443'), token: TOKEN, key });
    await unary(server.client({ token: TOKEN, dpop: { key } }, `localhost:${server.echo.port}`), new Metadata());
    await checkProof(server.seen.at(-1)!.dpop[0], { htu: htu(METHODS.unary, 'https://localhost'), token: TOKEN, key });
  });

  it('a token source that is a function: each call gets its token and a proof whose ath is of that token', async () => {
    let n = 0;
    const client = server.client({ token: () => `${TOKEN}${n++}`, dpop: { key } });
    await unary(client, new Metadata());
    const first = server.seen.at(-1)!;
    await unary(client, new Metadata());
    const second = server.seen.at(-1)!;
    await checkProof(first.dpop[0], { htu: htu(METHODS.unary), token: `${TOKEN}0`, key });
    await checkProof(second.dpop[0], { htu: htu(METHODS.unary), token: `${TOKEN}1`, key });
  });
});

describe('DPoP token interceptor: server nonces', () => {
  let server: DpopServer;

  before(async () => {
    server = await startDpopServer();
  });
  after(() => server.close());

  it('dpop() w/ a nonce, unary: refused with DPOP_NONCE_REQUIRED and a dpop-nonce trailer → retried once with a new proof carrying it → OK', async () => {
    const key = await createDpopKey();
    const client = server.client({ token: TOKEN, dpop: { key } });
    const start = server.seen.length;
    const runs = server.echo.runs.unary;
    server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', nonce: 'n-1' });
    const outcome = await unary(client, new Metadata());
    assert.equal(outcome.code, status.OK);
    const [first, retry] = server.seen.slice(start);
    assert.equal(server.seen.length - start, 2);
    assert.equal(decodeJwt(first!.dpop[0]!).nonce, undefined);
    assert.equal(decodeJwt(retry!.dpop[0]!).nonce, 'n-1');
    assert.notEqual(decodeJwt(first!.dpop[0]!).jti, decodeJwt(retry!.dpop[0]!).jti, 'a new proof, not the refused one again');
    assert.equal(server.echo.runs.unary - runs, 1);
    // The next call starts with the nonce: no refusal round trip.
    await unary(client, new Metadata());
    assert.equal(decodeJwt(server.seen.at(-1)!.dpop[0]!).nonce, 'n-1');
  });

  it('unary refused twice for a nonce → the second refusal is delivered (one retry per call), the handler never ran', async () => {
    const key = await createDpopKey();
    const start = server.seen.length;
    const runs = server.echo.runs.unary;
    server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', nonce: 'n-2' }, { reason: 'DPOP_NONCE_REQUIRED', nonce: 'n-3' });
    const outcome = await unary(server.client({ token: TOKEN, dpop: { key } }), new Metadata());
    assert.equal(outcome.code, status.UNAUTHENTICATED);
    assert.equal(outcome.reason, 'DPOP_NONCE_REQUIRED');
    assert.equal(server.seen.length - start, 2);
    assert.equal(server.echo.runs.unary, runs);
  });

  it('one retry in total: TOKEN_EXPIRED (retried with a fresh token) then DPOP_NONCE_REQUIRED → delivered', async () => {
    const key = await createDpopKey();
    let n = 0;
    const start = server.seen.length;
    server.refusals.push({ reason: 'TOKEN_EXPIRED' }, { reason: 'DPOP_NONCE_REQUIRED', nonce: 'n-4' });
    const outcome = await unary(server.client({ token: () => `${TOKEN}${n++}`, dpop: { key } }), new Metadata());
    assert.equal(outcome.code, status.UNAUTHENTICATED);
    assert.equal(outcome.reason, 'DPOP_NONCE_REQUIRED');
    assert.equal(server.seen.length - start, 2);
  });

  it('no retry without a new nonce: a refusal without a dpop-nonce trailer, or with the nonce just sent, is delivered', async () => {
    const key = await createDpopKey();
    const client = server.client({ token: TOKEN, dpop: { key } });
    let start = server.seen.length;
    server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED' });
    assert.equal((await unary(client, new Metadata())).reason, 'DPOP_NONCE_REQUIRED');
    assert.equal(server.seen.length - start, 1);
    server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', nonce: 'n-5' });
    assert.equal((await unary(client, new Metadata())).code, status.OK, 'stored, retried');
    start = server.seen.length;
    server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', nonce: 'n-5' });
    assert.equal((await unary(client, new Metadata())).reason, 'DPOP_NONCE_REQUIRED');
    assert.equal(server.seen.length - start, 1, 'the nonce the proof already carried: retrying would be refused again');
  });

  it('a refused nonce on a Bearer call (no DPoP) is not retried', async () => {
    const start = server.seen.length;
    server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', nonce: 'n-6' });
    assert.equal((await unary(server.client({ token: TOKEN }), new Metadata())).code, status.UNAUTHENTICATED);
    assert.equal(server.seen.length - start, 1);
    assert.deepEqual(server.seen.at(-1)!.authorization, [`Bearer ${TOKEN}`]);
    assert.deepEqual(server.seen.at(-1)!.dpop, []);
  });

  it('streams are never replayed, but the nonce of their refusal is used by the next call', async () => {
    for (const [kind, run] of [
      ['server stream', serverStream],
      ['client stream', clientStream],
      ['bidi', bidi],
    ] as const) {
      const key = await createDpopKey();
      const client = server.client({ token: TOKEN, dpop: { key } });
      const start = server.seen.length;
      server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', nonce: `s-${kind.replace(' ', '-')}` });
      const refused = await run(client, new Metadata());
      assert.equal(refused.code, status.UNAUTHENTICATED, kind);
      assert.equal(refused.reason, 'DPOP_NONCE_REQUIRED', kind);
      assert.equal(server.seen.length - start, 1, `${kind}: not replayed`);
      assert.equal((await unary(client, new Metadata())).code, status.OK, kind);
      assert.equal(decodeJwt(server.seen.at(-1)!.dpop[0]!).nonce, `s-${kind.replace(' ', '-')}`, kind);
    }
  });

  it('a dpop-nonce in the response headers of an admitted call is used by the next call, for that origin only', async () => {
    const key = await createDpopKey();
    const client = server.client({ token: TOKEN, dpop: { key } });
    server.headerNonce = 'h-1';
    try {
      assert.equal((await serverStream(client, new Metadata())).code, status.OK);
    } finally {
      server.headerNonce = undefined;
    }
    await unary(client, new Metadata());
    assert.equal(decodeJwt(server.seen.at(-1)!.dpop[0]!).nonce, 'h-1');
    await unary(server.client({ token: TOKEN, dpop: { key, origin: 'https://elsewhere.test' } }), new Metadata());
    assert.equal(decodeJwt(server.seen.at(-1)!.dpop[0]!).nonce, undefined, 'another origin, no nonce');
  });

  it('a hostile dpop-nonce (a quote, 2000 characters) is not stored and causes no retry', async () => {
    const key = await createDpopKey();
    const client = server.client({ token: TOKEN, dpop: { key } });
    for (const nonce of ['a"b', 'x'.repeat(2000)]) {
      const start = server.seen.length;
      server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', nonce });
      assert.equal((await unary(client, new Metadata())).reason, 'DPOP_NONCE_REQUIRED');
      assert.equal(server.seen.length - start, 1);
    }
    await unary(client, new Metadata());
    assert.equal(decodeJwt(server.seen.at(-1)!.dpop[0]!).nonce, undefined);
  });
});

describe('DPoP token interceptor: the proof cannot be made', () => {
  let server: DpopServer;
  let key: DpopKey;

  before(async () => {
    server = await startDpopServer();
    key = await createDpopKey();
  });
  after(() => server.close());

  it('a key whose proof throws → INTERNAL, nothing sent; one that never answers → the deadline ends the call, nothing sent', async () => {
    const start = server.seen.length;
    const throwing: DpopKey = { ...key, proof: async () => Promise.reject(new Error('hardware key unplugged')) };
    const failed = await unary(server.client({ token: TOKEN, dpop: { key: throwing } }), new Metadata());
    assert.equal(failed.code, status.INTERNAL);
    assert.equal(failed.details.includes('unplugged'), false, 'no text of the key in the status');
    const stuck: DpopKey = { ...key, proof: () => new Promise<string>(() => undefined) };
    const late = await unary(server.client({ token: TOKEN, dpop: { key: stuck } }), new Metadata(), 'x', { deadline: Date.now() + 200 });
    assert.equal(late.code, status.DEADLINE_EXCEEDED);
    const cancelled = await new Promise<number>((resolve) => {
      const call = server.client({ token: TOKEN, dpop: { key: stuck } }).ServerStream({ text: 'x' }, new Metadata());
      call.on('error', (error: grpc.ServiceError) => resolve(error.code));
      setTimeout(() => call.cancel(), 50);
    });
    assert.equal(cancelled, status.CANCELLED);
    assert.equal(server.seen.length, start, 'the server saw none of these calls');
  });
});

describe('DPoP token interceptor: configuration', () => {
  it('dpop options are checked at construction, naming the option', async () => {
    const key = await createDpopKey();
    const make = (dpop: unknown) => () => createTokenInterceptor({ token: TOKEN, dpop: dpop as never });
    assert.throws(make({}), assertConfigError('dpop.key'));
    assert.throws(make([]), assertConfigError('dpop'));
    assert.throws(make({ key: 'ES256' }), assertConfigError('dpop.key'));
    assert.throws(make({ key, origins: ['https://a.test'] }), assertConfigError('dpop.origins'));
    for (const origin of [
      'orders.test',
      'https://orders.test/',
      'https://orders.test/api',
      'https://orders.test?x',
      'ftp://orders.test',
      'https://u:p@orders.test',
    ]) {
      assert.throws(make({ key, origin }), assertConfigError('dpop.origin'), origin);
    }
    assert.doesNotThrow(make({ key, origin: 'https://orders.test:8443' }));
    assert.doesNotThrow(make({ key, origin: 'http://localhost:8080' }));
  });
});

describe('DPoP at the token endpoint (RFC 9449 §5) and the key of the token source', () => {
  it('clientCredentials with dpop: the request carries a DPoP proof (htm POST, htu = token URL without query, no ath); token_type DPoP is accepted', async () => {
    const key = await createDpopKey({ alg: 'EdDSA' });
    const endpoint = await startTokenEndpoint(() => DPOP_TOKEN);
    try {
      const source = clientCredentials({ tokenUrl: `${endpoint.url}?tenant=a#frag`, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      assert.equal(await source.getToken(), TOKEN);
      const proof = endpoint.requests[0]?.headers.dpop;
      assert.equal(typeof proof, 'string');
      const { payload, protectedHeader } = await jwtVerify(proof as string, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['EdDSA'] });
      assert.deepEqual(protectedHeader.jwk, key.publicJwk);
      assert.equal(payload.htm, 'POST');
      assert.equal(payload.htu, endpoint.url);
      assert.equal('ath' in payload, false);
      assert.equal('nonce' in payload, false);
    } finally {
      await endpoint.close();
    }
  });

  it('dpop() w/ a nonce: 400 use_dpop_nonce with a DPoP-Nonce header → asked again once with a proof carrying it; the next request starts with it', async () => {
    const key = await createDpopKey();
    const endpoint = await startTokenEndpoint((_request, index) =>
      index === 0 ? { status: 400, body: { error: 'use_dpop_nonce' }, headers: { 'DPoP-Nonce': 'as-1' } } : DPOP_TOKEN,
    );
    try {
      const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      assert.equal(await source.getToken(), TOKEN);
      assert.equal(endpoint.requests.length, 2);
      const [first, second] = endpoint.requests.map((request) => decodeJwt(String(request.headers.dpop)));
      assert.equal(first?.nonce, undefined);
      assert.equal(second?.nonce, 'as-1');
      assert.notEqual(first?.jti, second?.jti);
      await source.refresh(TOKEN);
      assert.equal(decodeJwt(String(endpoint.requests[2]?.headers.dpop)).nonce, 'as-1');
    } finally {
      await endpoint.close();
    }
  });

  it('refused for a nonce twice (400, then 401) → ERR_TOKEN_REQUEST_REJECTED use_dpop_nonce, retryable, after two requests', async () => {
    const key = await createDpopKey();
    const endpoint = await startTokenEndpoint((_request, index) => ({
      status: index === 0 ? 400 : 401,
      body: { error: 'use_dpop_nonce' },
      headers: { 'DPoP-Nonce': `as-${index}` },
    }));
    try {
      const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      await assert.rejects(
        source.getToken(),
        (error: unknown) => isTokenError(error) && error.code === 'ERR_TOKEN_REQUEST_REJECTED' && error.oauthError === 'use_dpop_nonce' && error.retryable,
      );
      assert.equal(endpoint.requests.length, 2);
    } finally {
      await endpoint.close();
    }
  });

  it('fail closed: a Bearer token when DPoP was asked for → ERR_TOKEN_RESPONSE_INVALID; token_type compared without case', async () => {
    const key = await createDpopKey();
    let tokenType = 'Bearer';
    const endpoint = await startTokenEndpoint(() => ({ status: 200, body: { access_token: TOKEN, token_type: tokenType, expires_in: 300 } }));
    try {
      const bearer = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      await assert.rejects(bearer.getToken(), (error: unknown) => isTokenError(error) && error.code === 'ERR_TOKEN_RESPONSE_INVALID');
      tokenType = 'dpop';
      const lower = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      assert.equal(await lower.getToken(), TOKEN);
    } finally {
      await endpoint.close();
    }
  });

  it('refreshingToken with dpop: each refresh carries a proof of the key, and DPoP tokens only', async () => {
    const key = await createDpopKey();
    const endpoint = await startTokenEndpoint(() => ({
      status: 200,
      body: { access_token: TOKEN, token_type: 'DPoP', expires_in: 300, refresh_token: 'rt-2' },
    }));
    try {
      const source = refreshingToken({ tokenUrl: endpoint.url, clientId: 'cli', refreshToken: 'rt-1', dpop: key });
      assert.equal(await source.getToken(), TOKEN);
      const request = endpoint.requests[0]!;
      assert.equal(request.body.get('refresh_token'), 'rt-1');
      const { protectedHeader } = await jwtVerify(String(request.headers.dpop), EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
      assert.equal(await calculateJwkThumbprint(protectedHeader.jwk!, 'sha256'), key.thumbprint);
    } finally {
      await endpoint.close();
    }
  });

  it("the interceptor takes the token source's key by default; the same key in dpop is fine, another → AuthConfigError; call credentials refuse the source", async () => {
    const key = await createDpopKey();
    const endpoint = await startTokenEndpoint(() => DPOP_TOKEN);
    const server = await startDpopServer();
    try {
      const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      assert.equal((await unary(server.client({ token: source }), new Metadata())).code, status.OK);
      const call = server.seen.at(-1)!;
      assert.deepEqual(call.authorization, [`DPoP ${TOKEN}`]);
      await checkProof(call.dpop[0], { htu: `https://127.0.0.1${METHODS.unary}`, token: TOKEN, key });
      assert.doesNotThrow(() => createTokenInterceptor({ token: source, dpop: { key, origin: 'https://orders.test' } }));
      const other = await createDpopKey();
      assert.throws(() => createTokenInterceptor({ token: source, dpop: { key: other } }), assertConfigError('dpop.key'));
      assert.throws(() => createCallCredentials(source), assertConfigError('token'));
      assert.throws(() => clientCredentials({ tokenUrl: endpoint.url, clientId: 'w', clientSecret: 's', dpop: 'ES256' as never }), assertConfigError('dpop'));
      assert.throws(() => refreshingToken({ tokenUrl: endpoint.url, refreshToken: 'rt', dpop: {} as never }), assertConfigError('dpop'));
    } finally {
      await server.close();
      await endpoint.close();
    }
  });
});
