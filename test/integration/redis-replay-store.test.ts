/**
 * The Redis replay store against a real redis-server: atomic set-if-absent across connections (two
 * replicas racing on one DPoP jti admit exactly one), keys that expire, and the fail-closed behaviour
 * when Redis is slow, down, or back.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { AuthConfigError, createRedisReplayStore, isAuthError, type RedisReplayStore } from '../../src/index.ts';
import { redisAvailable, startRedisServer, type RedisServer } from '../support/redis-server.ts';

const inAMinute = (): Date => new Date(Date.now() + 60_000);

async function storeOn(t: TestContext, redis: RedisServer, timeout?: number): Promise<RedisReplayStore> {
  const store = createRedisReplayStore({ url: redis.url, prefix: 'replay-test', ...(timeout === undefined ? {} : { timeout }) });
  t.after(() => store.close());
  await store.ready();
  return store;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isAuthError(error), `expected an AuthError, got ${String(error)}`);
    return error.code;
  }
  assert.fail('expected a rejection');
}

describe('redis replay store', { timeout: 60_000 }, () => {
  test('first add → true, second add of the same key → false', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const store = await storeOn(t, redis);
    assert.equal(await store.add('jkt:jti-1', inAMinute()), true);
    assert.equal(await store.add('jkt:jti-1', inAMinute()), false);
    assert.equal(await store.add('jkt:jti-2', inAMinute()), true);
    assert.equal(store.status().connected, true);
  });

  test('1,000 jtis raced on two stores (two connections) → exactly 1,000 true out of 2,000', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const [a, b] = await Promise.all([storeOn(t, redis, 5), storeOn(t, redis, 5)]);
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => [a.add(`race-${i}`, inAMinute()), b.add(`race-${i}`, inAMinute())]).flat());
    assert.equal(answers.filter((admitted) => admitted).length, 1000);
    for (let i = 0; i < 1000; i += 1) assert.equal(Number(answers[2 * i]) + Number(answers[2 * i + 1]), 1, `jti race-${i} admitted exactly once`);
  });

  test('an expired key can be added again (hydra: inserts same JTI if expired)', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const store = await storeOn(t, redis);
    assert.equal(await store.add('short', new Date(Date.now() + 50)), true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await store.add('short', inAMinute()), true);
    assert.equal(await store.add('short', inAMinute()), false);
  });

  test('keys live under <prefix>:replay: with a PX TTL from the window', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const store = await storeOn(t, redis);
    await store.add('ttl-key', new Date(Date.now() + 30_000));
    const pttl = Number(/^:(-?\d+)/.exec(await redis.command('PTTL', 'replay-test:replay:ttl-key'))?.[1]);
    assert.ok(pttl > 0 && pttl <= 30_000, `PTTL ${pttl}`);
  });

  test('writes paused longer than timeout (CLIENT PAUSE WRITE) → rejects REPLAY_CHECK_UNAVAILABLE near the timeout', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const store = await storeOn(t, redis, 0.2);
    await redis.command('CLIENT', 'PAUSE', '1500', 'WRITE');
    const started = performance.now();
    assert.equal(await refusal(store.add('paused', inAMinute())), 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE');
    const waited = performance.now() - started;
    t.diagnostic(`rejected after ${waited.toFixed(0)} ms (timeout 200 ms, pause 1500 ms)`);
    assert.ok(waited < 1400, `rejected before the pause ended (${waited.toFixed(0)} ms)`);
    assert.ok(store.status().lastError !== undefined);
  });

  test('Redis killed → add rejects at once; restarted → works again with the same store', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const store = await storeOn(t, redis);
    assert.equal(await store.add('before-kill', inAMinute()), true);
    await redis.kill();
    const started = performance.now();
    assert.equal(await refusal(store.add('while-down', inAMinute())), 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE');
    t.diagnostic(`rejected after ${(performance.now() - started).toFixed(1)} ms while down`);
    assert.equal(store.status().connected, false);
    await redis.restart();
    const deadline = Date.now() + 15_000;
    while (!store.status().connected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await store.add('after-restart', inAMinute()), true);
    assert.equal(await store.add('after-restart', inAMinute()), false);
  });

  test('ready() rejects within timeout when nothing listens; close() resolves', async () => {
    const store = createRedisReplayStore({ url: 'redis://127.0.0.1:1', timeout: 0.2 });
    assert.equal(await refusal(store.ready()), 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE');
    assert.equal(await refusal(store.add('x', inAMinute())), 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE');
    await store.close();
  });

  test('status never shows the URL password', async () => {
    const store = createRedisReplayStore({ url: 'redis://default:s3cret-pass@127.0.0.1:1', timeout: 0.1 });
    try {
      await refusal(store.add('x', inAMinute()));
      assert.equal(store.status().source, 'redis(redis://default:***@127.0.0.1:1 prefix grpc-jwt-auth)');
      assert.ok(!JSON.stringify(store.status()).includes('s3cret-pass'));
    } finally {
      await store.close();
    }
  });

  test('bad options → AuthConfigError naming the option', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'url'],
      [{ url: 'redis://127.0.0.1:6379', client: {} }, 'client'],
      [{ url: 'http://127.0.0.1:6379' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ client: { sendCommand: 1 } }, 'client'],
      [{ url: 'redis://127.0.0.1:6379', prefix: 'a{b}' }, 'prefix'],
      [{ url: 'redis://127.0.0.1:6379', prefix: 'x'.repeat(65) }, 'prefix'],
      [{ url: 'redis://127.0.0.1:6379', timeout: 0 }, 'timeout'],
      [{ url: 'redis://127.0.0.1:6379', timeout: 61 }, 'timeout'],
      [{ url: 'redis://127.0.0.1:6379', timout: 1 }, 'timout'],
    ];
    for (const [options, option] of cases) {
      assert.throws(
        () => createRedisReplayStore(options as never),
        (error: unknown) => error instanceof AuthConfigError && error.option === option,
        JSON.stringify(options),
      );
    }
  });
});
