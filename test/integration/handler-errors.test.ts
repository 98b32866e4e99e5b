/**
 * Errors raised inside handlers, over real calls of all four kinds: `getAuth` on a call without a
 * verified token, and refusals a handler sends itself with `toGrpcError`. grpc-js answers a synchronous
 * throw with UNKNOWN, ignores a rejected promise (the call hangs), and reads only a numeric `code` from
 * an error given to the callback or emitted as 'error' (our `code` is a string).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AuthError, createAuthInterceptor, getAuth, isAuthError, requireScopes, toGrpcError } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, outcomeOf, type Outcome } from '../support/calls.ts';
import { startEchoServer, type EchoReply, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
type Kind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';
const KINDS: readonly Kind[] = ['unary', 'serverStream', 'clientStream', 'bidi'];
type Client = grpc.Client & Record<string, any>;
type AnyCall = grpc.ServerUnaryCall<any, any> | grpc.ServerWritableStream<any, any> | grpc.ServerReadableStream<any, any> | grpc.ServerDuplexStream<any, any>;
/** What a handler does; `callback` is undefined for server-streaming and bidi calls. */
type Act = (call: AnyCall, callback: grpc.sendUnaryData<EchoReply> | undefined) => unknown;

/** An Echo implementation whose four handlers all run `act`. */
function implementationOf(act: Act): () => grpc.UntypedServiceImplementation {
  return () => ({
    Unary: (call: AnyCall, callback: grpc.sendUnaryData<EchoReply>) => act(call, callback),
    ServerStream: (call: AnyCall) => act(call, undefined),
    ClientStream: (call: AnyCall, callback: grpc.sendUnaryData<EchoReply>) => act(call, callback),
    Bidi: (call: AnyCall) => act(call, undefined),
  });
}

/**
 * One call of `kind`, with a deadline: a call grpc-js never ends (a rejected async handler before the
 * fix) comes back DEADLINE_EXCEEDED instead of hanging the test.
 */
function callOf(client: Client, kind: Kind, metadata: grpc.Metadata, deadlineMs = 2_000): Promise<Outcome> {
  const options: grpc.CallOptions = { deadline: Date.now() + deadlineMs };
  return new Promise((resolve) => {
    const onUnary = (error: grpc.ServiceError | null, reply?: EchoReply) => resolve(outcomeOf(error, reply ? [reply] : []));
    const watch = (call: grpc.ClientReadableStream<EchoReply> | grpc.ClientDuplexStream<unknown, EchoReply>) => {
      const replies: EchoReply[] = [];
      call.on('data', (reply: EchoReply) => replies.push(reply));
      call.on('error', (error: grpc.ServiceError) => resolve(outcomeOf(error, replies)));
      call.on('status', (final: grpc.StatusObject) => final.code === status.OK && resolve(outcomeOf(null, replies)));
      return call;
    };
    if (kind === 'unary') client.Unary({ text: 'hi' }, metadata, options, onUnary);
    else if (kind === 'serverStream') watch(client.ServerStream({ text: 'hi' }, metadata, options));
    else {
      const call = kind === 'clientStream' ? client.ClientStream(metadata, options, onUnary) : watch(client.Bidi(metadata, options));
      call.write({ text: 'a' });
      call.end();
    }
  });
}

/** The intended end of a `getAuth` misuse: a server-side problem, fixed text, the interceptor's trailers. */
function assertGetAuthMisuse(outcome: Outcome, label: string): void {
  assert.equal(outcome.code, status.INTERNAL, `${label}: status ${outcome.code} ${JSON.stringify(outcome.details)}`);
  assert.equal(outcome.details, 'internal authentication error', `${label}: fixed wire text, never the log message`);
  assert.equal(outcome.reason, 'INTERNAL', label);
  assert.equal(outcome.wwwAuthenticate, 'Bearer', label);
  assert.deepEqual(outcome.replies, [], label);
}

