/**
 * The interceptor's per-call object (server/call-authorization.ts) over real gRPC, watched from both
 * sides: an interceptor before ours sees every status it sends, every read of the request metadata and
 * every promise created while it decides; one after ours sees whether (and when) it let the call on.
 * Each test pins one behaviour the per-call object must keep: the synchronous fast path, one decision
 * per call, `deny` and `public` reading nothing, messages held in order, hooks once per call, and the
 * stream expiry timer started only for streams and stopped by the handler's status or a cancel.
 */
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  createAuthInterceptor,
  requireScopes,
  type AuthenticatedEvent,
  type AuthInterceptorOptions,
  type KeyResolver,
  type RejectedEvent,
} from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, bidi, clientStream, serverStream, unary, type Outcome } from '../support/calls.ts';
import { METHODS, echoImplementation, startEchoServer, type EchoServer, type HandlerRuns } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
const meta = (token: string) => bearer(Metadata, token);
const KINDS = ['unary', 'serverStream', 'clientStream', 'bidi'] as const;
type Kind = (typeof KINDS)[number];
const callOf: Record<Kind, (client: EchoServer['client'], metadata: grpc.Metadata) => Promise<Outcome>> = {
  unary: (client, metadata) => unary(client, metadata),
  serverStream: (client, metadata) => serverStream(client, metadata),
  clientStream: (client, metadata) => clientStream(client, metadata),
  bidi: (client, metadata) => bidi(client, metadata),
};

// Every promise the process creates while counting is on (only inside one synchronous span, see below).
let promisesCreated = 0;
const promiseCounter = createHook({
  init(_id, type) {
    if (type === 'PROMISE') promisesCreated += 1;
  },
});

/** What the two watching interceptors saw of one call. */
interface CallRecord {
  readonly method: string;
  /** The auth interceptor passed the metadata on (the handler side received it). */
  admitted: boolean;
  /** It passed the call on or sent a status. */
  decided: boolean;
  /** It decided (passed the call on, or sent a status) before grpc-js's delivery of the metadata returned. */
  decidedSynchronously: boolean;
  /** Promises created between handing it the metadata and its decision, when it decided synchronously. */
  promisesUntilDecision: number | undefined;
  /** Reads of the request metadata object by the auth interceptor before it decided. */
  metadataReadsUntilDecision: number;
  /** Every status that left the auth interceptor towards the client, in order. */
  readonly statuses: number[];
  /** grpc-js told the server the call is over (its `onCancel`, which every call gets at its end). */
  ended: boolean;
}

interface Watch {
  /** Put before the auth interceptor in `interceptors`. */
  readonly outer: grpc.ServerInterceptor;
  /** Put after it. */
  readonly inner: grpc.ServerInterceptor;
  readonly calls: CallRecord[];
  /** While set, statuses leaving the auth interceptor wait for this before going on to the client. */
  holdStatuses: ((send: () => void) => void) | undefined;
}

function watch(): Watch {
  const records = new WeakMap<grpc.Metadata, CallRecord>();
  let span: { readonly record: CallRecord; readonly promisesAtStart: number } | undefined;
  const decide = (record: CallRecord): void => {
    if (record.decided) return;
    record.decided = true;
    if (span?.record !== record) return;
    record.decidedSynchronously = true;
    record.promisesUntilDecision = promisesCreated - span.promisesAtStart;
    span = undefined;
  };
  const state: Watch = {
    calls: [],
    holdStatuses: undefined,
    outer: (descriptor, call) => {
      const record: CallRecord = {
        method: descriptor.path,
        admitted: false,
        decided: false,
        decidedSynchronously: false,
        promisesUntilDecision: undefined,
        metadataReadsUntilDecision: 0,
        statuses: [],
        ended: false,
      };
      state.calls.push(record);
      return new grpc.ServerInterceptingCall(call, {
        start(next) {
          next({
            onReceiveMetadata(metadata, nextMetadata) {
              // The same object goes on to the handler (getAuth finds the context by it); every read of
              // it is counted while the auth interceptor decides.
              const watched = new Proxy(metadata, {
                get(target, property, receiver) {
                  if (!record.decided) record.metadataReadsUntilDecision += 1;
                  return Reflect.get(target, property, receiver) as unknown;
                },
              });
              records.set(watched, record);
              span = { record, promisesAtStart: promisesCreated };
              promiseCounter.enable();
              try {
                nextMetadata(watched);
              } finally {
                promiseCounter.disable();
                span = undefined;
              }
            },
            onCancel() {
              record.ended = true;
            },
          });
        },
        sendStatus(final, next) {
          record.statuses.push(final.code);
          decide(record);
          const hold = state.holdStatuses;
          if (hold) hold(() => next(final));
          else next(final);
        },
      });
    },
    inner: (_descriptor, call) =>
      new grpc.ServerInterceptingCall(call, {
        start(next) {
          next({
            onReceiveMetadata(metadata, nextMetadata) {
              const record = records.get(metadata);
              if (record) {
                record.admitted = true;
                decide(record);
              }
              nextMetadata(metadata);
            },
          });
        },
      }),
  };
  return state;
}

