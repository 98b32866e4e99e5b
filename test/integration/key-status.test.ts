/**
 * Health from the keys: what `keys.status()` and `auth.status()` report through an identity provider's
 * outage (a fault-injecting loopback provider, an injected clock), the standard gRPC health service
 * driven by them (the recipe of examples/health), and `keys.subscribe()`: several listeners beside
 * `onEvent`, none disturbing another.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import {
  AuthConfigError,
  createAuthInterceptor,
  createAuthenticator,
  fromIssuer,
  fromJwks,
  fromPem,
  fromSecret,
  type AuthStatus,
  type KeyResolver,
  type RemoteKeysEvent,
} from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { reportKeyHealth } from '../../examples/health/key-health.ts';
import { json, startFakeProvider, status as httpStatus } from '../support/fake-provider.ts';
import { eventLog, manualClock, outcome, until } from '../support/remote-keys.ts';
import { jwkToSpkiPem } from '../support/pem.ts';

const MINUTE = 60_000;
const MAX_AGE = 600; // seconds, from the provider's Cache-Control
const STALE_IF_ERROR = 3600; // seconds

describe('key status: keys given in the configuration', () => {
  it("fromSecret, fromPem and a local fromJwks → 'static' with their kids; subscribe only returns an unsubscribe", async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'local-1' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const resolvers: Array<[KeyResolver, readonly (string | undefined)[]]> = [
      [fromSecret('s'.repeat(32)), [undefined]],
      [fromSecret({ a: 'a'.repeat(32), b: 'b'.repeat(32) }), ['a', 'b']],
      [fromPem({ 'pem-1': ec, 'pem-2': jwkToSpkiPem(idp.jwks.keys[0] as object) }), ['pem-1', 'pem-2']],
      [fromJwks(idp.jwks), ['local-1']],
    ];
    for (const [keys, kids] of resolvers) {
      const status = keys.status?.();
      assert.equal(status?.state, 'static', keys.description);
      assert.equal(status?.source, keys.description);
      assert.deepEqual(status?.kids, kids, keys.description);
      assert.equal(status?.lastFetch, undefined);
      assert.equal(status?.staleUntil, undefined);
      assert.equal(status?.lastError, undefined);
      const unsubscribe = keys.subscribe?.(() => assert.fail('keys held in memory have no events'));
      assert.equal(typeof unsubscribe, 'function');
      unsubscribe?.();
    }
    const auth = createAuthInterceptor({ keys: fromSecret('s'.repeat(32)), algorithms: ['HS256'], issuer: 'https://jobs.example/' });
    assert.deepEqual(
      auth.status().issuers.map(({ issuer, state }) => [issuer, state]),
      [['https://jobs.example/', 'static']],
    );
    assert.equal(auth.status().serving, true);
    const authenticator = createAuthenticator({ keys: fromSecret('s'.repeat(32)), algorithms: ['HS256'], issuer: 'https://jobs.example/' });
    assert.deepEqual(authenticator.status(), auth.status(), 'createAuthenticator reports alike');
  });

  it("a resolver of your own without status() → 'unknown', and it does not make the server NOT_SERVING", () => {
    const own: KeyResolver = {
      kind: 'secret',
      description: 'vault-keys',
      checkAlgorithms: () => undefined,
      getKeys: () => [],
      holds: () => false,
    };
    const auth = createAuthInterceptor({ keys: own, algorithms: ['HS256'] });
    assert.deepEqual(
      auth.status().issuers.map(({ source, state, issuer }) => [source, state, issuer]),
      [['vault-keys', 'unknown', undefined]],
    );
    assert.equal(auth.status().serving, true);
  });

  it("a resolver of your own whose status() throws → 'unknown' with its message as lastError; auth.status() itself never throws", () => {
    const own: KeyResolver = {
      kind: 'secret',
      description: 'vault-keys',
      checkAlgorithms: () => undefined,
      getKeys: () => [],
      holds: () => false,
      status: () => {
        throw new Error('vault sealed');
      },
    };
    const auth = createAuthInterceptor({ issuers: [{ issuer: 'https://vault.example/', keys: own, algorithms: ['HS256'] }] });
    const status = auth.status();
    assert.deepEqual(
      status.issuers.map(({ source, state, issuer, kids }) => [source, state, issuer, kids]),
      [['vault-keys', 'unknown', 'https://vault.example/', []]],
    );
    assert.match(status.issuers[0]?.lastError ?? '', /vault sealed/);
    assert.equal(status.serving, true, 'as for a resolver without status(): what it holds is not known');
  });

  it("a resolver of your own whose status() is async, rejects, answers garbage or is a throwing getter → 'unknown'; auth.status() never throws nor leaves a rejection unhandled", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const own = (status: PropertyDescriptor): KeyResolver =>
      Object.defineProperty({ kind: 'secret', description: 'vault-keys', checkAlgorithms: () => undefined, getKeys: () => [], holds: () => false }, 'status', {
        ...status,
        enumerable: true,
      }) as KeyResolver;
    const resolvers = {
      'async, resolving': own({ value: async () => ({ source: 'vault-keys', state: 'expired', kids: [] }) }),
      'async, rejecting': own({ value: async () => Promise.reject(new Error('vault sealed')) }),
      null: own({ value: () => null }),
      'a state of its own': own({ value: () => ({ source: 'vault-keys', state: 'sealed', kids: [] }) }),
      'no kids list': own({ value: () => ({ source: 'vault-keys', state: 'fresh' }) }),
      'a throwing getter': own({
        get: () => {
          throw new Error('vault sealed');
        },
      }),
      // A status whose state and kids read fine but another field throws: auth.status() spread it and threw.
      'a status with a throwing getter': own({
        value: () =>
          Object.defineProperty({ source: 'vault-keys', state: 'fresh', kids: [] }, 'lastError', {
            enumerable: true,
            get: () => {
              throw new Error('vault sealed');
            },
          }),
      }),
    };
    try {
      for (const [name, keys] of Object.entries(resolvers)) {
        const auth = createAuthInterceptor({ keys, algorithms: ['HS256'] });
        let status: AuthStatus | undefined;
        assert.doesNotThrow(() => (status = auth.status()), name);
        const issuer = status?.issuers[0];
        assert.equal(issuer?.state, 'unknown', name);
        assert.deepEqual(issuer?.kids, [], name);
        assert.equal(typeof issuer?.lastError, 'string', name);
        assert.equal(status?.serving, true, name);
      }
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('subscribe(not a function) → AuthConfigError naming listener', () => {
    for (const keys of [fromSecret('s'.repeat(32)), fromJwks('https://idp.example/jwks.json')]) {
      assert.throws(
        () => keys.subscribe?.('log' as never),
        (error: unknown) => error instanceof AuthConfigError && error.option === 'listener',
      );
    }
  });
});

describe('key status: a fetched key set through an outage (injected clock)', () => {
  it('fromJwks: empty → fresh → stale with lastError and nextRetry → expired (not serving) → fresh again, on the instants of the clock', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'remote-1' });
    const provider = await startFakeProvider();
    const clock = manualClock();
    const log = eventLog();
    const keys = fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, staleIfError: STALE_IF_ERROR, cooldown: 0.05, onEvent: log.listener });
    const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], issuer: idp.issuer });
    try {
      assert.equal(keys.status().state, 'empty');
      assert.deepEqual(keys.status().kids, []);
      assert.equal(auth.status().serving, false, 'no keys yet: not ready');

      provider.on('/jwks.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
      const fetchedAt = clock.now();
      await auth.ready();
      const fresh = keys.status();
      assert.equal(fresh.state, 'fresh');
      assert.deepEqual(fresh.kids, ['remote-1']);
      assert.equal(fresh.lastFetch?.getTime(), fetchedAt);
      assert.equal(fresh.freshUntil?.getTime(), fetchedAt + MAX_AGE * 1000);
      assert.equal(fresh.staleUntil?.getTime(), fetchedAt + (MAX_AGE + STALE_IF_ERROR) * 1000);
      assert.equal(fresh.lastError, undefined);
      assert.equal(fresh.nextRetry, undefined);
      const revocations = {
        source: 'memory',
        state: 'local',
        entries: 0,
        syncedAt: undefined,
        staleUntil: undefined,
        lastError: undefined,
        nextRetry: undefined,
      };
      assert.deepEqual(auth.status(), { serving: true, issuers: [{ ...fresh, issuer: idp.issuer }], revocations });

      provider.on('/jwks.json', httpStatus(503));
      clock.advance(MAX_AGE * 1000 + MINUTE);
      const failed = log.next('failed');
      await auth.ready(); // stale keys answer at once and start a refresh, which fails
      await failed;
      const stale = keys.status();
      assert.equal(stale.state, 'stale');
      assert.deepEqual(stale.kids, ['remote-1'], 'the keys are still held');
      assert.match(stale.lastError ?? '', /\/jwks\.json: HTTP 503$/);
      assert.ok((stale.nextRetry?.getTime() ?? 0) > clock.now(), 'a retry is due');
      assert.equal(stale.staleUntil?.getTime(), fresh.staleUntil?.getTime());
      assert.equal(auth.status().serving, true, 'stale keys still verify');

      clock.advance(STALE_IF_ERROR * 1000);
      assert.equal(keys.status().state, 'expired');
      assert.equal(auth.status().serving, false);

      provider.on('/jwks.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
      // No call: the retry after the failure runs in the background (cooldown 0.05 s bounds its delay).
      await log.next('fetched');
      const back = keys.status();
      assert.equal(back.state, 'fresh');
      assert.equal(back.lastError, undefined);
      assert.equal(back.nextRetry, undefined);
      assert.equal(back.lastFetch?.getTime(), clock.now());
      assert.equal(auth.status().serving, true);
    } finally {
      auth.close();
      await provider.close();
    }
  });

  it('at the exact instants: freshUntil - 1 ms fresh, freshUntil stale; staleUntil - 1 ms stale and a new token verifies, staleUntil expired and it gets UNAVAILABLE', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'edge-1' });
    const provider = await startFakeProvider();
    provider.on('/jwks.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
    const clock = manualClock();
    const keys = fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, staleIfError: STALE_IF_ERROR, cooldown: 3600 });
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], clock: clock.now });
    const call = async () => outcome(authenticator, await idp.sign({ sub: `s-${clock.now()}` }, { expiresIn: 10 * 3600 }));
    try {
      await authenticator.ready();
      const { freshUntil, staleUntil } = keys.status();
      provider.on('/jwks.json', httpStatus(503));
      const at = (instant: number | undefined) => clock.advance((instant ?? Number.NaN) - clock.now());
      at((freshUntil?.getTime() ?? 0) - 1);
      assert.equal(keys.status().state, 'fresh');
      at(freshUntil?.getTime());
      assert.equal(keys.status().state, 'stale');
      at((staleUntil?.getTime() ?? 0) - 1);
      assert.equal(keys.status().state, 'stale');
      assert.equal(authenticator.status().serving, true);
      assert.equal(await call(), 'OK', 'stale keys verify until the last millisecond');
      at(staleUntil?.getTime());
      assert.equal(keys.status().state, 'expired');
      assert.equal(authenticator.status().serving, false);
      assert.equal(await call(), 'ERR_AUTH_KEYS_UNAVAILABLE', 'the status and the verdict flip at the same instant');
    } finally {
      authenticator.close();
      await provider.close();
    }
  });

  it('closed while failing → no nextRetry (nothing will be fetched again); the keys held and the last error are still told', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'closing-1' });
    const provider = await startFakeProvider();
    provider.on('/jwks.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
    const clock = manualClock();
    const keys = fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, staleIfError: STALE_IF_ERROR });
    try {
      await keys.ready();
      provider.on('/jwks.json', httpStatus(503));
      clock.advance(MAX_AGE * 1000 + MINUTE);
      const failed = new Promise<void>((resolve) => keys.subscribe((event) => event.type === 'failed' && resolve()));
      await keys.ready(); // stale keys answer and start a refresh, which fails
      await failed;
      assert.ok(keys.status().nextRetry instanceof Date);
      keys.close();
      const closed = keys.status();
      assert.equal(closed.nextRetry, undefined);
      assert.equal(closed.state, 'stale');
      assert.deepEqual(closed.kids, ['closing-1']);
      assert.match(closed.lastError ?? '', /HTTP 503$/);
    } finally {
      keys.close();
      await provider.close();
    }
  });

  it("fromIssuer: a failing discovery document is the empty status's lastError; then the key set's status, named fromIssuer", async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'disc-1' });
    const provider = await startFakeProvider();
    const clock = manualClock();
    const keys = fromIssuer(provider.url, { clock: clock.now, cooldown: 0.05 });
    try {
      provider.on('/.well-known/openid-configuration', httpStatus(503));
      await assert.rejects(keys.ready());
      const down = keys.status();
      assert.equal(down.state, 'empty');
      assert.equal(down.source, `fromIssuer(${provider.url})`);
      assert.match(down.lastError ?? '', /openid-configuration: HTTP 503$/);
      assert.ok(down.nextRetry instanceof Date);

      provider.on('/.well-known/openid-configuration', json({ issuer: provider.url, jwks_uri: `${provider.url}/jwks.json` }));
      provider.on('/jwks.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
      clock.advance(MINUTE);
      await keys.ready();
      const up = keys.status();
      assert.equal(up.state, 'fresh');
      assert.deepEqual(up.kids, ['disc-1']);
      assert.equal(up.lastError, undefined);
      assert.equal(up.source, `fromIssuer(${provider.url})`);
    } finally {
      keys.close();
      await provider.close();
    }
  });

  it("several issuers: each is listed under its iss; one issuer's expired keys make the server NOT_SERVING", async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const provider = await startFakeProvider();
    provider.on('/jwks.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
    const clock = manualClock();
    const remote = fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, staleIfError: 0 });
    const auth = createAuthInterceptor({
      issuers: [
        { issuer: 'https://staff.example/', keys: remote, algorithms: ['ES256'] },
        { issuer: 'https://jobs.example/', keys: fromSecret('j'.repeat(32)), algorithms: ['HS256'] },
      ],
    });
    try {
      await auth.ready();
      assert.deepEqual(
        auth.status().issuers.map(({ issuer, state }) => [issuer, state]),
        [
          ['https://staff.example/', 'fresh'],
          ['https://jobs.example/', 'static'],
        ],
      );
      clock.advance(MAX_AGE * 1000);
      assert.equal(auth.status().issuers[0]?.state, 'expired');
      assert.equal(auth.status().serving, false);
    } finally {
      auth.close();
      await provider.close();
    }
  });
});

describe('key events: subscribe beside onEvent', () => {
  it('onEvent and every subscriber get each event, in order, each its own copy; a throwing or rejecting subscriber stops nobody; unsubscribe removes one', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const provider = await startFakeProvider();
    provider.on('/jwks.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
    const clock = manualClock();
    const order: string[] = [];
    const seen: Record<'onEvent' | 'first' | 'second', RemoteKeysEvent[]> = { onEvent: [], first: [], second: [] };
    const keys = fromJwks(`${provider.url}/jwks.json`, {
      clock: clock.now,
      staleIfError: 0,
      onEvent: (event) => {
        order.push('onEvent');
        seen.onEvent.push(event);
      },
    });
    try {
      keys.subscribe(() => {
        order.push('thrower');
        throw new Error('a broken exporter');
      });
      const unsubscribeFirst = keys.subscribe((event) => {
        order.push('first');
        seen.first.push(event);
        // Trying to change what the listeners after it see.
        if (event.type === 'failed') event.retryAt.setTime(0);
      });
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the case: an async listener where void is expected
      keys.subscribe(async () => {
        order.push('rejecter');
        throw new Error('an async listener that rejects');
      });
      keys.subscribe((event) => {
        order.push('second');
        seen.second.push(event);
      });
      await keys.ready();
      assert.deepEqual(order, ['onEvent', 'thrower', 'first', 'rejecter', 'second']);
      for (const events of Object.values(seen))
        assert.deepEqual(
          events.map((event) => event.type),
          ['fetched'],
        );
      assert.notEqual(seen.first[0], seen.second[0], 'each listener has its own copy');
      assert.ok(Object.isFrozen(seen.first[0]), 'and cannot change it');

      provider.on('/jwks.json', httpStatus(500));
      clock.advance(MAX_AGE * 1000);
      await assert.rejects(keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      const failedAt = (events: RemoteKeysEvent[]) => events.flatMap((event) => (event.type === 'failed' ? [event.retryAt.getTime()] : []));
      assert.equal(failedAt(seen.first)[0], 0, 'the first subscriber changed its own copy');
      assert.ok((failedAt(seen.second)[0] ?? 0) > clock.now(), 'the next one still sees the retry instant');
      assert.ok((failedAt(seen.onEvent)[0] ?? 0) > clock.now());

      unsubscribeFirst();
      unsubscribeFirst(); // twice: harmless
      order.length = 0;
      clock.advance(MINUTE);
      await assert.rejects(keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      assert.deepEqual(order, ['onEvent', 'thrower', 'rejecter', 'second']);
    } finally {
      keys.close();
      await provider.close();
    }
  });

  it("a listener that changes a failed event's error → the next listener, keys.status() and the calls' refusal still see the original", async () => {
    const provider = await startFakeProvider();
    provider.on('/jwks.json', httpStatus(503));
    const seen: string[] = [];
    const keys = fromJwks(`${provider.url}/jwks.json`, {
      cooldown: 0.05,
      // A redacting logger that edits what it was given instead of a copy.
      onEvent: (event) => {
        if (event.type === 'failed') {
          event.error.message = 'redacted';
          (event.error as { cause?: unknown }).cause = 'redacted';
        }
      },
    });
    try {
      keys.subscribe((event) => {
        if (event.type === 'failed') seen.push(event.error.message);
      });
      const refusal = await keys.ready().then(
        () => assert.fail('the provider is down'),
        (error: unknown) => error as Error,
      );
      assert.deepEqual(seen, ['HTTP 503']);
      assert.match(keys.status().lastError ?? '', /\/jwks\.json: HTTP 503$/);
      assert.match(refusal.message, /HTTP 503/);
      assert.match(((refusal as { cause?: Error }).cause as Error).message, /HTTP 503/);
    } finally {
      keys.close();
      await provider.close();
    }
  });

  it('fromIssuer: subscribers hear the discovery document and the key set, also after jwks_uri moves', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const provider = await startFakeProvider();
    let jwksPath = '/jwks-a.json';
    provider.on(
      '/.well-known/openid-configuration',
      json(() => ({ issuer: provider.url, jwks_uri: `${provider.url}${jwksPath}` }), { 'cache-control': 'max-age=60' }),
    );
    provider.on('/jwks-a.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
    provider.on('/jwks-b.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
    const clock = manualClock();
    const fromOption: string[] = [];
    const fromSubscriber: string[] = [];
    const describe = (event: RemoteKeysEvent) => `${event.type} ${event.document} ${new URL(event.url).pathname}`;
    const keys = fromIssuer(provider.url, { clock: clock.now, onEvent: (event) => fromOption.push(describe(event)) });
    try {
      keys.subscribe((event) => fromSubscriber.push(describe(event)));
      await keys.ready();
      jwksPath = '/jwks-b.json';
      clock.advance(2 * MINUTE); // the discovery document is due; the next lookup refreshes it and follows the move
      await keys.getKeys({ alg: 'ES256', kid: idp.kid });
      await until(() => fromSubscriber.length >= 3);
      await keys.getKeys({ alg: 'ES256', kid: idp.kid }); // now through the key set at its new URL
      await until(() => fromSubscriber.length >= 4);
      assert.deepEqual(fromSubscriber, [
        'fetched discovery /.well-known/openid-configuration',
        'fetched jwks /jwks-a.json',
        'fetched discovery /.well-known/openid-configuration',
        'fetched jwks /jwks-b.json',
      ]);
      assert.deepEqual(fromOption, fromSubscriber, 'onEvent hears the same, unchanged');
    } finally {
      keys.close();
      await provider.close();
    }
  });
});

describe('gRPC health (grpc.health.v1) from the keys: the recipe of examples/health', () => {
  it('an auth object whose status() throws on the timer → NOT_SERVING, and the process goes on (no uncaught exception)', async () => {
    let readings = 0;
    const flaky = {
      status: () => {
        readings += 1;
        if (readings > 1) throw new Error('status store gone');
        return { serving: true, issuers: [], revocations: undefined };
      },
    };
    const health = new HealthImplementation({ '': 'UNKNOWN' });
    const reported: string[] = [];
    const setStatus = health.setStatus.bind(health);
    health.setStatus = (service, status) => {
      reported.push(status);
      setStatus(service, status);
    };
    const reporter = reportKeyHealth(flaky, health, { interval: 0.005 });
    try {
      await until(() => readings >= 3);
      assert.deepEqual(reported, ['SERVING', 'NOT_SERVING'], 'a status that cannot be read is not a ready server, reported once');
    } finally {
      reporter.stop();
    }
  });

  it('fresh → SERVING; provider down within the stale bound → SERVING with lastError; past it → NOT_SERVING; provider back → SERVING', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    const provider = await startFakeProvider();
    const serveKeys = () => provider.on('/jwks.json', json(idp.jwks, { 'cache-control': `max-age=${MAX_AGE}` }));
    serveKeys();
    const clock = manualClock();
    const log = eventLog();
    const keys = fromJwks(`${provider.url}/jwks.json`, { clock: clock.now, staleIfError: STALE_IF_ERROR, cooldown: 0.05, onEvent: log.listener });
    const auth = createAuthInterceptor({
      keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      rules: { '/grpc.health.v1.Health/*': 'public' },
    });
    const server = new grpc.Server({ interceptors: [auth] });
    const health = new HealthImplementation({ '': 'NOT_SERVING' });
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    const Health = grpc.makeClientConstructor(healthService as grpc.ServiceDefinition, 'Health');
    const probe = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
    const check = (service = ''): Promise<string> =>
      new Promise((resolve) =>
        probe.Check({ service }, (error: grpc.ServiceError | null, reply: { status: string }) => resolve(error ? `error ${error.code}` : reply.status)),
      );
    const reporter = reportKeyHealth(auth, health, { services: ['test.echo.v1.Echo'], keys: [keys], interval: 3600 });
    try {
      assert.equal(await check(), 'NOT_SERVING', 'before the first fetch');
      await auth.ready(); // the fetched event updates the health service at once
      assert.equal(await check(), 'SERVING');
      assert.equal(await check('test.echo.v1.Echo'), 'SERVING');

      provider.on('/jwks.json', httpStatus(503));
      clock.advance(MAX_AGE * 1000 + MINUTE);
      const failed = log.next('failed');
      await auth.ready(); // stale keys answer and start a refresh, which fails
      await failed;
      assert.equal(await check(), 'SERVING', 'within the stale bound');
      assert.match(auth.status().issuers[0]?.lastError ?? '', /HTTP 503$/);
      assert.equal(auth.status().issuers[0]?.state, 'stale');

      clock.advance(STALE_IF_ERROR * 1000);
      reporter.update(); // what the recipe's timer does every `interval` seconds
      assert.equal(await check(), 'NOT_SERVING', 'past the stale bound');
      assert.equal(await check('test.echo.v1.Echo'), 'NOT_SERVING');
      assert.equal(auth.status().issuers[0]?.state, 'expired');

      serveKeys();
      await log.next('fetched'); // the background retry, with no call and no probe involved
      assert.equal(await check(), 'SERVING', 'provider back');
      assert.equal(auth.status().issuers[0]?.lastError, undefined);
    } finally {
      reporter.stop();
      probe.close();
      auth.close();
      server.forceShutdown();
      await provider.close();
    }
  });
});
