/**
 * The `logger` option over real gRPC calls, with a capturing pino-style logger: INTERNAL refusals at
 * `error` (with the error), UNAVAILABLE refusals also at `warn` (rate-limited), every other refusal at
 * `debug`, checks left off at creation at `warn`. No record ever holds the token or its signature. A
 * logger that throws never decides a call; a wrong logger shape throws an AuthConfigError naming `logger`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthConfigError,
  AuthError,
  createAuthInterceptor,
  fromJwks,
  fromSecret,
  type KeyResolver,
  type KeysListener,
  type Logger,
  type RevocationEvent,
  type RevocationStore,
} from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, unary } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { json, startFakeProvider, status as httpStatus } from '../support/fake-provider.ts';

const { status, Metadata } = grpc;
type Level = 'debug' | 'info' | 'warn' | 'error';
interface LogRecord {
  readonly level: Level;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A pino-like logger: methods that need their `this`, and `isLevelEnabled`. */
class CapturingLogger {
  readonly records: LogRecord[] = [];
  constructor(private readonly enabled: ReadonlySet<Level> = new Set(['debug', 'info', 'warn', 'error'])) {}
  isLevelEnabled(level: string): boolean {
    return this.enabled.has(level as Level);
  }
  debug(fields: Record<string, unknown>, message: string): void {
    this.records.push({ level: 'debug', fields, message });
  }
  info(fields: Record<string, unknown>, message: string): void {
    this.records.push({ level: 'info', fields, message });
  }
  warn(fields: Record<string, unknown>, message: string): void {
    this.records.push({ level: 'warn', fields, message });
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.records.push({ level: 'error', fields, message });
  }
  of(level: Level): LogRecord[] {
    return this.records.filter((record) => record.level === level);
  }
}

/** A record as a log sink would write it: every field, errors with their message, stack and causes. */
function serialized(record: LogRecord): string {
  const seen = new Set<unknown>();
  const expand = (value: unknown): unknown => {
    if (value instanceof Error) {
      if (seen.has(value)) return '[seen]';
      seen.add(value);
      return { ...value, message: value.message, stack: value.stack, cause: expand(value.cause) };
    }
    return value;
  };
  return JSON.stringify({ ...Object.fromEntries(Object.entries(record.fields).map(([key, value]) => [key, expand(value)])), message: record.message });
}

function assertNoToken(logger: CapturingLogger, ...tokens: string[]): void {
  for (const record of logger.records) {
    const text = serialized(record);
    for (const token of tokens) {
      const signature = token.split('.')[2] ?? token;
      assert.equal(text.includes(token), false, `a ${record.level} record holds the token: ${record.message}`);
      assert.equal(text.includes(signature), false, `a ${record.level} record holds the signature: ${record.message}`);
    }
  }
}

