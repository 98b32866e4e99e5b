/**
 * Fault injection: client cancel and deadline expiry while verification waits on a slow key resolver;
 * a failing, hanging, then stale remote JWKS under concurrent load; handlers that throw after
 * authentication. Every call's status is known in advance and checked; the process must not crash, and
 * no library timer, server listener or process resource may be left behind.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, fromJwks, fromSecret, withGuard, type AuthInterceptor, type KeyResolver } from '../../src/index.ts';
import { unary } from '../support/calls.ts';
import { startEchoServer, type EchoServer, type HandlerRuns } from '../support/echo-server.ts';
import { hang, json, startFakeProvider, status as httpStatus, type FakeProvider } from '../support/fake-provider.ts';
import { manualClock } from '../support/remote-keys.ts';
import { goodClaims, hmacToken, keyToken } from './forge.ts';
import { activeResources, grownOver, probeLibraryTimers, processListeners, serverListeners, settle } from './leaks.ts';
import { AUDIENCE, ISSUER, bearer } from './targets.ts';

const crashes: unknown[] = [];
const recordCrash = (error: unknown): void => {
  crashes.push(error);
};
process.on('uncaughtException', recordCrash);
process.on('unhandledRejection', recordCrash);
const timers = probeLibraryTimers();
const resourcesAtStart = activeResources();
const processListenersAtStart = processListeners();

type Kind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';
const KINDS: readonly Kind[] = ['unary', 'serverStream', 'clientStream', 'bidi'];
const handlerRuns = (runs: HandlerRuns): number => runs.unary + runs.serverStream + runs.clientStream + runs.bidi;

interface Started {
  readonly call: { cancel(): void };
  /** The final status code the client sees. */
  readonly done: Promise<number>;
}

/** Starts a call of any kind and keeps the call object, so the test can cancel it. */
function start(client: grpc.Client & Record<string, any>, kind: Kind, metadata: grpc.Metadata, options: grpc.CallOptions = {}): Started {
  let resolve!: (code: number) => void;
  const done = new Promise<number>((r) => {
    resolve = r;
  });
  const onUnary = (error: grpc.ServiceError | null) => resolve(error ? error.code : grpc.status.OK);
  const watch = (call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>) => {
    call.on('data', () => undefined);
    call.on('error', () => undefined); // the code arrives with 'status'
    call.on('status', (status: grpc.StatusObject) => resolve(status.code));
    return call;
  };
  switch (kind) {
    case 'unary':
      return { call: client.Unary({ text: 'hi' }, metadata, options, onUnary), done };
    case 'serverStream':
      return { call: watch(client.ServerStream({ text: 'hi' }, metadata, options)), done };
    case 'clientStream': {
      const call = client.ClientStream(metadata, options, onUnary);
      call.write({ text: 'a' });
      call.end();
      return { call, done };
    }
    case 'bidi': {
      const call = watch(client.Bidi(metadata, options)) as grpc.ClientDuplexStream<unknown, unknown>;
      call.write({ text: 'a' });
      call.end();
      return { call, done };
    }
  }
}

/** A resolver that holds every key lookup until released (or passes them through once opened). */
interface Gate {
  readonly resolver: KeyResolver;
  whenWaiting(count: number): Promise<void>;
  release(): void;
  open(): void;
  close(): void;
}

function gate(inner: KeyResolver): Gate {
  let held: Array<() => void> = [];
  let passing = false;
  const watchers: Array<{ count: number; resolve: () => void }> = [];
  const notify = (): void => {
    for (const watcher of [...watchers]) {
      if (held.length < watcher.count) continue;
      watchers.splice(watchers.indexOf(watcher), 1);
      watcher.resolve();
    }
  };
  const release = (): void => {
    const waiting = held;
    held = [];
    for (const proceed of waiting) proceed();
  };
  return {
    resolver: {
      kind: inner.kind,
      description: `gated ${inner.description}`,
      checkAlgorithms: (algorithms, option) => inner.checkAlgorithms(algorithms, option),
      holds: (key) => inner.holds(key),
      getKeys: (lookup) =>
        passing
          ? inner.getKeys(lookup)
          : new Promise((resolve, reject) => {
              held.push(() => {
                try {
                  resolve(inner.getKeys(lookup));
                } catch (error) {
                  reject(error);
                }
              });
              notify();
            }),
    },
    whenWaiting: (count) =>
      new Promise((resolve) => {
        watchers.push({ count, resolve });
        notify();
      }),
    release,
    open: () => {
      passing = true;
      release();
    },
    close: () => {
      passing = false;
    },
  };
}

const SECRET = randomBytes(32);
let serial = 0;
/** A fresh token each time (its own jti), so no call is answered from the verified-token cache. */
const freshToken = (extra: Record<string, unknown> = {}): string =>
  hmacToken('HS256', SECRET, {}, goodClaims(ISSUER, AUDIENCE, { jti: `fault-${serial++}`, ...extra }));

