/**
 * Independent review of the DPoP client (RFC 9449): hostile and foreign servers, retries, races and misuse,
 * against a real grpc-js server on 127.0.0.1:0 (its interceptor records each call's metadata and refuses on
 * demand with whatever trailers a case gives) and a node:http token endpoint on 127.0.0.1:0.
 *
 * Ported from panva/oauth4webapi (commit 11c0206f15aff6af0c8831aa176a92f46ff8ca49), our own code, their
 * behaviour:
 * - `src/index.ts` `isDPoPNonceError`: a refusal is a nonce refusal when its only `WWW-Authenticate`
 *   challenge is `DPoP` with `error="use_dpop_nonce"` (a 401 with that challenge, at a resource server or a
 *   token endpoint), or when the token endpoint's JSON `error` is `use_dpop_nonce`; two challenges, or
 *   another DPoP error, are not (cases "foreign server" and "token endpoint 401 challenge" below).
 * - `src/index.ts` `DPoPHandler.cacheNonce`: a `DPoP-Nonce` of any answer, a successful one included, is
 *   used by the next request to that origin ("DPoP-Nonce on a success answer").
 * - `test/dpop.test.ts` "dpop()": `ath` is the hash of the very token sent, on every request (here under
 *   concurrency and across the TOKEN_EXPIRED retry).
 *
 * From panva/openid-client `test/client/dpop.test.js` (commit 23f7b499bc5b005c3ab29aa463ce20e4e6290b91):
 * "handles DPoP nonce in requestResource" (401 `DPoP error="use_dpop_nonce"` + `DPoP-Nonce` → retried
 * with it; the next request carries it from the start; a later `invalid_dpop_proof` is not retried) and
 * "handles DPoP nonce in grant" (the same at the token endpoint with a 400 `use_dpop_nonce` body).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { EmbeddedJWK, decodeJwt, jwtVerify } from 'jose';
import { clientCredentials, createDpopKey, createTokenInterceptor, isTokenError, type DpopKey, type TokenInterceptorOptions } from '../../src/client/index.ts';
import { rememberNonce } from '../../src/client/dpop-nonces.ts';
import { ERROR_DOMAIN, encodeStatusDetails } from '../../src/errors/error-info.ts';
import { bidi, unary } from '../support/calls.ts';
import { EchoClient, METHODS, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
type Client = grpc.Client & Record<string, any>;

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3b3JrZXIifQ.c2lnbmF0dXJl';
const sha256 = (text: string): string => createHash('sha256').update(text, 'ascii').digest('base64url');

interface Seen {
  readonly method: string;
  readonly authorization: string[];
  readonly dpop: string[];
}

/** Trailers of one refusal (UNAUTHENTICATED, before the handler runs). */
type Refusal = Record<string, string | string[]> & { reason?: string; headerNonce?: string };

interface ReviewServer {
  readonly echo: EchoServer;
  readonly seen: Seen[];
  readonly refusals: Refusal[];
  client(options: TokenInterceptorOptions): Client;
  close(): Promise<void>;
}

async function startReviewServer(): Promise<ReviewServer> {
  const seen: Seen[] = [];
  const refusals: Refusal[] = [];
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
            const { reason, headerNonce, ...values } = refusal;
            if (headerNonce !== undefined) {
              // Response headers first, then the refusal (as a grpc-go server does after SetHeader).
              const headers = new Metadata();
              headers.set('dpop-nonce', String(headerNonce));
              call.sendMetadata(headers);
            }
            if (reason !== undefined) {
              trailers.set('grpc-status-details-bin', encodeStatusDetails(status.UNAUTHENTICATED, 'refused', { reason, domain: ERROR_DOMAIN, metadata: {} }));
            }
            for (const [name, value] of Object.entries(values)) for (const one of [value].flat()) trailers.add(name, one);
            call.sendStatus({ code: status.UNAUTHENTICATED, details: 'refused', metadata: trailers });
          },
        }),
    });
  const echo = await startEchoServer({ interceptors: [recorder] });
  const clients: Client[] = [];
  return {
    echo,
    seen,
    refusals,
    client(options) {
      const client = new EchoClient(echo.address, grpc.credentials.createInsecure(), { interceptors: [createTokenInterceptor(options)] }) as Client;
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await echo.close();
    },
  };
}