describe('getAuth on a call without a verified token', () => {
  let idp: TestIssuer;
  /** Rejections of async handlers: grpc-js drops the promise; the test catches them so none is unhandled. */
  const rejections: unknown[] = [];
  const servers: EchoServer[] = [];

  const misuses: Record<'throws' | 'passes the error on' | 'rejects after an await', Act> = {
    throws: (call) => getAuth(call),
    'passes the error on': (call, callback) => {
      try {
        getAuth(call);
      } catch (error) {
        // Unary and client-streaming handlers answer through the callback; the others emit 'error'.
        if (callback) callback(error as grpc.ServiceError);
        else call.emit('error', error);
      }
    },
    'rejects after an await': (call) => {
      const handler = async (): Promise<void> => {
        await new Promise((resolve) => setImmediate(resolve));
        getAuth(call);
      };
      handler().catch((error: unknown) => rejections.push(error));
    },
  };

  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
  });
  after(() => Promise.all(servers.map((server) => server.close())));

  for (const [misuse, act] of Object.entries(misuses)) {
    it(`no interceptor, the handler ${misuse}: INTERNAL with fixed text on all four kinds`, async () => {
      const server = await startEchoServer({ implementation: implementationOf(act) });
      servers.push(server);
      rejections.length = 0;
      for (const kind of KINDS) assertGetAuthMisuse(await callOf(server.client, kind, bearer(Metadata, await idp.sign())), kind);
      if (misuse === 'rejects after an await') {
        assert.equal(rejections.length, KINDS.length);
        for (const rejection of rejections) assert.ok(isAuthError(rejection) && rejection.code === 'ERR_AUTH_INTERNAL');
      }
    });
  }

  it("an 'optional' method called without a token, the handler throws: INTERNAL on all four kinds", async () => {
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], defaultRule: 'optional' });
    const server = await startEchoServer({ interceptors: [auth], implementation: implementationOf(misuses.throws) });
    servers.push(server);
    for (const kind of KINDS) assertGetAuthMisuse(await callOf(server.client, kind, new Metadata()), kind);
  });

  it("a 'public' method, the handler passes the error on: INTERNAL on all four kinds", async () => {
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], defaultRule: 'public' });
    const server = await startEchoServer({ interceptors: [auth], implementation: implementationOf(misuses['passes the error on']) });
    servers.push(server);
    for (const kind of KINDS) assertGetAuthMisuse(await callOf(server.client, kind, bearer(Metadata, await idp.sign())), kind);
  });

  it('a handler that catches the error and answers anyway: still INTERNAL, its reply never reaches the client', async () => {
    const server = await startEchoServer({
      implementation: implementationOf((call, callback) => {
        const reply = { text: 'for authenticated callers only', subject: '', scopes: [], count: 0 };
        try {
          getAuth(call);
        } catch {
          // A bug: treats "not authenticated" as "carry on".
        }
        if (callback) callback(null, reply);
        else {
          (call as grpc.ServerWritableStream<unknown, EchoReply>).write(reply);
          (call as grpc.ServerWritableStream<unknown, EchoReply>).end();
        }
      }),
    });
    servers.push(server);
    for (const kind of KINDS) assertGetAuthMisuse(await callOf(server.client, kind, new Metadata()), kind);
  });

  it('an authenticated call: getAuth returns the context and the call is not touched', async () => {
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] });
    const server = await startEchoServer({
      interceptors: [auth],
      implementation: implementationOf((call, callback) => {
        const reply = { text: 'ok', subject: getAuth(call).subject ?? '', scopes: [], count: 0 };
        if (callback) callback(null, reply);
        else {
          (call as grpc.ServerWritableStream<unknown, EchoReply>).write(reply);
          (call as grpc.ServerWritableStream<unknown, EchoReply>).end();
        }
      }),
    });
    servers.push(server);
    for (const kind of KINDS) {
      const outcome = await callOf(server.client, kind, bearer(Metadata, await idp.sign({ sub: 'alice' })));
      assert.equal(outcome.code, status.OK, kind);
      assert.equal(outcome.replies[0]?.subject, 'alice', kind);
    }
  });
});

/** Answers with `error` the documented way: the callback where there is one, else an 'error' event. */
function refuseWith(error: unknown): Act {
  return (call, callback) => {
    if (callback) callback(error as grpc.ServiceError);
    else call.emit('error', error);
  };
}

/** The parts of an outcome a client can see of a refusal. */
const seen = ({ code, details, reason, errorInfoMetadata, wwwAuthenticate }: Outcome) => ({
  code,
  details,
  reason,
  errorInfoMetadata: errorInfoMetadata === undefined ? undefined : { ...errorInfoMetadata },
  wwwAuthenticate,
});