/** A key resolver whose lookups wait until released: verification stays pending as long as the test wants. */
function gated(inner: KeyResolver): { readonly keys: KeyResolver; waiting(): number; release(): void } {
  let held: Array<() => void> = [];
  return {
    keys: {
      kind: inner.kind,
      description: `gated ${inner.description}`,
      checkAlgorithms: (algorithms, option) => inner.checkAlgorithms(algorithms, option),
      holds: (key) => inner.holds(key),
      getKeys: (lookup) => new Promise((resolve) => held.push(() => resolve(inner.getKeys(lookup)))),
    },
    waiting: () => held.length,
    release: () => {
      const waiting = held;
      held = [];
      for (const proceed of waiting) proceed();
    },
  };
}

/** Waits until `condition` holds, polling; bounded, so a test can never hang on it. */
async function until(condition: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Observed {
  readonly echo: EchoServer;
  readonly seen: Watch;
  readonly authenticated: AuthenticatedEvent[];
  readonly rejected: RejectedEvent[];
}

async function startObserved(
  options: Omit<AuthInterceptorOptions, 'onAuthenticated' | 'onRejected'>,
  implementation?: (runs: HandlerRuns) => grpc.UntypedServiceImplementation,
): Promise<Observed> {
  const seen = watch();
  const authenticated: AuthenticatedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  const auth = createAuthInterceptor({ ...options, onAuthenticated: (event) => authenticated.push(event), onRejected: (event) => rejected.push(event) });
  const echo = await startEchoServer({ interceptors: [seen.outer, auth, seen.inner], ...(implementation ? { implementation } : {}) });
  return { echo, seen, authenticated, rejected };
}

const lastCall = (seen: Watch, method: string): CallRecord => {
  const record = seen.calls.findLast((call) => call.method === method);
  assert.ok(record, `a call of ${method} was seen`);
  return record;
};

describe('call authorization: the synchronous fast path', () => {
  let idp: TestIssuer;
  let observed: Observed;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    observed = await startObserved({
      keys: idp.keys,
      algorithms: ['HS256'],
      rules: { [METHODS.unary]: requireScopes('orders:read'), [METHODS.serverStream]: 'optional', [METHODS.clientStream]: requireScopes('orders:write') },
    });
  });
  after(() => observed.echo.close());

  it('every call kind, a token seen before and a synchronous rule or guard: admitted before grpc-js delivery returns, not one promise created', async () => {
    const token = await idp.sign({ scope: 'orders:read orders:write' });
    const first = await unary(observed.echo.client, meta(token));
    assert.equal(first.code, status.OK);
    const verified = lastCall(observed.seen, METHODS.unary);
    assert.equal(verified.decidedSynchronously, false, 'the first call verifies the signature: asynchronous (the instrument sees that)');
    for (const kind of KINDS) {
      assert.equal((await callOf[kind](observed.echo.client, meta(token))).code, status.OK, kind);
      const record = lastCall(observed.seen, METHODS[kind]);
      assert.equal(record.admitted, true, kind);
      assert.equal(record.decidedSynchronously, true, kind);
      assert.equal(record.promisesUntilDecision, 0, kind);
    }
  });

  it('a refusal found synchronously (no token, a cached token a synchronous guard refuses) sends its one status without a promise', async () => {
    const readOnly = await idp.sign({ scope: 'orders:read' });
    assert.equal((await unary(observed.echo.client, meta(readOnly))).code, status.OK); // now cached
    const cases: ReadonlyArray<readonly [Kind, grpc.Metadata, number]> = [
      ['unary', new Metadata(), status.UNAUTHENTICATED],
      ['bidi', new Metadata(), status.UNAUTHENTICATED],
      ['clientStream', meta(readOnly), status.PERMISSION_DENIED],
    ];
    for (const [kind, metadata, code] of cases) {
      assert.equal((await callOf[kind](observed.echo.client, metadata)).code, code, kind);
      const record = lastCall(observed.seen, METHODS[kind]);
      assert.equal(record.admitted, false, kind);
      assert.equal(record.decidedSynchronously, true, kind);
      assert.equal(record.promisesUntilDecision, 0, kind);
      assert.deepEqual(record.statuses, [code], kind);
    }
  });
});

