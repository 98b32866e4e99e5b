import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, type AuthInterceptorOptions } from '../../src/index.ts';
import { clientCredentials, createTokenInterceptor, type TokenInterceptorOptions } from '../../src/client/index.ts';
import { createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { allKinds, bidi, clientStream, serverStream, unary, type Outcome } from '../support/calls.ts';
import { EchoClient, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
type Client = grpc.Client & Record<string, any>;

const SECRET = 'worker-secret-0123456789';

interface AuthServer {
  readonly echo: EchoServer;
  /** The reason of every refusal, in order. */
  readonly rejected: string[];
  client(options: TokenInterceptorOptions, target?: string): Client;
  close(): Promise<void>;
}

/** A real gRPC server with the core interceptor, and clients that carry tokens through the token interceptor. */
async function startAuthServer(idp: TestIssuer, options: Partial<AuthInterceptorOptions> = {}): Promise<AuthServer> {
  const rejected: string[] = [];
  const auth = createAuthInterceptor({
    keys: idp.keys,
    algorithms: ['ES256'],
    issuer: idp.issuer,
    audience: 'echo-api',
    onRejected: (event) => rejected.push(event.error.reason),
    ...options,
  });
  const echo = await startEchoServer({ interceptors: [auth] });
  const clients: Client[] = [];
  return {
    echo,
    rejected,
    client(interceptorOptions, target = echo.address) {
      const client = new EchoClient(target, grpc.credentials.createInsecure(), { interceptors: [createTokenInterceptor(interceptorOptions)] }) as Client;
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await echo.close();
    },
  };
}

/** A clock tests move by hand. */
function fakeClock(start = Date.now()) {
  const clock = { now: start, read: () => clock.now, advance: (seconds: number) => (clock.now += seconds * 1000) };
  return clock;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), 'condition not reached within 2 s');
}

describe('token interceptor: attaching tokens', () => {
  let idp: TestIssuer;
  let served: ServedIssuer;
  let server: AuthServer;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    served = await idp.serve({ token: { clients: { worker: { secret: SECRET } } } });
    server = await startAuthServer(idp);
  });
  after(async () => {
    await server.close();
    await served.close();
  });

  it('every call kind carries the token from clientCredentials; one token request for all of them', async () => {
    const before = served.requestCount('/token');
    const client = server.client({ token: clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET }) });
    const outcomes = await allKinds(client, () => new Metadata());
    for (const [kind, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.code, status.OK, kind);
      assert.ok(outcome.replies.length > 0 && outcome.replies.every((reply) => reply.subject === 'worker'), kind);
    }
    assert.equal(served.requestCount('/token') - before, 1);
  });

  it("a fixed string and a function work as sources too; the application's Metadata object is not modified", async () => {
    const token = await idp.sign({ sub: 'fixed' });
    const fixed = await unary(server.client({ token }), new Metadata());
    assert.equal(fixed.replies[0]?.subject, 'fixed');
    const dynamic = await unary(server.client({ token: async () => idp.sign({ sub: 'dynamic' }) }), new Metadata());
    assert.equal(dynamic.replies[0]?.subject, 'dynamic');
    const reused = new Metadata();
    reused.set('x-request-id', 'r1');
    const client = server.client({ token });
    assert.equal((await unary(client, reused)).code, status.OK);
    assert.equal((await unary(client, reused)).code, status.OK, 'a reused Metadata object does not collect authorization values');
    assert.deepEqual(reused.get('authorization'), []);
  });

  it('client streams sent before the token arrives arrive complete and in order', async () => {
    const slow = async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return idp.sign();
    };
    const texts = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const client = server.client({ token: slow });
    const outcome = await clientStream(client, new Metadata(), texts);
    assert.equal(outcome.replies[0]?.text, texts.join(','));
    const duplex = await bidi(client, new Metadata(), texts);
    assert.deepEqual(
      duplex.replies.map((reply) => reply.text),
      texts,
    );
  });

  it('no token to be had: the call ends before it is sent, UNAVAILABLE for a down endpoint, UNAUTHENTICATED for a bad secret', async () => {
    const runs = { ...server.echo.runs };
    const rejectedBefore = server.rejected.length;
    served.tokenEndpoint.injectFault({ kind: 'status', status: 500 }, 1);
    const down = await unary(
      server.client({ token: clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET }) }),
      new Metadata(),
    );
    assert.equal(down.code, status.UNAVAILABLE);
    assert.match(down.details, /ERR_TOKEN_ENDPOINT_UNAVAILABLE/);
    const wrongSecret = clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: 'wrong-secret-value' });
    const outcomes = await allKinds(server.client({ token: wrongSecret }), () => new Metadata());
    for (const [kind, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.code, status.UNAUTHENTICATED, kind);
      assert.match(outcome.details, /invalid_client/, kind);
      assert.equal(outcome.details.includes('wrong-secret-value'), false, kind);
    }
    assert.deepEqual(server.echo.runs, runs, 'no handler ran');
    assert.equal(server.rejected.length, rejectedBefore, 'nothing reached the server');
  });

  it('a deadline passing while the token is fetched → DEADLINE_EXCEEDED; a cancel → CANCELLED; nothing is sent', async () => {
    served.tokenEndpoint.injectFault({ kind: 'hang' }, 2);
    const hanging = () => clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET, timeout: 30 });
    const late = await unary(server.client({ token: hanging() }), new Metadata(), 'x', { deadline: Date.now() + 200 });
    assert.equal(late.code, status.DEADLINE_EXCEEDED);
    const cancelled = await new Promise<number>((resolve) => {
      const call = server.client({ token: hanging() }).ServerStream({ text: 'x' }, new Metadata());
      call.on('error', (error: grpc.ServiceError) => resolve(error.code));
      setTimeout(() => call.cancel(), 50);
    });
    assert.equal(cancelled, status.CANCELLED);
  });
});