describe('faults: client cancel and deadline expiry while verification waits', () => {
  let echo: EchoServer;
  let slow: Gate;
  // The client learns of its own cancel or deadline before the server does. The outermost interceptor
  // counts call ends as the server sees them, so a lookup is released only once the server knows: a
  // verification that finishes earlier legitimately admits a call whose token is valid.
  let serverEnds = 0;
  const countEnds: grpc.ServerInterceptor = (_descriptor, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onCancel() {
            serverEnds += 1;
          },
        });
      },
    });
  const serverHasSeen = (ends: number) => settle(() => (serverEnds >= ends ? [] : [`server saw ${serverEnds} of ${ends} call ends`]));
  before(async () => {
    slow = gate(fromSecret(SECRET));
    echo = await startEchoServer({
      interceptors: [countEnds, createAuthInterceptor({ keys: slow.resolver, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE })],
    });
  });
  after(() => echo.close());

  /** A follow-up call with the same token joins (or reuses) the late verification: only it runs the handler. */
  const followUp = async (token: string, runsBefore: number, endsBefore: number): Promise<void> => {
    assert.deepEqual(await serverHasSeen(endsBefore + 1), []);
    slow.open();
    assert.equal((await unary(echo.client, bearer(token))).code, grpc.status.OK);
    slow.close();
    assert.equal(handlerRuns(echo.runs) - runsBefore, 1, 'the cancelled call never reached its handler');
  };

  for (const kind of KINDS) {
    it(`${kind}: cancelled by the client while the key lookup waits → CANCELLED; the late verification is ignored`, async () => {
      const token = freshToken();
      const [runsBefore, endsBefore] = [handlerRuns(echo.runs), serverEnds];
      const { call, done } = start(echo.client, kind, bearer(token));
      await slow.whenWaiting(1);
      call.cancel();
      assert.equal(await done, grpc.status.CANCELLED);
      await followUp(token, runsBefore, endsBefore);
    });

    it(`${kind}: deadline expires while the key lookup waits → DEADLINE_EXCEEDED; the handler never runs`, async () => {
      const token = freshToken();
      const [runsBefore, endsBefore] = [handlerRuns(echo.runs), serverEnds];
      const { done } = start(echo.client, kind, bearer(token), { deadline: Date.now() + 200 });
      await slow.whenWaiting(1);
      assert.equal(await done, grpc.status.DEADLINE_EXCEEDED);
      await followUp(token, runsBefore, endsBefore);
    });
  }

  it('240 concurrent calls of all kinds: 80 cancelled, 80 past their deadline, 80 let through → each status as planned, no listener left on the server', async () => {
    slow.open();
    assert.equal((await unary(echo.client, bearer(freshToken()))).code, grpc.status.OK);
    slow.close();
    const listenersBefore = serverListeners(echo.server);
    const [runsBefore, endsBefore] = [handlerRuns(echo.runs), serverEnds];
    const cancelled = Array.from({ length: 80 }, (_, i) => start(echo.client, KINDS[i % 4] as Kind, bearer(freshToken())));
    const through = Array.from({ length: 80 }, (_, i) => start(echo.client, KINDS[i % 4] as Kind, bearer(freshToken())));
    await slow.whenWaiting(160);
    // These may or may not reach the key lookup before their deadline: either way they must end DEADLINE_EXCEEDED.
    const late = Array.from({ length: 80 }, (_, i) => start(echo.client, KINDS[i % 4] as Kind, bearer(freshToken()), { deadline: Date.now() + 300 }));
    assert.deepEqual(new Set(await Promise.all(late.map((c) => c.done))), new Set([grpc.status.DEADLINE_EXCEEDED]));
    for (const { call } of cancelled) call.cancel();
    assert.deepEqual(new Set(await Promise.all(cancelled.map((c) => c.done))), new Set([grpc.status.CANCELLED]));
    assert.deepEqual(await serverHasSeen(endsBefore + 160), []);
    slow.open();
    assert.deepEqual(new Set(await Promise.all(through.map((c) => c.done))), new Set([grpc.status.OK]));
    slow.close();
    assert.equal(handlerRuns(echo.runs) - runsBefore, 80, 'only the calls let through ran their handler');
    assert.deepEqual(await settle(() => grownOver(listenersBefore, serverListeners(echo.server))), []);
  });
});