const nonceOf = (proof: string | undefined): unknown => decodeJwt(String(proof)).nonce;

describe('review: nonce refusals of servers that are not grpc-jwt-auth (oauth4webapi isDPoPNonceError)', () => {
  let server: ReviewServer;
  before(async () => {
    server = await startReviewServer();
  });
  after(() => server.close());

  it('foreign server: UNAUTHENTICATED with the one challenge DPoP error="use_dpop_nonce" and a dpop-nonce trailer → retried once, new proof with the nonce → OK', async () => {
    const key = await createDpopKey();
    const start = server.seen.length;
    const runs = server.echo.runs.unary;
    server.refusals.push({
      'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
      'dpop-nonce': 'rs-1',
    });
    const outcome = await unary(server.client({ token: TOKEN, dpop: { key } }), new Metadata());
    assert.equal(outcome.code, status.OK);
    const [first, retry] = server.seen.slice(start);
    assert.equal(server.seen.length - start, 2);
    assert.equal(nonceOf(first!.dpop[0]), undefined);
    assert.equal(nonceOf(retry!.dpop[0]), 'rs-1');
    assert.notEqual(decodeJwt(first!.dpop[0]!).jti, decodeJwt(retry!.dpop[0]!).jti);
    assert.equal(server.echo.runs.unary - runs, 1);
  });

  it('handles DPoP nonce in requestResource: nonce challenge → retried with it → OK; the next call carries it; then invalid_dpop_proof → delivered, no retry', async () => {
    const key = await createDpopKey();
    const client = server.client({ token: TOKEN, dpop: { key } });
    const nonce = 'eyJ7S_zG.eyJH0-Z.HX4w-7v';
    const start = server.seen.length;
    server.refusals.push({ 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': nonce });
    assert.equal((await unary(client, new Metadata())).code, status.OK);
    assert.equal((await unary(client, new Metadata())).code, status.OK);
    server.refusals.push({ 'www-authenticate': 'DPoP error="invalid_dpop_proof"' });
    assert.equal((await unary(client, new Metadata())).code, status.UNAUTHENTICATED);
    assert.deepEqual(
      server.seen.slice(start).map((call) => nonceOf(call.dpop[0])),
      [undefined, nonce, nonce, nonce],
    );
  });

  it('foreign server: two challenges, another DPoP error, or a challenge for Bearer → not a nonce refusal, delivered without a retry', async () => {
    for (const challenge of [
      ['Bearer realm="api"', 'DPoP error="use_dpop_nonce"'],
      'Bearer realm="api", DPoP error="use_dpop_nonce"',
      'DPoP error="invalid_dpop_proof"',
      'Bearer error="use_dpop_nonce"',
      'DPoP error="use_dpop_nonce" garbage',
    ]) {
      const key = await createDpopKey();
      const start = server.seen.length;
      server.refusals.push({ 'www-authenticate': challenge, 'dpop-nonce': 'rs-2' });
      const outcome = await unary(server.client({ token: TOKEN, dpop: { key } }), new Metadata());
      assert.equal(outcome.code, status.UNAUTHENTICATED, String(challenge));
      assert.equal(server.seen.length - start, 1, String(challenge));
    }
  });

  it('the nonce in the response headers of the refused attempt (not in its trailers) → retried once with it', async () => {
    const key = await createDpopKey();
    const start = server.seen.length;
    server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', headerNonce: 'hdr-1' });
    const outcome = await unary(server.client({ token: TOKEN, dpop: { key } }), new Metadata());
    assert.equal(outcome.code, status.OK);
    assert.equal(server.seen.length - start, 2);
    assert.equal(nonceOf(server.seen.at(-1)!.dpop[0]), 'hdr-1');
  });

  it('our ErrorInfo reason wins over the challenge: a TOKEN_EXPIRED refusal with a nonce challenge is the TOKEN_EXPIRED retry, not a second one', async () => {
    const key = await createDpopKey();
    let n = 0;
    const start = server.seen.length;
    server.refusals.push(
      { reason: 'TOKEN_EXPIRED', 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'rs-3' },
      { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'rs-4' },
    );
    const outcome = await unary(server.client({ token: () => `${TOKEN}${n++}`, dpop: { key } }), new Metadata());
    assert.equal(outcome.code, status.UNAUTHENTICATED);
    assert.equal(server.seen.length - start, 2, 'one retry per call in all');
  });
});

describe('review: retries, races and what each attempt carries', () => {
  let server: ReviewServer;
  let key: DpopKey;
  before(async () => {
    server = await startReviewServer();
    key = await createDpopKey({ alg: 'EdDSA' });
  });
  after(() => server.close());

  it('TOKEN_EXPIRED retry: a new proof (new jti) whose ath is of the fresh token, carrying the nonce the refusal sent', async () => {
    let n = 0;
    const start = server.seen.length;
    server.refusals.push({ reason: 'TOKEN_EXPIRED', 'dpop-nonce': 'te-1' });
    const outcome = await unary(server.client({ token: () => `${TOKEN}${n++}`, dpop: { key } }), new Metadata());
    assert.equal(outcome.code, status.OK);
    const [first, retry] = server.seen.slice(start);
    assert.deepEqual(first!.authorization, [`DPoP ${TOKEN}0`]);
    assert.deepEqual(retry!.authorization, [`DPoP ${TOKEN}1`]);
    const firstClaims = decodeJwt(first!.dpop[0]!);
    const retryClaims = decodeJwt(retry!.dpop[0]!);
    assert.equal(firstClaims.ath, sha256(`${TOKEN}0`));
    assert.equal(retryClaims.ath, sha256(`${TOKEN}1`), 'the ath of the token actually sent');
    assert.notEqual(firstClaims.jti, retryClaims.jti);
    assert.equal(retryClaims.nonce, 'te-1');
    assert.equal(retryClaims.htu, `https://127.0.0.1${METHODS.unary}`);
  });

  it('40 concurrent calls of one key, tokens changing under them: every proof has its own jti, the ath of its own token and the htu of its method', async () => {
    let n = 0;
    const client = server.client({ token: async () => `${TOKEN}${n++}`, dpop: { key } });
    const start = server.seen.length;
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? bidi(client, new Metadata()) : unary(client, new Metadata()))));
    for (const outcome of outcomes) assert.equal(outcome.code, status.OK);
    const calls = server.seen.slice(start);
    assert.equal(calls.length, 40);
    const ids = new Set<unknown>();
    for (const call of calls) {
      const { payload } = await jwtVerify(call.dpop[0]!, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['EdDSA'] });
      ids.add(payload.jti);
      assert.equal(payload.ath, sha256(call.authorization[0]!.slice('DPoP '.length)));
      assert.equal(payload.htu, `https://127.0.0.1${call.method}`);
    }
    assert.equal(ids.size, 40);
  });

  it('nonce retry whose new proof never comes: the deadline ends the call (DEADLINE_EXCEEDED), the retry is never sent', async () => {
    let proofs = 0;
    const slowSecond: DpopKey = { ...key, proof: (request) => (proofs++ === 0 ? key.proof(request) : new Promise<string>(() => undefined)) };
    const start = server.seen.length;
    server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', 'dpop-nonce': 'd-1' });
    const outcome = await unary(server.client({ token: TOKEN, dpop: { key: slowSecond } }), new Metadata(), 'x', { deadline: Date.now() + 300 });
    assert.equal(outcome.code, status.DEADLINE_EXCEEDED);
    assert.equal(server.seen.length - start, 1);
  });

  it('a custom key whose proof is not a string, or a string no metadata value can hold → INTERNAL, nothing sent, the token not in the details', async () => {
    for (const bad of [42, 'a\nb', undefined]) {
      const odd: DpopKey = { ...key, proof: async () => bad as string };
      const start = server.seen.length;
      const outcome = await unary(server.client({ token: TOKEN, dpop: { key: odd } }), new Metadata());
      assert.equal(outcome.code, status.INTERNAL, String(bad));
      assert.equal(outcome.details.includes(TOKEN), false);
      assert.equal(server.seen.length - start, 0, String(bad));
    }
  });

  it('the nonce retry carries the nonce of its refusal, even when another answer stored an older one meanwhile', async () => {
    const racing = await createDpopKey();
    let attempts = 0;
    // An inner interceptor: the second attempt is made right after the refusal; just then an older
    // answer of another call (delayed on the wire) stores its older nonce for the same origin.
    const late: grpc.Interceptor = (options, nextCall) => {
      if (++attempts === 2) rememberNonce(racing, 'https://127.0.0.1', 'older');
      return new grpc.InterceptingCall(nextCall(options));
    };
    const client = new EchoClient(server.echo.address, grpc.credentials.createInsecure(), {
      interceptors: [createTokenInterceptor({ token: TOKEN, dpop: { key: racing } }), late],
    }) as Client;
    try {
      const start = server.seen.length;
      server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', 'dpop-nonce': 'newest' });
      assert.equal((await unary(client, new Metadata())).code, status.OK);
      assert.equal(server.seen.length - start, 2);
      assert.equal(nonceOf(server.seen.at(-1)!.dpop[0]), 'newest');
    } finally {
      client.close();
    }
  });

  it('a custom key whose proof() throws synchronously (not a rejected promise) → INTERNAL, nothing sent, no unhandled error', async () => {
    const throwing: DpopKey = {
      ...key,
      proof: () => {
        throw new Error(`hardware key gone ${TOKEN}`);
      },
    };
    const start = server.seen.length;
    const outcome = await unary(server.client({ token: TOKEN, dpop: { key: throwing } }), new Metadata());
    assert.equal(outcome.code, status.INTERNAL);
    assert.equal(outcome.details.includes(TOKEN), false);
    assert.equal(server.seen.length - start, 0);
    const endpointSource = clientCredentials({ tokenUrl: 'https://idp.test/oauth/token', clientId: 'w', clientSecret: 'worker-secret', dpop: throwing });
    await assert.rejects(
      endpointSource.getToken(),
      (error: unknown) => isTokenError(error) && error.code === 'ERR_TOKEN_SOURCE_FAILED' && !error.message.includes(TOKEN),
    );
  });

  it('never Bearer with DPoP: the authorization the application set is replaced on every attempt, retries included', async () => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${TOKEN}`);
    const start = server.seen.length;
    server.refusals.push({ reason: 'DPOP_NONCE_REQUIRED', 'dpop-nonce': 'b-1' });
    assert.equal((await unary(server.client({ token: TOKEN, dpop: { key } }), metadata)).code, status.OK);
    for (const call of server.seen.slice(start)) assert.deepEqual(call.authorization, [`DPoP ${TOKEN}`]);
  });
});

interface TokenAnswer {
  readonly status: number;
  readonly body?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

async function startTokenEndpoint(answer: (index: number) => TokenAnswer) {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push(req.headers);
      const reply = answer(requests.length - 1);
      res.writeHead(reply.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/oauth/token`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const DPOP_TOKEN: TokenAnswer = { status: 200, body: { access_token: TOKEN, token_type: 'DPoP', expires_in: 300 } };

describe('review: the token endpoint', () => {
  it('token endpoint 401 challenge: WWW-Authenticate DPoP error="use_dpop_nonce" with a DPoP-Nonce and no body → asked again once with the nonce', async () => {
    const key = await createDpopKey();
    const endpoint = await startTokenEndpoint((index) =>
      index === 0 ? { status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'as-1' } } : DPOP_TOKEN,
    );
    try {
      const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      assert.equal(await source.getToken(), TOKEN);
      assert.equal(endpoint.requests.length, 2);
      assert.equal(nonceOf(String(endpoint.requests[1]!.dpop)), 'as-1');
    } finally {
      await endpoint.close();
    }
  });

  it('handles DPoP nonce in grant: 400 use_dpop_nonce → retried with the nonce; the next grant starts with it; then invalid_dpop_proof → rejected, no retry', async () => {
    const key = await createDpopKey();
    const nonce = 'eyJ7S_zG.eyJH0-Z.HX4w-7v';
    const endpoint = await startTokenEndpoint((index) =>
      index === 0
        ? { status: 400, body: { error: 'use_dpop_nonce' }, headers: { 'dpop-nonce': nonce } }
        : index === 3
          ? { status: 400, body: { error: 'invalid_dpop_proof' } }
          : DPOP_TOKEN,
    );
    try {
      const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      assert.equal(await source.getToken(), TOKEN);
      await source.refresh(TOKEN);
      await assert.rejects(source.refresh(TOKEN), (error: unknown) => isTokenError(error) && error.oauthError === 'invalid_dpop_proof' && !error.retryable);
      assert.deepEqual(
        endpoint.requests.map((headers) => nonceOf(String(headers.dpop))),
        [undefined, nonce, nonce, nonce],
      );
    } finally {
      await endpoint.close();
    }
  });

  it('without a DPoP key, use_dpop_nonce is not retryable: no nonce can ever be sent', async () => {
    const endpoint = await startTokenEndpoint(() => ({ status: 400, body: { error: 'use_dpop_nonce' }, headers: { 'dpop-nonce': 'as-2' } }));
    try {
      const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret' });
      await assert.rejects(source.getToken(), (error: unknown) => isTokenError(error) && error.code === 'ERR_TOKEN_REQUEST_REJECTED' && !error.retryable);
      assert.equal(endpoint.requests.length, 1);
      assert.equal(endpoint.requests[0]!.dpop, undefined);
    } finally {
      await endpoint.close();
    }
  });

  it('DPoP-Nonce on a success answer is used by the next token request (oauth4webapi cacheNonce on any answer)', async () => {
    const key = await createDpopKey();
    const endpoint = await startTokenEndpoint(() => ({ ...DPOP_TOKEN, headers: { 'dpop-nonce': 'ok-1' } }));
    try {
      const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      await source.getToken();
      await source.refresh(TOKEN);
      assert.equal(nonceOf(String(endpoint.requests[0]!.dpop)), undefined);
      assert.equal(nonceOf(String(endpoint.requests[1]!.dpop)), 'ok-1');
    } finally {
      await endpoint.close();
    }
  });

  it('token_type missing, padded or of another scheme with a DPoP key → ERR_TOKEN_RESPONSE_INVALID', async () => {
    for (const tokenType of [undefined, ' DPoP', 'DPoP ', 'DPoP-Bearer', 42, 'N/A']) {
      const key = await createDpopKey();
      const endpoint = await startTokenEndpoint(() => ({ status: 200, body: { access_token: TOKEN, token_type: tokenType, expires_in: 300 } }));
      try {
        const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
        await assert.rejects(source.getToken(), (error: unknown) => isTokenError(error) && error.code === 'ERR_TOKEN_RESPONSE_INVALID', String(tokenType));
      } finally {
        await endpoint.close();
      }
    }
  });

  it('a use_dpop_nonce answer forever, a new nonce each time: two requests per token fetch, never a loop', async () => {
    const key = await createDpopKey();
    const endpoint = await startTokenEndpoint((index) => ({ status: 400, body: { error: 'use_dpop_nonce' }, headers: { 'dpop-nonce': `loop-${index}` } }));
    try {
      const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      await assert.rejects(source.getToken(), (error: unknown) => isTokenError(error) && error.oauthError === 'use_dpop_nonce');
      assert.equal(endpoint.requests.length, 2);
    } finally {
      await endpoint.close();
    }
  });

  it('the proof never reaches a TokenError: a fetch function that throws it is redacted, in the message and the cause', async () => {
    const key = await createDpopKey();
    let sent = '';
    const throwing = async (_url: URL, init?: RequestInit): Promise<Response> => {
      sent = String((init?.headers as Record<string, string>).dpop);
      throw new Error(`proxy refused dpop=${sent}`);
    };
    const failed = clientCredentials({
      tokenUrl: 'https://idp.test/oauth/token',
      clientId: 'worker',
      clientSecret: 'worker-secret',
      dpop: key,
      fetch: throwing,
    });
    const error = await failed.getToken().then(
      () => assert.fail('no token expected'),
      (caught: unknown) => caught,
    );
    assert.ok(isTokenError(error));
    assert.ok(sent.length > 0);
    const signature = sent.split('.')[2]!;
    assert.equal(inspect(error, { depth: 10 }).includes(signature), false, 'the proof in the error or its cause');
  });

  it('a custom key whose proof is not a string → ERR_TOKEN_SOURCE_FAILED, nothing sent', async () => {
    const key = await createDpopKey();
    const endpoint = await startTokenEndpoint(() => DPOP_TOKEN);
    try {
      const odd: DpopKey = { ...key, proof: async () => 42 as unknown as string };
      const source = clientCredentials({ tokenUrl: endpoint.url, clientId: 'worker', clientSecret: 'worker-secret', dpop: odd });
      await assert.rejects(source.getToken(), (error: unknown) => isTokenError(error) && error.code === 'ERR_TOKEN_SOURCE_FAILED');
      assert.equal(endpoint.requests.length, 0);
    } finally {
      await endpoint.close();
    }
  });
});