describe('call authorization: one decision per call', () => {
  it('every refused call, decided at once or after verification, sends exactly one status and never lets the call on', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const other = await createTestIssuer({ alg: 'ES256' });
    const observed = await startObserved({ keys: idp.keys, algorithms: ['ES256'], rules: { [METHODS.bidi]: async () => false } });
    try {
      const forged = await other.sign();
      const scoped = await idp.sign();
      const cases: ReadonlyArray<readonly [Kind, grpc.Metadata, number]> = [
        ['unary', new Metadata(), status.UNAUTHENTICATED],
        ['serverStream', meta(forged), status.UNAUTHENTICATED], // refused after an asynchronous signature check
        ['clientStream', meta('not.a.token'), status.UNAUTHENTICATED],
        ['bidi', meta(scoped), status.PERMISSION_DENIED], // refused by an asynchronous guard
      ];
      for (const [kind, metadata, code] of cases) {
        const outcome = await callOf[kind](observed.echo.client, metadata);
        assert.equal(outcome.code, code, kind);
        const record = lastCall(observed.seen, METHODS[kind]);
        assert.deepEqual(record.statuses, [code], `${kind}: one status`);
        assert.equal(record.admitted, false, `${kind}: never passed on`);
      }
      assert.deepEqual(observed.echo.runs, { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 });
      assert.equal(observed.rejected.length, 4);
      assert.equal(observed.authenticated.length, 0);
    } finally {
      await observed.echo.close();
    }
  });
});

describe('call authorization: one decision per call, at the last moment', () => {
  it('a token that expires while an asynchronous guard runs: one status, TOKEN_EXPIRED, and the call never goes on (unary and bidi)', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    let now = exp * 1000 - 100;
    // The guard allows, but only after the token's last moment: the per-call object must refuse, not admit.
    const slowGuard = async (): Promise<boolean> => {
      now = exp * 1000 + 1;
      return true;
    };
    const observed = await startObserved({ keys: idp.keys, algorithms: ['HS256'], clockTolerance: 0, clock: () => now, defaultRule: slowGuard });
    try {
      for (const kind of ['unary', 'bidi'] as const) {
        now = exp * 1000 - 100;
        const outcome = await callOf[kind](observed.echo.client, meta(await idp.sign({ exp }, { issuedAt: exp - 3600 })));
        assert.equal(outcome.code, status.UNAUTHENTICATED, kind);
        assert.equal(outcome.reason, 'TOKEN_EXPIRED', kind);
        const record = lastCall(observed.seen, METHODS[kind]);
        assert.deepEqual(record.statuses, [status.UNAUTHENTICATED], kind);
        assert.equal(record.admitted, false, kind);
      }
      assert.equal(observed.authenticated.length, 0);
      assert.equal(observed.rejected.length, 2);
    } finally {
      await observed.echo.close();
    }
  });
});

describe("call authorization: 'deny' and 'public' read nothing", () => {
  it("'deny' refuses without one read of the metadata, 'public' lets the call on without one, 'authenticated' reads it", async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const observed = await startObserved({ keys: idp.keys, algorithms: ['HS256'], rules: { [METHODS.unary]: 'deny', '/test.echo.v1.Public/*': 'public' } });
    try {
      const token = await idp.sign();
      assert.equal((await unary(observed.echo.client, meta(token))).code, status.PERMISSION_DENIED);
      const denied = lastCall(observed.seen, METHODS.unary);
      assert.equal(denied.decidedSynchronously, true);
      assert.equal(denied.metadataReadsUntilDecision, 0, 'deny never reads the token');
      assert.equal(observed.rejected[0]?.error.code, 'ERR_AUTH_ACCESS_DENIED');

      const pinged = await new Promise<grpc.ServiceError | null>((resolve) => observed.echo.publicClient.Ping({ text: '' }, meta('garbage'), resolve));
      assert.equal(pinged, null);
      const open = lastCall(observed.seen, METHODS.ping);
      assert.equal(open.admitted, true);
      assert.equal(open.metadataReadsUntilDecision, 0, 'public never reads the metadata');

      assert.equal((await serverStream(observed.echo.client, meta(token))).code, status.OK);
      assert.ok(lastCall(observed.seen, METHODS.serverStream).metadataReadsUntilDecision > 0, 'the instrument sees reads');
    } finally {
      await observed.echo.close();
    }
  });
});

