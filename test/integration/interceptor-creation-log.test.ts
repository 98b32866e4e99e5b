/**
 * The interceptor's creation `info` line names where revocations come from. Attacks: a Redis URL with a
 * password (the line must show it redacted, never the secret), and revocation stores or key resolvers of
 * your own whose `status()` throws, answers with a promise or with junk: creating the interceptor reads
 * their status once, and a hostile or buggy status must never stop a server from starting.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createAuthInterceptor, createRedisRevocationStore, type KeyResolver, type Logger, type RevocationStore } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { redisAvailable, startRedisServer } from '../support/redis-server.ts';

interface LogRecord {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

function capturingLogger(): Logger & { readonly records: LogRecord[]; info0(): LogRecord | undefined } {
  const records: LogRecord[] = [];
  const push = (level: string) => (fields: Record<string, unknown>, message: string) => void records.push({ level, fields, message });
  return {
    records,
    debug: push('debug'),
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
    info0: () => records.find((record) => record.level === 'info'),
  };
}

/** A store that never matches, with the given `status` member. */
function storeWith(status: unknown): RevocationStore {
  return { match: () => undefined, revoke: async () => undefined, unrevoke: async () => false, status } as unknown as RevocationStore;
}

describe('interceptor creation log: revocations source', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
  });

  const create = (extra: Record<string, unknown>): ReturnType<typeof capturingLogger> => {
    const logger = capturingLogger();
    createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: 'api', logger, ...extra });
    return logger;
  };

  it('a Redis store at redis://user:secret@… → the info line names it with the password redacted', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await redis.command('CONFIG', 'SET', 'requirepass', 's3cret-pa55');
    const store = createRedisRevocationStore({ url: `redis://default:s3cret-pa55@127.0.0.1:${redis.port}`, prefix: 'creation-log' });
    t.after(() => store.close());
    await store.ready();
    const logger = create({ revocations: store });
    const line = JSON.stringify(logger.records);
    assert.ok(!line.includes('s3cret-pa55'), line);
    assert.equal(logger.info0()?.fields.revocations, `redis(redis://default:***@127.0.0.1:${redis.port} prefix creation-log)`);
  });

  it('a Redis store that has not connected yet → the line names it, redacted (creation never waits on Redis)', (t) => {
    if (!redisAvailable(t)) return;
    const store = createRedisRevocationStore({ url: 'redis://alice:hunter2-x@127.0.0.1:1', prefix: 'creation-log', timeout: 0.2 });
    t.after(() => store.close());
    const logger = create({ revocations: store });
    assert.ok(!JSON.stringify(logger.records).includes('hunter2-x'));
    assert.match(String(logger.info0()?.fields.revocations), /^redis\(redis:\/\/alice:\*\*\*@127\.0\.0\.1:1 prefix creation-log\)$/);
  });

  const junk: ReadonlyArray<readonly [string, unknown]> = [
    [
      'status() throws',
      () => {
        throw new Error('boom');
      },
    ],
    ['status() answers with a rejecting promise', async () => Promise.reject(new Error('async boom'))],
    ['status() answers with null', () => null],
    ['status() answers with a string', () => 'fine'],
    ['status() answers without a known state', () => ({ state: 'great', source: 'mine' })],
    [
      'status() answers a valid state whose source getter throws',
      () => ({
        state: 'local',
        get source(): string {
          throw new Error('getter boom');
        },
      }),
    ],
    ['status() answers a valid state with a non-string source', () => ({ state: 'local', source: { password: 'hunter2' } })],
  ];
  for (const [label, status] of junk) {
    it(`a store of your own whose ${label} → creation succeeds, the info line's revocations is a string without its content`, () => {
      const logger = create({ revocations: storeWith(status) });
      const revocations = logger.info0()?.fields.revocations;
      assert.equal(typeof revocations, 'string');
      assert.ok(!String(revocations).includes('hunter2'));
    });
  }

  it('a store of your own with a control-character source → the info line carries no raw newline or escape', () => {
    const logger = create({ revocations: storeWith(() => ({ state: 'local', source: 'mine\n{"level":"error"}\u001b[2J' })) });
    const revocations = String(logger.info0()?.fields.revocations);
    assert.ok(!revocations.includes('\n') && !revocations.includes('\u001b'), revocations);
  });

  it('a store of your own with a control-character source that reports a failure → the warn line (fields and message) carries no raw newline or escape', () => {
    let listener: ((event: unknown) => void) | undefined;
    const store = {
      ...storeWith(() => ({ state: 'stale', source: 'mine\n{"level":"error"}\u001b[2J' })),
      subscribe: (each: (event: unknown) => void) => {
        listener = each;
        return () => undefined;
      },
    } as unknown as RevocationStore;
    const logger = create({ revocations: store });
    listener?.({ type: 'failed', error: 'down', staleUntil: undefined });
    const warn = logger.records.find((record) => record.level === 'warn');
    assert.ok(warn !== undefined);
    for (const text of [String(warn.fields.source), warn.message]) assert.ok(!text.includes('\n') && !text.includes('\u001b'), text);
  });

  it('a key resolver of your own whose status() throws or has a throwing getter → creation succeeds (the line reads only the store)', () => {
    const hostile = (status: unknown): KeyResolver =>
      ({
        kind: 'public',
        description: 'hostile',
        getKeys: (lookup: never) => idp.keys.getKeys(lookup),
        checkAlgorithms: (algorithms: readonly string[], option: string) => idp.keys.checkAlgorithms(algorithms, option),
        status,
      }) as unknown as KeyResolver;
    for (const status of [
      () => {
        throw new Error('boom');
      },
      () => ({
        state: 'fresh',
        kids: [],
        get source(): string {
          throw new Error('getter boom');
        },
      }),
    ]) {
      const logger = capturingLogger();
      createAuthInterceptor({ keys: hostile(status), algorithms: ['ES256'], issuer: idp.issuer, audience: 'api', logger });
      assert.equal(logger.info0()?.fields.revocations, 'memory');
    }
  });
});
