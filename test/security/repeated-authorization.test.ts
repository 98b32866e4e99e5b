/**
 * Several `authorization` header fields on one request, over the wire. Node's HTTP/2 server treats
 * `authorization` as a single-value header: it keeps the first field and drops the others before grpc-js
 * builds the call's Metadata, so the interceptor only ever sees the first. These tests pin that, because
 * it decides who wins when a proxy appends its own `authorization` to a client's.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, type AuthErrorCode } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, unary } from '../support/calls.ts';
import { EchoService, METHODS, startEchoServer, type EchoReply, type EchoServer } from '../support/echo-server.ts';
import { callWithHeaderFields } from './http2-frames.ts';

const unaryMethod = EchoService.Unary as grpc.MethodDefinition<{ text: string }, EchoReply>;

describe('repeated authorization headers over the wire', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  const authenticated: Array<string | undefined> = [];
  const refused: AuthErrorCode[] = [];

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: idp.audience,
      onAuthenticated: ({ subject }) => authenticated.push(subject),
      onRejected: ({ error }) => refused.push(error.code),
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(() => echo.close());

  /** One hand-written Unary call with these header fields; what the interceptor and the handler saw. */
  async function call(fields: ReadonlyArray<readonly [string, string]>) {
    authenticated.length = 0;
    refused.length = 0;
    const runs = echo.runs.unary;
    const outcome = await callWithHeaderFields(echo.port, METHODS.unary, fields, unaryMethod.requestSerialize({ text: 'hi' }));
    assert.equal(outcome.ended, 'trailers', 'the server ended the stream with a status');
    const replies = outcome.messages.map((message) => unaryMethod.responseDeserialize(message));
    return { authenticated: [...authenticated], refused: [...refused], replies, handlerRuns: echo.runs.unary - runs };
  }

  it('the hand-written request really carries both fields: a bare Node HTTP/2 server lists two in rawHeaders, keeps the first', async () => {
    const bare = http2.createServer();
    const seen = new Promise<{ kept: unknown; raw: string[] }>((resolve) => {
      bare.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true });
        resolve({ kept: headers.authorization, raw: rawHeaders.filter((_value, i) => rawHeaders[i - 1] === 'authorization') });
      });
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    try {
      await callWithHeaderFields(
        (bare.address() as AddressInfo).port,
        METHODS.unary,
        [
          ['authorization', 'Bearer first'],
          ['authorization', 'Bearer second'],
        ],
        Buffer.alloc(0),
      );
      assert.deepEqual(await seen, { kept: 'Bearer first', raw: ['Bearer first', 'Bearer second'] });
    } finally {
      await new Promise((resolve) => bare.close(resolve));
    }
  });

  it('two valid tokens: the first authorization field is authenticated, the second is dropped unseen', async () => {
    const seen = await call([
      ['authorization', `Bearer ${await idp.sign({ sub: 'alice' })}`],
      ['authorization', `Bearer ${await idp.sign({ sub: 'mallory' })}`],
    ]);
    assert.deepEqual(seen.authenticated, ['alice']);
    assert.deepEqual(seen.refused, []);
    assert.equal(seen.replies[0]?.subject, 'alice', 'the handler sees the first token');
    const swapped = await call([
      ['authorization', `Bearer ${await idp.sign({ sub: 'mallory' })}`],
      ['authorization', `Bearer ${await idp.sign({ sub: 'alice' })}`],
    ]);
    assert.deepEqual(swapped.authenticated, ['mallory'], 'order decides: whoever sends the first field wins');
  });

  it('a valid first field and garbage after it: authenticated, so several fields never reach readBearerToken as several values', async () => {
    const seen = await call([
      ['authorization', `Bearer ${await idp.sign({ sub: 'alice' })}`],
      ['authorization', 'Basic dXNlcjpwYXNz'],
    ]);
    assert.deepEqual(seen.authenticated, ['alice']);
    assert.deepEqual(seen.refused, [], 'not AUTHORIZATION_MALFORMED: the server never learns there were two');
    assert.equal(seen.handlerRuns, 1);
  });

  it('garbage first and a valid token after it: refused for the first field alone', async () => {
    const seen = await call([
      ['authorization', 'Basic dXNlcjpwYXNz'],
      ['authorization', `Bearer ${await idp.sign({ sub: 'alice' })}`],
    ]);
    assert.deepEqual(seen.refused, ['ERR_AUTH_AUTHORIZATION_MALFORMED']);
    assert.deepEqual(seen.authenticated, []);
    assert.equal(seen.handlerRuns, 0);
    assert.deepEqual(seen.replies, []);
  });

  it('a grpc-js client given two authorization values never sends the call; the server sees nothing', async () => {
    const runs = echo.runs.unary;
    refused.length = 0;
    const metadata = new grpc.Metadata();
    metadata.add('authorization', `Bearer ${await idp.sign({ sub: 'alice' })}`);
    metadata.add('authorization', `Bearer ${await idp.sign({ sub: 'mallory' })}`);
    const outcome = await unary(echo.client, metadata);
    assert.equal(outcome.code, grpc.status.INTERNAL, 'Node refuses to send a second authorization field');
    assert.equal(outcome.reason, undefined, 'no refusal of ours: the call failed inside the client');
    assert.deepEqual(refused, []);
    assert.equal(echo.runs.unary, runs);
  });

  it('a server interceptor that adds a second authorization value before ours: AUTHORIZATION_MALFORMED, where the several-values check still fires', async () => {
    const appendsAuthorization: grpc.ServerInterceptor = (_descriptor, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata(metadata, nextMetadata) {
              metadata.add('authorization', 'Bearer appended-by-server-code');
              nextMetadata(metadata);
            },
          }),
      });
    const server = await startEchoServer({
      interceptors: [appendsAuthorization, createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: idp.audience })],
    });
    try {
      const outcome = await unary(server.client, bearer(grpc.Metadata, await idp.sign({ sub: 'alice' })));
      assert.equal(outcome.code, grpc.status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'AUTHORIZATION_MALFORMED');
      assert.equal(server.runs.unary, 0);
    } finally {
      await server.close();
    }
  });
});