describe('logger: what the interceptor logs over real calls, never the token', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  let logger: CapturingLogger;
  let keysDown = false;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    logger = new CapturingLogger();
    const keys: KeyResolver = {
      kind: idp.keys.kind,
      description: 'test keys that can go down',
      checkAlgorithms: (algorithms, option) => idp.keys.checkAlgorithms(algorithms, option),
      holds: (key) => idp.keys.holds(key),
      getKeys: (lookup) => {
        if (keysDown) throw new AuthError('ERR_AUTH_KEYS_UNAVAILABLE', 'test: keys down');
        return idp.keys.getKeys(lookup);
      },
    };
    const auth = createAuthInterceptor({
      keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      logger: logger as Logger,
      validate: (claims) => {
        if (claims.sub === 'breaks-validate') throw new Error('denylist unreachable');
        return true;
      },
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(() => echo.close());

  it('at creation: one info line with where tokens are read and the bound, no warning when issuer and audience are set', () => {
    const info = logger.of('info');
    assert.equal(info.length, 1);
    assert.equal(info[0]?.fields.tokenFrom, 'authorization metadata');
    assert.equal(info[0]?.fields.maxConcurrentVerifications, 1024);
    // Which revocation list this replica enforces: its own (memory) or a shared store.
    assert.equal(info[0]?.fields.revocations, 'memory');
    assert.deepEqual(logger.of('warn'), []);
  });

  it('at creation with a revocation store of your own without status() → the info line says so', () => {
    const own = new CapturingLogger();
    const store = { match: () => undefined, revoke: async () => undefined, unrevoke: async () => false };
    createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: 'api', logger: own, revocations: store });
    assert.equal(own.of('info')[0]?.fields.revocations, 'a store without status()');
  });

  it('a refusal on the caller (forged signature, expired, no token) → debug with code, reason and method; nothing at warn or error', async () => {
    logger.records.length = 0;
    const good = await idp.sign({ sub: 'victim' });
    const [head, body] = good.split('.');
    const forged = `${head}.${body}.${(await idp.sign({ sub: 'other' })).split('.')[2]}`;
    const expired = await idp.sign({ sub: 'late', exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 });
    assert.equal((await unary(echo.client, bearer(Metadata, forged))).reason, 'SIGNATURE_INVALID');
    assert.equal((await unary(echo.client, bearer(Metadata, expired))).reason, 'TOKEN_EXPIRED');
    assert.equal((await unary(echo.client, new Metadata())).reason, 'TOKEN_MISSING');
    assert.deepEqual(
      logger.of('debug').map((record) => [record.fields.code, record.fields.reason, record.fields.method]),
      [
        ['ERR_AUTH_SIGNATURE_INVALID', 'SIGNATURE_INVALID', '/test.echo.v1.Echo/Unary'],
        ['ERR_AUTH_TOKEN_EXPIRED', 'TOKEN_EXPIRED', '/test.echo.v1.Echo/Unary'],
        ['ERR_AUTH_TOKEN_MISSING', 'TOKEN_MISSING', '/test.echo.v1.Echo/Unary'],
      ],
    );
    assert.deepEqual([logger.of('warn').length, logger.of('error').length], [0, 0]);
    assertNoToken(logger, good, forged, expired);
  });

  it('an INTERNAL refusal (a validate hook that throws) → error, with the error and its cause; never the token', async () => {
    logger.records.length = 0;
    const token = await idp.sign({ sub: 'breaks-validate' });
    const outcome = await unary(echo.client, bearer(Metadata, token));
    assert.equal(outcome.code, status.INTERNAL);
    const [record] = logger.of('error');
    assert.equal(record?.fields.code, 'ERR_AUTH_INTERNAL');
    assert.ok(record?.fields.err instanceof AuthError);
    assert.equal(((record.fields.err as AuthError).cause as Error).message, 'denylist unreachable');
    assertNoToken(logger, token);
  });

  it('keys unavailable → warn at once, then no more than one warning a minute per code (debug for each)', async () => {
    logger.records.length = 0;
    keysDown = true;
    try {
      for (let i = 0; i < 3; i++) {
        const outcome = await unary(echo.client, bearer(Metadata, await idp.sign({ sub: `k${i}` })));
        assert.equal(outcome.code, status.UNAVAILABLE);
      }
    } finally {
      keysDown = false;
    }
    const warnings = logger.of('warn');
    assert.equal(warnings.length, 1);
    assert.deepEqual([warnings[0]?.fields.code, warnings[0]?.fields.refused], ['ERR_AUTH_KEYS_UNAVAILABLE', 1]);
    assert.equal(logger.of('debug').length, 3);
  });

  it('a logger that throws, or whose levels are off, never changes the outcome of a call', async () => {
    const throwing: Logger = {
      debug: () => {
        throw new Error('sink down');
      },
      error: () => {
        throw new Error('sink down');
      },
    };
    const quiet = new CapturingLogger(new Set(['error']));
    for (const each of [throwing, quiet as Logger]) {
      const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: 'echo-api', logger: each });
      const server = await startEchoServer({ interceptors: [auth] });
      try {
        assert.equal((await unary(server.client, new Metadata())).reason, 'TOKEN_MISSING');
        assert.equal((await unary(server.client, bearer(Metadata, await idp.sign()))).code, status.OK);
      } finally {
        await server.close();
      }
    }
    assert.deepEqual(quiet.records, [], 'levels a pino logger has off are never written');
  });

  it('at creation: no audience, no issuer → a warning each, naming the option', () => {
    const warned = new CapturingLogger();
    createAuthInterceptor({ keys: fromSecret('x'.repeat(32)), algorithms: ['HS256'], logger: warned });
    assert.deepEqual(
      warned
        .of('warn')
        .map((record) => record.fields.option)
        .sort(),
      ['audience', 'issuer'],
    );
  });

  it('a logger with some levels only fits; a wrong shape throws an AuthConfigError naming logger', () => {
    const base = { keys: fromSecret('x'.repeat(32)), algorithms: ['HS256'] as const, issuer: 'https://idp.example/', audience: 'a' };
    assert.equal(typeof createAuthInterceptor({ ...base, logger: { error: () => undefined } }), 'function');
    const throwingGetter = Object.defineProperty({}, 'warn', {
      get() {
        throw new Error('getter');
      },
    });
    const throwingProxy = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    for (const wrong of ['console', 5, null, true, { warn: 'loud' }, { error: 1 }, { debug: {} }, throwingGetter, throwingProxy]) {
      assert.throws(
        () => createAuthInterceptor({ ...base, logger: wrong as Logger }),
        (error: unknown) => error instanceof AuthConfigError && /^logger(\.|$)/.test(error.option),
        typeof wrong === 'object' && wrong !== null ? Object.keys(Object.getOwnPropertyDescriptors(wrong)).join() : String(wrong),
      );
    }
  });
});