describe('call authorization: messages held while verification is pending', () => {
  it('client stream and bidi: 100 messages and the half-close, all sent before the key lookup returns, reach the handler complete and in order', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const gate = gated(idp.keys);
    const observed = await startObserved({ keys: gate.keys, algorithms: ['HS256'] });
    try {
      const texts = Array.from({ length: 100 }, (_, i) => `m${i}`);
      const written = (call: grpc.ClientWritableStream<unknown>): Promise<void> =>
        new Promise((resolve) => {
          texts.forEach((text, i) => call.write({ text }, i === texts.length - 1 ? () => resolve() : undefined));
          call.end();
        });
      const token = await idp.sign();
      const collected = new Promise<[grpc.ServiceError | null, { text: string; count: number } | undefined]>((resolve) => {
        const call = observed.echo.client.ClientStream(meta(token), (error: grpc.ServiceError | null, reply?: { text: string; count: number }) =>
          resolve([error, reply]),
        );
        void written(call);
      });
      const duplexReplies: string[] = [];
      const duplex = observed.echo.client.Bidi(meta(await idp.sign({ sub: 'other' })));
      const duplexDone = new Promise<number>((resolve) => {
        duplex.on('data', (reply: { text: string }) => duplexReplies.push(reply.text));
        duplex.on('status', (final: grpc.StatusObject) => resolve(final.code));
        duplex.on('error', () => undefined);
      });
      await written(duplex);
      await until(() => gate.waiting() === 2, 'both verifications to wait on the key lookup');
      assert.deepEqual(observed.echo.runs, { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 }, 'no handler before the decision');
      gate.release();
      const [error, reply] = await collected;
      assert.equal(error, null);
      assert.equal(reply?.text, texts.join(','));
      assert.equal(reply?.count, 100);
      assert.equal(await duplexDone, status.OK);
      assert.deepEqual(duplexReplies, texts);
    } finally {
      gate.release();
      await observed.echo.close();
    }
  });

  it('a call cancelled while its verification waits: no handler, no hook, no status from us; the late verification is dropped', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const gate = gated(idp.keys);
    const observed = await startObserved({ keys: gate.keys, algorithms: ['HS256'] });
    try {
      const call = observed.echo.client.Bidi(meta(await idp.sign()));
      const done = new Promise<number>((resolve) => {
        call.on('status', (final: grpc.StatusObject) => resolve(final.code));
        call.on('error', () => undefined);
      });
      call.write({ text: 'a' });
      await until(() => gate.waiting() === 1, 'the verification to wait on the key lookup');
      call.cancel();
      assert.equal(await done, status.CANCELLED);
      // The server learns of the cancel a moment after the client; only then may verification finish.
      await until(() => lastCall(observed.seen, METHODS.bidi).ended, 'the server to see the cancel');
      gate.release();
      await delay(100);
      const record = lastCall(observed.seen, METHODS.bidi);
      assert.equal(record.admitted, false);
      assert.deepEqual(record.statuses, []);
      assert.equal(observed.echo.runs.bidi, 0);
      assert.equal(observed.authenticated.length + observed.rejected.length, 0, 'no hook for a call nobody decided');
    } finally {
      gate.release();
      await observed.echo.close();
    }
  });
});

describe('call authorization: hooks, once per call', () => {
  it('admitted calls of every kind → one onAuthenticated each; refused ones → one onRejected each; public → none', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const observed = await startObserved({ keys: idp.keys, algorithms: ['HS256'], rules: { '/test.echo.v1.Public/*': 'public' } });
    try {
      const token = await idp.sign({ sub: 'alice' });
      for (const kind of KINDS) assert.equal((await callOf[kind](observed.echo.client, meta(token))).code, status.OK, kind);
      assert.deepEqual(
        observed.authenticated.map((event) => [event.method, event.subject]),
        KINDS.map((kind) => [METHODS[kind], 'alice']),
      );
      assert.equal(observed.rejected.length, 0);
      for (const kind of KINDS) assert.equal((await callOf[kind](observed.echo.client, new Metadata())).code, status.UNAUTHENTICATED, kind);
      assert.deepEqual(
        observed.rejected.map((event) => [event.method, event.error.code]),
        KINDS.map((kind) => [METHODS[kind], 'ERR_AUTH_TOKEN_MISSING']),
      );
      await new Promise((resolve) => observed.echo.publicClient.Ping({ text: '' }, new Metadata(), resolve));
      assert.equal(observed.authenticated.length, 4);
      assert.equal(observed.rejected.length, 4);
    } finally {
      await observed.echo.close();
    }
  });
});