describe('faults: the key provider fails, hangs and recovers under load', () => {
  let provider: FakeProvider;
  let echo: EchoServer;
  let auth: AuthInterceptor;
  const clock = manualClock();
  const signer = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = { keys: [{ ...signer.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  const claims = (i: number) => goodClaims(ISSUER, AUDIENCE, { jti: `p-${serial++}-${i}` });
  before(async () => {
    provider = await startFakeProvider();
    const keys = fromJwks(`${provider.url}/jwks.json`, { timeout: 1, cacheMaxAge: 60, staleIfError: 60, cooldown: 1, clock: clock.now });
    auth = createAuthInterceptor({ keys, algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(async () => {
    auth.close();
    await echo.close();
    await provider.close();
  });

  type Mix = { valid: number; forged: number; unknownKid: number };
  /** Fires every call at once and returns the status codes by token class. */
  async function burst(mix: Mix): Promise<Record<keyof Mix, Set<number>>> {
    // Every token is signed before the first call starts: signing 100 RSA tokens between calls would hold
    // the event loop while the key fetch is under way, and on a loaded machine the fetch could time out
    // before its request even reached the provider.
    const make = (count: number, sign: (i: number) => string) => {
      const tokens = Array.from({ length: count }, (_, i) => sign(i));
      return () => tokens.map((token, i) => start(echo.client, KINDS[i % 4] as Kind, bearer(token)).done);
    };
    const starts = [
      make(mix.valid, (i) => keyToken('RS256', signer.privateKey, { kid: 'k1' }, claims(i))),
      make(mix.forged, (i) => keyToken('RS256', attacker.privateKey, { kid: 'k1' }, claims(i))),
      make(mix.unknownKid, (i) => keyToken('RS256', attacker.privateKey, { kid: `new-${i}` }, claims(i))),
    ];
    const [valid, forged, unknownKid] = await Promise.all(starts.map((startAll) => Promise.all(startAll())));
    return { valid: new Set(valid), forged: new Set(forged), unknownKid: new Set(unknownKid) };
  }
  const only = (code: number) => new Set([code]);
  const { OK, UNAVAILABLE, UNAUTHENTICATED } = grpc.status;

  it('cold cache, provider hangs: 100 calls → UNAVAILABLE, one request (single flight), no handler runs', async () => {
    provider.on('/jwks.json', hang());
    const runsBefore = handlerRuns(echo.runs);
    assert.deepEqual(await burst({ valid: 80, forged: 20, unknownKid: 0 }), { valid: only(UNAVAILABLE), forged: only(UNAVAILABLE), unknownKid: new Set() });
    assert.equal(provider.count('/jwks.json'), 1);
    assert.equal(handlerRuns(echo.runs), runsBefore);
  });

  it('provider answers 500 after the retry delay: 100 calls → UNAVAILABLE, one more request', async () => {
    provider.on('/jwks.json', httpStatus(500));
    clock.advance(5_000);
    assert.deepEqual(await burst({ valid: 80, forged: 20, unknownKid: 0 }), { valid: only(UNAVAILABLE), forged: only(UNAVAILABLE), unknownKid: new Set() });
    assert.equal(provider.count('/jwks.json'), 2);
  });

  it('provider recovers: valid → OK, forged → UNAUTHENTICATED', async () => {
    provider.on('/jwks.json', json(jwks));
    clock.advance(5_000);
    const runsBefore = handlerRuns(echo.runs);
    assert.deepEqual(await burst({ valid: 80, forged: 20, unknownKid: 0 }), { valid: only(OK), forged: only(UNAUTHENTICATED), unknownKid: new Set() });
    assert.equal(handlerRuns(echo.runs) - runsBefore, 80);
    assert.equal(provider.count('/jwks.json'), 3);
  });

  it('keys expire while the provider fails: stale keys keep verifying, unknown kids → UNAVAILABLE, one background request', async () => {
    provider.on('/jwks.json', httpStatus(500));
    clock.advance(61_000);
    assert.deepEqual(await burst({ valid: 80, forged: 10, unknownKid: 10 }), { valid: only(OK), forged: only(UNAUTHENTICATED), unknownKid: only(UNAVAILABLE) });
    assert.equal(provider.count('/jwks.json'), 4);
  });

  it('past the stale bound: every call → UNAVAILABLE, then the provider recovers and calls verify again', async () => {
    clock.advance(120_000);
    assert.deepEqual(await burst({ valid: 80, forged: 10, unknownKid: 10 }), {
      valid: only(UNAVAILABLE),
      forged: only(UNAVAILABLE),
      unknownKid: only(UNAVAILABLE),
    });
    provider.on('/jwks.json', json(jwks));
    clock.advance(60_000);
    assert.deepEqual(await burst({ valid: 40, forged: 10, unknownKid: 0 }), { valid: only(OK), forged: only(UNAUTHENTICATED), unknownKid: new Set() });
  });
});

describe('faults: handlers that throw after authentication', () => {
  let plain: EchoServer;
  let guarded: EchoServer;
  const allow = async () => true;
  const throwing = (runs: HandlerRuns): grpc.UntypedServiceImplementation => ({
    Unary() {
      runs.unary += 1;
      throw new Error('handler bug');
    },
    ServerStream() {
      runs.serverStream += 1;
      throw new Error('handler bug');
    },
    ClientStream() {
      runs.clientStream += 1;
      throw new Error('handler bug');
    },
    Bidi() {
      runs.bidi += 1;
      throw new Error('handler bug');
    },
  });
  // Behind an asynchronous guard the throw happens after an await, where grpc-js can no longer catch it;
  // the unary one answers first and then throws, so the wrapper's fallback answer is a second answer.
  const throwingBehindGuard = (runs: HandlerRuns): grpc.UntypedServiceImplementation => {
    const inner = throwing(runs);
    return {
      Unary: withGuard(allow, (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
        runs.unary += 1;
        callback(null, { text: call.request.text, subject: '', scopes: [], count: 0 });
        throw new Error('handler bug after answering');
      }),
      ServerStream: withGuard(allow, inner.ServerStream as grpc.handleServerStreamingCall<any, any>),
      ClientStream: withGuard(allow, inner.ClientStream as grpc.handleClientStreamingCall<any, any>),
      Bidi: withGuard(allow, inner.Bidi as grpc.handleBidiStreamingCall<any, any>),
    };
  };
  before(async () => {
    const options = () => ({ interceptors: [createAuthInterceptor({ keys: fromSecret(SECRET), algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE })] });
    [plain, guarded] = await Promise.all([
      startEchoServer({ ...options(), implementation: throwing }),
      startEchoServer({ ...options(), implementation: throwingBehindGuard }),
    ]);
  });
  after(() => Promise.all([plain.close(), guarded.close()]));

  for (const [name, server, expected] of [
    [
      'plain handlers',
      () => plain,
      { unary: grpc.status.UNKNOWN, serverStream: grpc.status.UNKNOWN, clientStream: grpc.status.UNKNOWN, bidi: grpc.status.UNKNOWN },
    ],
    // Answering and then throwing ends UNKNOWN, as grpc-js itself answers such a handler without the wrapper.
    [
      'handlers behind an async guard (withGuard)',
      () => guarded,
      { unary: grpc.status.UNKNOWN, serverStream: grpc.status.UNKNOWN, clientStream: grpc.status.UNKNOWN, bidi: grpc.status.UNKNOWN },
    ],
  ] as const) {
    it(`${name}: 200 concurrent calls — thrown → the handler's status, expired or missing tokens → UNAUTHENTICATED and no handler run; the server keeps serving`, async () => {
      const echo = server();
      const runsBefore = handlerRuns(echo.runs);
      const expired = () => hmacToken('HS256', SECRET, {}, goodClaims(ISSUER, AUDIENCE, { exp: Math.floor(Date.now() / 1000) - 3600 }));
      const calls = Array.from({ length: 200 }, (_, i) => {
        const kind = KINDS[i % 4] as Kind;
        const metadata = i % 4 === 3 ? new grpc.Metadata() : bearer(i % 8 < 4 ? freshToken() : expired());
        const authenticated = i % 4 !== 3 && i % 8 < 4;
        return start(echo.client, kind, metadata).done.then((code) => ({ kind, authenticated, code }));
      });
      for (const { kind, authenticated, code } of await Promise.all(calls)) {
        assert.equal(code, authenticated ? expected[kind] : grpc.status.UNAUTHENTICATED, `${kind} ${authenticated ? 'authenticated' : 'refused'}`);
      }
      assert.equal(handlerRuns(echo.runs) - runsBefore, calls.filter((_, i) => i % 4 !== 3 && i % 8 < 4).length);
      assert.deepEqual(crashes.map(String), []);
    });
  }
});

describe('faults: the process afterwards', () => {
  it('no uncaught exception, no unhandled rejection; no library timer, process listener or resource left once everything is closed', async (t) => {
    // Stream-expiry timers of the streams above and the key refresh timers: the probe saw them come and go.
    assert.ok(timers.seen() > 0, 'the probe saw library timers');
    t.diagnostic(`library timers created during the faults: ${timers.seen()}`);
    assert.deepEqual(await settle(() => timers.alive()), [], 'library timers still alive');
    assert.deepEqual(await settle(() => grownOver(resourcesAtStart, activeResources())), [], "ref'd resources above the start");
    process.off('uncaughtException', recordCrash);
    process.off('unhandledRejection', recordCrash);
    timers.stop();
    // The test runner adds its own beforeExit listener; any other growth would be ours.
    assert.deepEqual(
      grownOver(processListenersAtStart, processListeners()).filter((line) => !line.startsWith('beforeExit')),
      [],
    );
    assert.deepEqual(crashes.map(String), []);
  });
});