describe('toGrpcError: refusing from inside a handler', () => {
  let idp: TestIssuer;
  let interceptorRefusals: EchoServer;
  const servers: EchoServer[] = [];
  const start = async (act: Act): Promise<EchoServer> => {
    const server = await startEchoServer({ implementation: implementationOf(act) });
    servers.push(server);
    return server;
  };

  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    // The reference: what the interceptor itself sends for the same refusals.
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], defaultRule: requireScopes('echo:write') });
    interceptorRefusals = await startEchoServer({ interceptors: [auth] });
  });
  after(() => Promise.all([interceptorRefusals, ...servers].map((server) => server.close())));

  it('expired token: the same status, details, www-authenticate and ErrorInfo as the interceptor, on all four kinds', async () => {
    const server = await start(refuseWith(toGrpcError(new AuthError('ERR_AUTH_TOKEN_EXPIRED', 'log only: exp 1700000000 < now'))));
    for (const kind of KINDS) {
      const reference = await callOf(interceptorRefusals.client, kind, bearer(Metadata, await idp.expiredToken()));
      assert.equal(reference.reason, 'TOKEN_EXPIRED', kind);
      assert.deepEqual(seen(await callOf(server.client, kind, new Metadata())), seen(reference), kind);
    }
  });

  it('insufficient scope with required scopes: the same as the interceptor, scope in the challenge and ErrorInfo', async () => {
    const error = new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', 'log only: alice lacks echo:write', { requiredScopes: ['echo:write'] });
    const server = await start(refuseWith(toGrpcError(error)));
    for (const kind of KINDS) {
      const reference = await callOf(interceptorRefusals.client, kind, bearer(Metadata, await idp.sign({ scope: 'echo:read' })));
      assert.equal(reference.code, status.PERMISSION_DENIED, kind);
      assert.deepEqual(seen(await callOf(server.client, kind, new Metadata())), seen(reference), kind);
    }
  });

  it('a refusal after replies were sent: the stream keeps its replies and ends with the refusal', async () => {
    const server = await start((call, callback) => {
      const refusal = toGrpcError(new AuthError('ERR_AUTH_ACCESS_DENIED', 'log only: not the owner'));
      if (callback) return callback(refusal);
      (call as grpc.ServerWritableStream<unknown, EchoReply>).write({ text: 'first', subject: '', scopes: [], count: 0 });
      call.emit('error', refusal);
    });
    for (const kind of ['serverStream', 'bidi'] as const) {
      const outcome = await callOf(server.client, kind, new Metadata());
      assert.equal(outcome.code, status.PERMISSION_DENIED, kind);
      assert.equal(outcome.reason, 'ACCESS_DENIED', kind);
      assert.deepEqual(
        outcome.replies.map((reply) => reply.text),
        ['first'],
        kind,
      );
    }
  });

  it('anything that is not an AuthError: INTERNAL with fixed text, its message never sent', async () => {
    const server = await start(refuseWith(toGrpcError(new Error('db password is hunter2') as AuthError)));
    for (const kind of KINDS) {
      const outcome = await callOf(server.client, kind, new Metadata());
      assert.equal(outcome.code, status.INTERNAL, kind);
      assert.equal(outcome.details, 'internal authentication error', kind);
      assert.equal(outcome.reason, 'INTERNAL', kind);
    }
  });

  describe('what grpc-js does with the other ways (pinned: the docs rest on these)', () => {
    it('a raw AuthError given to the callback or emitted: UNKNOWN with its log message, no trailers (grpc-js reads only a numeric code)', async () => {
      const error = new AuthError('ERR_AUTH_TOKEN_EXPIRED', 'log only');
      const server = await start(refuseWith(error));
      for (const kind of KINDS) {
        const outcome = await callOf(server.client, kind, new Metadata());
        assert.equal(outcome.code, status.UNKNOWN, kind);
        assert.equal(outcome.details, 'log only', kind);
        assert.equal(outcome.reason, undefined, kind);
      }
    });

    it("throwing toGrpcError's result: UNKNOWN, fixed 'Unknown error' (grpc-js ignores what a handler throws)", async () => {
      const server = await start(() => {
        throw toGrpcError(new AuthError('ERR_AUTH_TOKEN_EXPIRED'));
      });
      for (const kind of KINDS) assert.equal((await callOf(server.client, kind, new Metadata())).code, status.UNKNOWN, kind);
    });

    it('call.destroy(toGrpcError(...)): no status is ever sent; the client waits for its deadline', async () => {
      const server = await start((call) => (call as grpc.ServerWritableStream<unknown, unknown>).destroy(toGrpcError(new AuthError('ERR_AUTH_TOKEN_EXPIRED'))));
      for (const kind of ['serverStream', 'bidi'] as const) {
        assert.equal((await callOf(server.client, kind, new Metadata(), 300)).code, status.DEADLINE_EXCEEDED, kind);
      }
    });
  });
});