describe('logger: nothing an operator should see is lost or left out (review)', () => {
  let idp: TestIssuer;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
  });

  /** Test keys in front of the issuer's that can be switched down (KEYS_UNAVAILABLE). */
  function switchableKeys(): { keys: KeyResolver; down: (value: boolean) => void } {
    let isDown = false;
    return {
      down: (value) => {
        isDown = value;
      },
      keys: {
        kind: idp.keys.kind,
        description: 'test keys that can go down',
        checkAlgorithms: (algorithms, option) => idp.keys.checkAlgorithms(algorithms, option),
        holds: (key) => idp.keys.holds(key),
        getKeys: (lookup) => {
          if (isDown) throw new AuthError('ERR_AUTH_KEYS_UNAVAILABLE', 'test: keys down');
          return idp.keys.getKeys(lookup);
        },
      },
    };
  }

  it('UNAVAILABLE refusals held back by the rate limit are counted in a last warning at auth.close(), not lost when the flood stops', async () => {
    const logger = new CapturingLogger();
    const { keys, down } = switchableKeys();
    const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], issuer: idp.issuer, audience: 'echo-api', logger: logger as Logger });
    const server = await startEchoServer({ interceptors: [auth] });
    try {
      down(true);
      for (let i = 0; i < 4; i++) assert.equal((await unary(server.client, bearer(Metadata, await idp.sign({ sub: `k${i}` })))).code, status.UNAVAILABLE);
    } finally {
      await server.close();
    }
    assert.deepEqual(
      logger.of('warn').map(({ fields }) => [fields.code, fields.refused]),
      [['ERR_AUTH_KEYS_UNAVAILABLE', 1]],
    );
    auth.close();
    assert.deepEqual(
      logger.of('warn').map(({ fields }) => [fields.code, fields.refused]),
      [
        ['ERR_AUTH_KEYS_UNAVAILABLE', 1],
        ['ERR_AUTH_KEYS_UNAVAILABLE', 3],
      ],
      'the 3 refusals after the first warning',
    );
    auth.close();
    assert.equal(logger.of('warn').length, 2, 'nothing is written twice');
  });

  it('key-set events: a skipped key and a failed fetch → warn, once per logger when interceptors share the resolver', async () => {
    const provider = await startFakeProvider();
    try {
      const good = idp.jwks.keys[0] as Record<string, unknown>;
      provider.on('/jwks.json', json({ keys: [good, { ...good, kid: 'for-encryption', use: 'enc' }] }));
      provider.on('/down.json', httpStatus(500));
      const logger = new CapturingLogger();
      const base = { algorithms: ['ES256'] as const, issuer: idp.issuer, audience: 'echo-api', logger: logger as Logger };

      const shared = fromJwks(`${provider.url}/jwks.json`);
      const first = createAuthInterceptor({ ...base, keys: shared });
      const second = createAuthInterceptor({ ...base, keys: shared });
      await first.ready();
      assert.deepEqual(
        logger.of('warn').map(({ fields }) => [fields.event, fields.kid, fields.url]),
        [['keySkipped', 'for-encryption', `${provider.url}/jwks.json`]],
        'one warning, not one per interceptor',
      );

      logger.records.length = 0;
      const down = createAuthInterceptor({ ...base, keys: fromJwks(`${provider.url}/down.json`) });
      await down.ready().catch(() => undefined);
      const [failed] = logger.of('warn');
      assert.deepEqual([failed?.fields.event, failed?.fields.document, failed?.fields.url], ['failed', 'jwks', `${provider.url}/down.json`]);
      assertNoToken(logger);

      for (const each of [first, second, down]) each.close();
    } finally {
      await provider.close();
    }
  });

  it('key-set events: one subscription per logger and resolver, however many interceptors and issuers share it; the last close() unsubscribes', () => {
    const listeners = new Set<KeysListener>();
    const keys: KeyResolver = {
      kind: idp.keys.kind,
      description: 'test keys with events',
      checkAlgorithms: (algorithms, option) => idp.keys.checkAlgorithms(algorithms, option),
      holds: (key) => idp.keys.holds(key),
      getKeys: (lookup) => idp.keys.getKeys(lookup),
      subscribe: (listener) => {
        const entry: KeysListener = (event) => listener(event);
        listeners.add(entry);
        return () => void listeners.delete(entry);
      },
    };
    const emit = (): void => {
      for (const listener of [...listeners])
        listener({ type: 'keySkipped', document: 'jwks', url: 'https://idp.example/jwks.json', kid: 'k\u001b[2J', index: 1, reason: 'test' });
    };
    const logger = new CapturingLogger();
    const first = createAuthInterceptor({ keys, algorithms: ['ES256'], issuer: idp.issuer, audience: 'echo-api', logger: logger as Logger });
    const second = createAuthInterceptor({
      audience: 'echo-api',
      logger: logger as Logger,
      issuers: [
        { issuer: 'https://a.example/', keys, algorithms: ['ES256'] },
        { issuer: 'https://b.example/', keys, algorithms: ['ES256'] },
      ],
    });
    assert.equal(listeners.size, 1);
    emit();
    assert.equal(logger.of('warn').length, 1);
    assert.equal(logger.of('warn')[0]?.message.includes('\u001b'), false, 'a kid from the provider is escaped in the message');
    first.close();
    assert.equal(listeners.size, 1, 'the other interceptor still listens');
    second.close();
    second.close();
    assert.equal(listeners.size, 0);
    emit();
    assert.equal(logger.of('warn').length, 1);
  });

  it('revocation store events: a store that stops answering, a wipe and a clear at warn, re-syncs at info, nothing per entry; close() stops listening', () => {
    const listeners = new Set<(event: RevocationEvent) => void>();
    const store: RevocationStore = {
      match: () => undefined,
      revoke: async () => undefined,
      unrevoke: async () => false,
      status: () => ({
        source: 'redis(redis://admin:***@127.0.0.1:6379 prefix p)',
        state: 'fresh',
        entries: 0,
        syncedAt: undefined,
        staleUntil: undefined,
        lastError: undefined,
        nextRetry: undefined,
      }),
      subscribe(listener) {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    };
    const logger = new CapturingLogger();
    const auth = createAuthInterceptor({
      keys: fromSecret('a-secret-of-thirty-two-bytes-or-more!'),
      algorithms: ['HS256'],
      logger: logger as Logger,
      revocations: store,
    });
    const emit = (event: RevocationEvent): void => listeners.forEach((listener) => listener(event));
    emit({ type: 'failed', error: 'PING timed out after 2000 ms', staleUntil: new Date(Date.now() + 300_000) });
    emit({ type: 'reseeded', entries: 3 });
    emit({ type: 'cleared' });
    emit({ type: 'synced', entries: 3, ms: 12, reason: 'reconnect' });
    emit({ type: 'revoked', entry: { target: { kind: 'subject', issuer: 'https://idp.example/', subject: 'alice' }, forgetAt: new Date() } });
    assert.deepEqual(
      logger.records.filter((record) => String(record.fields.event).startsWith('revocations')).map((record) => [record.level, record.fields.event]),
      [
        ['warn', 'revocationsFailed'],
        ['warn', 'revocationsReseeded'],
        ['warn', 'revocationsCleared'],
        ['info', 'revocationsSynced'],
      ],
    );
    assert.ok(logger.of('warn').every((record) => !record.message.includes('admin:secret')));
    auth.close();
    assert.equal(listeners.size, 0);
  });
});