describe('token interceptor: retry once when the server says TOKEN_EXPIRED', () => {
  let idp: TestIssuer;
  let served: ServedIssuer;
  const world = fakeClock();

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    served = await idp.serve({ token: { clients: { worker: { secret: SECRET } }, accessTokenLifetime: 60, clock: world.read } });
  });
  after(() => served.close());

  it('clock skew: a token the client believes valid is refused as expired → one forced refresh, one retry, success', async () => {
    // clockTolerance 0: the server must refuse the token 10 s after its exp, not a minute later.
    const server = await startAuthServer(idp, { clock: world.read, clockTolerance: 0 });
    try {
      // This machine's clock is 90 s behind the identity provider and the server, and the provider sends no
      // expires_in, so the client judges the token by its exp against its own slow clock.
      served.tokenEndpoint.injectFault({ kind: 'token', expiresIn: null });
      const skewed = () => world.now - 90_000;
      const token = clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET, clock: skewed });
      const client = server.client({ token });
      assert.equal((await unary(client, new Metadata())).code, status.OK);
      world.advance(70);
      const before = served.requestCount('/token');
      const retried = await unary(client, new Metadata(), 'after skew');
      assert.equal(retried.code, status.OK);
      assert.equal(retried.replies[0]?.text, 'after skew', 'the request message was replayed');
      assert.deepEqual(server.rejected, ['TOKEN_EXPIRED']);
      assert.equal(server.echo.runs.unary, 2, 'the handler ran once per successful call');
      assert.equal(served.requestCount('/token') - before, 1);
    } finally {
      served.tokenEndpoint.clearFaults();
      await server.close();
    }
  });

  it('a server that keeps refusing as expired: exactly one retry, then its answer with trailers; streams are never replayed', async () => {
    const server = await startAuthServer(idp, { clock: () => world.now + 86_400_000 });
    try {
      const client = server.client({ token: clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET, clock: world.read }) });
      const before = served.requestCount('/token');
      const outcome = await unary(client, new Metadata());
      assert.equal(outcome.code, status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'TOKEN_EXPIRED');
      assert.ok(outcome.wwwAuthenticate?.startsWith('Bearer error="invalid_token"'));
      assert.equal(server.rejected.length, 2, 'first attempt and one retry');
      assert.equal(served.requestCount('/token') - before, 2, 'first token and one forced refresh');
      const streams: Outcome[] = [await serverStream(client, new Metadata()), await clientStream(client, new Metadata()), await bidi(client, new Metadata())];
      for (const stream of streams) {
        assert.equal(stream.code, status.UNAUTHENTICATED);
        assert.equal(stream.reason, 'TOKEN_EXPIRED');
      }
      assert.equal(server.rejected.length, 5, 'one attempt per stream');
      assert.equal(served.requestCount('/token') - before, 2, 'no refresh for streams');
    } finally {
      await server.close();
    }
  });

  // Ported from azure-sdk-for-js core-rest-pipeline ("does not wait for token expiry after receiving an
  // authentication challenge"), over a real server and token endpoint.
  it("refused as expired while the identity provider is down: the server's answer at once, after one refresh attempt; the refused token is not sent again", async () => {
    const server = await startAuthServer(idp, { clock: () => world.now + 86_400_000 });
    try {
      const client = server.client({ token: clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET, clock: world.read }) });
      // The first request is answered normally (a token fault that changes nothing), every later one with 503.
      served.tokenEndpoint.injectFault({ kind: 'token' }, 1);
      served.tokenEndpoint.injectFault({ kind: 'status', status: 503 });
      const before = served.requestCount('/token');
      const first = settledWithin(unary(client, new Metadata()), 'the first call');
      const outcome = await first;
      assert.equal(outcome.code, status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'TOKEN_EXPIRED', "the server's answer, not the provider's outage");
      assert.equal(served.requestCount('/token') - before, 2, 'one token, one failed refresh');
      const next = await settledWithin(unary(client, new Metadata()), 'the next call');
      assert.equal(next.code, status.UNAVAILABLE, 'no token to send: the refused one is never sent again');
      assert.equal(server.rejected.length, 1, 'the server saw the first attempt only: no retry without a new token, and nothing after');
      assert.equal(served.requestCount('/token') - before, 2, 'the next call fails fast during the back-off');
    } finally {
      served.tokenEndpoint.clearFaults();
      await server.close();
    }
  });

  it('other refusals are not retried: wrong audience, PERMISSION_DENIED, and an expired fixed token (nothing to refresh)', async () => {
    const server = await startAuthServer(idp, { rules: { '/test.echo.v1.Echo/ServerStream': 'deny' } });
    try {
      const wrongAudience = await unary(server.client({ token: await idp.sign({ aud: 'other-api' }) }), new Metadata());
      assert.equal(wrongAudience.reason, 'AUDIENCE_INVALID');
      const denied = await serverStream(server.client({ token: await idp.sign() }), new Metadata());
      assert.equal(denied.code, status.PERMISSION_DENIED);
      const expired = await unary(server.client({ token: await idp.expiredToken() }), new Metadata());
      assert.equal(expired.reason, 'TOKEN_EXPIRED');
      assert.deepEqual(server.rejected, ['AUDIENCE_INVALID', 'ACCESS_DENIED', 'TOKEN_EXPIRED'], 'one attempt each');
    } finally {
      await server.close();
    }
  });
});

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/** `promise`, or a failure if it has not settled within 5 s: a call whose status never comes must fail the test, not hang it. */
function settledWithin<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no status within 5 s`)), 5000);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** Records unhandled rejections while `run` runs (and one turn of the event loop after it). */
async function unhandledDuring(run: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    await run();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', record);
  }
  return unhandled;
}

describe('token interceptor: the client closed while a token is fetched', () => {
  let idp: TestIssuer;
  let server: AuthServer;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    server = await startAuthServer(idp);
  });
  after(() => server.close());

  it('every call kind ends with UNAVAILABLE "channel closed"; no unhandled rejection, nothing reaches the server', async () => {
    const token = deferred<string>();
    let asked = 0;
    const allAsked = deferred<void>();
    const client = server.client({
      token: () => {
        if (++asked === 4) allAsked.resolve();
        return token.promise;
      },
    });
    let outcomes: Record<string, Outcome> = {};
    const unhandled = await unhandledDuring(async () => {
      const pending = allKinds(client, () => new Metadata());
      await allAsked.promise;
      client.close();
      token.resolve(await idp.sign());
      outcomes = await settledWithin(pending, 'calls on a closed client');
    });
    assert.deepEqual(unhandled, []);
    for (const [kind, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.code, status.UNAVAILABLE, kind);
      assert.equal(outcome.details, 'grpc-jwt-auth: channel closed', kind);
    }
    assert.deepEqual(server.rejected, []);
  });

  it('closed during the forced refresh of a unary retry → the call ends with UNAVAILABLE "channel closed"', async () => {
    const expired = await idp.expiredToken();
    const refreshed = deferred<string>();
    const refreshAsked = deferred<void>();
    const client = server.client({
      token: {
        getToken: async () => expired,
        refresh: () => {
          refreshAsked.resolve();
          return refreshed.promise;
        },
      },
    });
    let outcome: Outcome | undefined;
    const unhandled = await unhandledDuring(async () => {
      const pending = unary(client, new Metadata());
      await refreshAsked.promise;
      client.close();
      refreshed.resolve(await idp.sign());
      outcome = await settledWithin(pending, 'a retry on a closed client');
    });
    assert.deepEqual(unhandled, []);
    assert.equal(outcome?.code, status.UNAVAILABLE);
    assert.equal(outcome?.details, 'grpc-jwt-auth: channel closed');
  });
});

describe('token interceptor: the token leak guard', () => {
  let idp: TestIssuer;
  let server: AuthServer;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    server = await startAuthServer(idp);
  });
  after(() => server.close());

  it('plaintext to a non-loopback target without channelSecurity → FAILED_PRECONDITION before anything is sent', async () => {
    const token = await idp.sign();
    const client = server.client({ token }, 'orders.example.invalid:50051');
    const outcomes = await allKinds(client, () => new Metadata());
    for (const [kind, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.code, status.FAILED_PRECONDITION, kind);
      assert.match(outcome.details, /channelSecurity/, kind);
      assert.equal(outcome.details.includes(token), false, kind);
    }
    assert.equal((await unary(server.client({ token }, `localhost:${server.echo.port}`), new Metadata())).code, status.OK, 'localhost is loopback');
  });

  it("channelSecurity 'tls' on a channel that is plaintext: the call goes, one warning, then the target is refused", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(warning.code ?? '');
    process.on('warning', onWarning);
    try {
      const client = server.client({ token: await idp.sign(), channelSecurity: 'tls' });
      assert.equal((await unary(client, new Metadata())).code, status.OK);
      assert.equal((await unary(client, new Metadata())).code, status.FAILED_PRECONDITION);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, ['GRPC_JWT_AUTH_PLAINTEXT_CHANNEL']);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('bad options → AuthConfigError naming the option', () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'token'],
      [{ token: 'Bearer abc' }, 'token'],
      [{ token: 42 }, 'token'],
      [{ token: 'abc', channelSecurity: 'plaintext' }, 'channelSecurity'],
      [{ token: 'abc', retry: true }, 'retry'],
      [undefined, 'options'],
    ];
    for (const [options, option] of cases) {
      assert.throws(
        () => createTokenInterceptor(options as never),
        (error: { option?: string }) => error.option === option,
        option,
      );
    }
  });
});

describe('token interceptor: figures', () => {
  let idp: TestIssuer;
  let served: ServedIssuer;
  const world = fakeClock();

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    served = await idp.serve({ token: { clients: { worker: { secret: SECRET } }, accessTokenLifetime: 60, clock: world.read } });
  });
  after(() => served.close());

  it('1,000 concurrent calls across a refresh → 1 token-endpoint request each time, 0 failures', async () => {
    const server = await startAuthServer(idp, { clock: world.read });
    try {
      const client = server.client({ token: clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET, clock: world.read }) });
      assert.equal((await unary(client, new Metadata())).code, status.OK);
      const burst = async () => {
        const before = served.requestCount('/token');
        const outcomes = await Promise.all(Array.from({ length: 1000 }, (_, i) => unary(client, new Metadata(), `c${i}`)));
        await until(() => served.requestCount('/token') > before);
        return { requests: served.requestCount('/token') - before, failed: outcomes.filter((outcome) => outcome.code !== status.OK).length };
      };
      world.advance(56);
      const inWindow = await burst(); // the old token is still valid: served at once, one background refresh
      world.advance(61);
      const afterExpiry = await burst(); // nothing valid: every call waits for the same one fetch
      console.log(
        `figure: token-endpoint requests for 1,000 concurrent calls: in the refresh window ${inWindow.requests}, after expiry ${afterExpiry.requests}`,
      );
      assert.deepEqual(inWindow, { requests: 1, failed: 0 });
      assert.deepEqual(afterExpiry, { requests: 1, failed: 0 });
    } finally {
      await server.close();
    }
  });

  it('a simulated 10-minute run with 60-second tokens, every call kind every 2 s → 0 failed calls', async () => {
    const server = await startAuthServer(idp, { clock: world.read });
    try {
      const client = server.client({ token: clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET, clock: world.read }) });
      const before = served.requestCount('/token');
      let calls = 0;
      let failed = 0;
      for (let elapsed = 0; elapsed < 600; elapsed += 2) {
        const outcomes = await allKinds(client, () => new Metadata());
        calls += 4;
        failed += Object.values(outcomes).filter((outcome) => outcome.code !== status.OK).length;
        world.advance(2);
      }
      const requests = served.requestCount('/token') - before;
      console.log(`figure: simulated 10 minutes, 60-second tokens: ${calls} calls, ${failed} failed, ${requests} token requests`);
      assert.equal(failed, 0);
      assert.equal(server.rejected.length, 0, 'the server never saw an expired token');
      assert.ok(requests >= 10 && requests <= 13, `about one token per 54 s, got ${requests}`);
    } finally {
      await server.close();
    }
  });
});