describe('call authorization: the stream expiry timer', () => {
  // The interceptor's clock, moved by hand: a call is admitted with 100 ms left on its token, so an
  // expiry timer (armed only for streams) polls every 100 ms until the test moves the clock past `exp`.
  const EXP = Math.floor(Date.now() / 1000) + 3600;
  const setUp = () => {
    let now = EXP * 1000 - 100;
    return {
      clock: () => now,
      /** Past `exp`, and past `later` seconds after it when given. */
      expire: (later = 0) => {
        now = (EXP + later) * 1000 + 1;
      },
      /** 100 ms before `exp` plus `later` seconds. */
      before: (later: number) => {
        now = (EXP + later) * 1000 - 100;
      },
    };
  };

  it('unary: a handler still running when its token expires is not ended by a timer (only streams get one)', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const time = setUp();
    let handlerStarted = false;
    let finishHandler: () => void = () => undefined;
    const observed = await startObserved({ keys: idp.keys, algorithms: ['HS256'], clockTolerance: 0, clock: time.clock }, (runs) => ({
      ...echoImplementation(runs),
      Unary(_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
        handlerStarted = true;
        finishHandler = () => callback(null, { text: 'late', subject: '', scopes: [], count: 0 });
      },
    }));
    try {
      const outcome = unary(observed.echo.client, meta(await idp.sign({ exp: EXP }, { issuedAt: EXP - 3600 })));
      await until(() => handlerStarted, 'the handler to start');
      time.expire();
      await delay(400); // a timer, had one been armed, would have ended the call by now
      finishHandler();
      assert.equal((await outcome).code, status.OK);
      assert.equal(observed.rejected.length, 0);
    } finally {
      await observed.echo.close();
    }
  });

  it("server stream: the handler's own status stops the timer, even while that status is still on its way", async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const time = setUp();
    const observed = await startObserved({ keys: idp.keys, algorithms: ['HS256'], clockTolerance: 0, clock: time.clock });
    let release: () => void = () => undefined;
    let held = false;
    observed.seen.holdStatuses = (send) => {
      held = true;
      release = send;
    };
    try {
      const outcome = serverStream(observed.echo.client, meta(await idp.sign({ exp: EXP }, { issuedAt: EXP - 3600 })));
      await until(() => held, "the handler's status to leave the auth interceptor");
      time.expire();
      await delay(400); // a timer left running would refuse the call now: a second status, an onRejected
      observed.seen.holdStatuses = undefined;
      release();
      const result = await outcome;
      assert.equal(result.code, status.OK);
      assert.equal(result.replies.length, 3);
      assert.deepEqual(lastCall(observed.seen, METHODS.serverStream).statuses, [status.OK]);
      assert.equal(observed.rejected.length, 0);
    } finally {
      await observed.echo.close();
    }
  });

  it('server stream: a cancel stops the timer; a stream still open when the token expires is ended once, with one onRejected', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const time = setUp();
    const observed = await startObserved({ keys: idp.keys, algorithms: ['HS256'], clockTolerance: 0, clock: time.clock });
    try {
      const token = await idp.sign({ exp: EXP }, { issuedAt: EXP - 3600 });
      // Cancelled by the client: the open 'hold' stream never ends by itself, only the cancel stops the timer.
      const cancelled = observed.echo.client.ServerStream({ text: 'hold' }, meta(token));
      const firstReply = new Promise((resolve) => cancelled.once('data', resolve));
      cancelled.on('error', () => undefined);
      await firstReply;
      cancelled.cancel();
      await until(() => lastCall(observed.seen, METHODS.serverStream).ended, 'the server to see the cancel');
      time.expire();
      await delay(400); // a timer left running would refuse the cancelled call now, with an onRejected
      assert.equal(observed.rejected.length, 0, 'a cancelled stream is never refused afterwards');

      // Still open at expiry: ended with TOKEN_EXPIRED, once.
      time.before(60);
      const open = observed.echo.client.ServerStream({ text: 'hold' }, meta(await idp.sign({ exp: EXP + 60 }, { issuedAt: EXP - 3600 })));
      open.once('data', () => time.expire(60));
      const ended = await new Promise<grpc.ServiceError>((resolve) => open.on('error', resolve));
      assert.equal(ended.code, status.UNAUTHENTICATED);
      assert.deepEqual(
        observed.rejected.map((event) => event.error.code),
        ['ERR_AUTH_TOKEN_EXPIRED'],
      );
      assert.deepEqual(lastCall(observed.seen, METHODS.serverStream).statuses, [status.UNAUTHENTICATED]);
      assert.equal(observed.authenticated.filter((event) => event.method === METHODS.serverStream).length, 2);
    } finally {
      await observed.echo.close();
    }
  });
});
