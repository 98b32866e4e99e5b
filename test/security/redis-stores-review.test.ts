/**
 * Review of the Redis stores (issue 15, R2) against a real redis-server: hostile and malformed messages on
 * the changes channel, corrupt hash content, writes racing re-syncs and re-seeds, wipes and clears, outage
 * policy, leaks at close, the replay store's edge inputs, and secrets in what a failing connection says.
 * Every test runs with a process `unhandledRejection` listener that fails it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, afterEach, beforeEach, describe, test, type TestContext } from 'node:test';
import { createClient } from 'redis';
import {
  createRedisReplayStore,
  createRedisRevocationStore,
  isAuthError,
  type RedisRevocationStoreOptions,
  type RevocableToken,
  type RevocationEvent,
  type RevocationStore,
} from '../../src/index.ts';
import { openRedisRevocationAdmin } from '../../src/stores/redis-revocation-admin.ts';
import { runBounded } from '../support/bounded-run.ts';
import { redisAvailable, startRedisServer, type RedisServer } from '../support/redis-server.ts';

const ISSUER = 'https://idp.example/';
const PREFIX = 'review';
const HASH = `{${PREFIX}}:revocations`;
const CHANNEL = `${HASH}:changes`;
const idOf = (kind: string, issuer: string, value: string): string => JSON.stringify([kind, issuer, value]);

type Store = Required<RevocationStore>;

// Any unhandled rejection while a test runs fails that test.
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection');
});

function token(claims: Record<string, unknown>, tokenId = 'tid-0'): RevocableToken {
  return { claims: { iss: ISSUER, iat: Math.floor(Date.now() / 1000) - 10, ...claims }, tokenId };
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function eventually(what: string, predicate: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > ms) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isAuthError(error) ? error.code : `${(error as Error).name}: ${(error as Error).message}`;
  }
  assert.fail('expected a rejection');
}

/** The value of a RESP bulk or integer reply (`$3\r\nabc\r\n` → 'abc', `:5\r\n` → '5', `$-1` → undefined). */
function valueOf(reply: string): string | undefined {
  if (reply.startsWith(':')) return reply.slice(1).trim();
  const bulk = /^\$(-?\d+)\r\n/.exec(reply);
  if (bulk === null || bulk[1] === '-1') return undefined;
  return reply.slice(bulk[0].length, bulk[0].length + Number(bulk[1]));
}

interface Recorded {
  readonly store: Store;
  readonly events: RevocationEvent[];
}

async function storeOn(t: TestContext, url: string, options: Partial<RedisRevocationStoreOptions> = {}, wait = true): Promise<Recorded> {
  const events: RevocationEvent[] = [];
  const store = createRedisRevocationStore({
    ...(options.client === undefined ? { url } : {}),
    prefix: PREFIX,
    onEvent: (event) => events.push(event),
    ...options,
  });
  t.after(() => store.close());
  if (wait) await store.ready();
  return { store, events };
}

function adminOn(t: TestContext, redis: RedisServer): ReturnType<typeof openRedisRevocationAdmin> {
  const admin = openRedisRevocationAdmin({ url: redis.url, prefix: PREFIX });
  t.after(() => admin.close());
  return admin;
}

/** Ids and values Redis holds (live entries), sorted: what every mirror must converge to. */
async function redisContent(t: TestContext, redis: RedisServer): Promise<string[]> {
  const listed = await adminOn(t, redis).entries();
  return listed.map((entry) => JSON.stringify([entry.target, entry.before?.getTime(), entry.forgetAt.getTime()])).sort();
}

async function mirrorContent(store: Store): Promise<string[]> {
  return (await store.entries()).map((entry) => JSON.stringify([entry.target, entry.before?.getTime(), entry.forgetAt.getTime()])).sort();
}

/** Writes `count` token entries straight into Redis, as a long-lived list would look. */
async function fill(redis: RedisServer, count: number, epoch = 'filled'): Promise<void> {
  const client = createClient({ url: redis.url });
  client.on('error', () => {});
  await client.connect();
  try {
    const until = String(Date.now() + 86_400_000);
    for (let start = 0; start < count; start += 1000) {
      const fields: string[] = [];
      const scored: string[] = [];
      for (let i = start; i < Math.min(count, start + 1000); i += 1) {
        const id = idOf('t', ISSUER, `fill-${i}`);
        fields.push(id, `{"until":${until}}`);
        scored.push(until, id);
      }
      await client.sendCommand(['HSET', HASH, ...fields]);
      await client.sendCommand(['ZADD', `${HASH}:expiry`, ...scored]);
    }
    await client.sendCommand(['SET', `${HASH}:epoch`, epoch, 'NX']);
  } finally {
    client.destroy();
  }
}

/**
 * A TCP proxy in front of Redis that can hold back the replies of command connections (not of the
 * subscriber, recognised by its SUBSCRIBE): a slow network path for one connection and not the other.
 */
interface SlowProxy {
  readonly url: string;
  /** Milliseconds replies to command connections are held; 0 = pass through. */
  delay: number;
  /** Milliseconds each chunk a command connection sends is held before it goes on to Redis. */
  upDelay: number;
  /** Drops every connection now (what is held back is lost). */
  cut(): void;
}

async function slowProxy(t: TestContext, redis: RedisServer): Promise<SlowProxy> {
  const sockets = new Set<Socket>();
  const proxy: { -readonly [K in keyof SlowProxy]: SlowProxy[K] } = { url: '', delay: 0, upDelay: 0, cut: () => sockets.forEach((socket) => socket.destroy()) };
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: redis.port });
    sockets.add(client).add(upstream);
    let subscriber = false;
    let chain = Promise.resolve();
    let upChain = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      if (/SUBSCRIBE/i.test(chunk.toString('latin1'))) subscriber = true;
      const hold = subscriber ? 0 : proxy.upDelay;
      upChain = upChain.then(() => (hold > 0 ? sleep(hold) : undefined)).then(() => void (upstream.destroyed || upstream.write(chunk)));
    });
    upstream.on('data', (chunk: Buffer) => {
      const hold = subscriber ? 0 : proxy.delay;
      chain = chain.then(() => (hold > 0 ? sleep(hold) : undefined)).then(() => void (client.destroyed || client.write(chunk)));
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  proxy.url = `redis://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return proxy;
}

async function head(redis: RedisServer): Promise<{ epoch: string; seq: number }> {
  return { epoch: valueOf(await redis.command('GET', `${HASH}:epoch`)) ?? '', seq: Number(valueOf(await redis.command('GET', `${HASH}:seq`)) ?? 0) };
}

describe('redis stores under review', { timeout: 60_000 }, () => {
  test('hostile messages (malformed, huge, foreign ids, forged epoch, duplicates, out of order) never crash and never drop a revocation', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const { store } = await storeOn(t, redis.url, { heartbeat: 0.2 });
    await store.revoke({ kind: 'token', issuer: ISSUER, jti: 'held' });
    const held = token({ jti: 'held' });
    const now = await head(redis);
    const value = JSON.stringify({ until: Date.now() + 60_000 });
    const messages = [
      'not json',
      'null',
      '[]',
      '"text"',
      JSON.stringify({ epoch: now.epoch, seq: now.seq + 1, op: 'set', id: 'not json', value }),
      JSON.stringify({ epoch: now.epoch, seq: now.seq + 1, op: 'set', id: idOf('t', ISSUER, 'x'), value: 'not json' }),
      JSON.stringify({ epoch: now.epoch, seq: now.seq + 1, op: 'set', id: idOf('t', ISSUER, 'x'), value: '{"until":1e999}' }),
      JSON.stringify({ epoch: now.epoch, seq: now.seq, op: 'del', id: idOf('t', ISSUER, 'held') }), // a duplicate
      JSON.stringify({ epoch: now.epoch, seq: now.seq - 1, op: 'del', id: idOf('t', ISSUER, 'held') }), // old
      JSON.stringify({ epoch: 'forged', seq: now.seq + 1, op: 'del', id: idOf('t', ISSUER, 'held') }),
      JSON.stringify({ epoch: now.epoch, seq: now.seq + 5, op: 'del', id: idOf('t', ISSUER, 'held') }), // out of order
      JSON.stringify({ epoch: now.epoch, seq: 1e300, op: 'del', id: idOf('t', ISSUER, 'held') }),
      JSON.stringify({ epoch: now.epoch, seq: '7', op: 'del', id: idOf('t', ISSUER, 'held') }),
      JSON.stringify({ epoch: now.epoch, seq: now.seq + 1, op: 'nuke' }),
      `{"epoch":"${now.epoch}","seq":${now.seq + 1},"op":"set","id":"${'x'.repeat(4 * 1024 * 1024)}","value":${JSON.stringify(value)}}`,
    ];
    for (const message of messages) {
      await redis.command('PUBLISH', CHANNEL, message);
      await sleep(30);
      assert.equal(store.match(held)?.kind, 'token', `still revoked after ${message.slice(0, 80)}`);
    }
    await eventually('fresh again', () => store.status().state === 'fresh');
    assert.equal(store.match(held)?.kind, 'token');
    assert.deepEqual(await mirrorContent(store), await redisContent(t, redis));
  });

  test('a forged clear message (any epoch, next sequence) does not empty the mirror: a revoked token stays refused', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const { store } = await storeOn(t, redis.url, { heartbeat: 30 });
    await store.revoke({ kind: 'subject', issuer: ISSUER, subject: 'mallory' });
    const now = await head(redis);
    await redis.command('PUBLISH', CHANNEL, JSON.stringify({ epoch: 'forged', seq: now.seq + 1, op: 'clear' }));
    await sleep(300);
    assert.equal(store.match(token({ sub: 'mallory' }))?.kind, 'subject', 'the list in Redis was not cleared');
  });

  test('corrupt hash fields are skipped at load; a revoke over a corrupt stored value (huge numbers, strings) stores a readable entry', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const until = Date.now() + 60_000;
    await redis.command('HSET', HASH, 'garbage', 'garbage');
    await redis.command('HSET', HASH, idOf('t', ISSUER, 'not-json'), '{"until":');
    await redis.command('HSET', HASH, idOf('t', ISSUER, 'string-until'), `{"until":"${until}"}`);
    await redis.command('HSET', HASH, idOf('s', ISSUER, 'huge'), `{"before":1e400,"until":${until}}`);
    await redis.command('HSET', HASH, idOf('s', ISSUER, 'nan'), `{"before":"nan","until":-1e400}`);
    await redis.command('HSET', HASH, idOf('t', ISSUER, 'ok'), `{"until":${until}}`);
    const { store } = await storeOn(t, redis.url);
    assert.equal(store.match(token({ jti: 'ok' }))?.kind, 'token');
    for (const subject of ['huge', 'nan']) {
      await store.revoke({ kind: 'subject', issuer: ISSUER, subject });
      assert.equal(store.match(token({ sub: subject }))?.kind, 'subject', subject);
    }
    await store.revoke({ kind: 'token', issuer: ISSUER, jti: 'string-until' });
    await store.revoke({ kind: 'token', issuer: ISSUER, jti: 'not-json' });
    for (const id of [idOf('s', ISSUER, 'huge'), idOf('s', ISSUER, 'nan'), idOf('t', ISSUER, 'string-until'), idOf('t', ISSUER, 'not-json')]) {
      const stored = valueOf(await redis.command('HGET', HASH, id)) ?? '';
      const parsed = JSON.parse(stored) as { before?: unknown; until?: unknown };
      assert.ok(Number.isFinite(parsed.until) && (parsed.before === undefined || Number.isFinite(parsed.before)), `${id}: ${stored}`);
    }
  });

  test("a store's own revoke/unrevoke reply arriving after later changes of the same entry never undoes them (mirror = Redis)", async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const proxy = await slowProxy(t, redis);
    const a = await storeOn(t, proxy.url, { heartbeat: 0.2 });
    const b = await storeOn(t, redis.url, { heartbeat: 0.2 });
    const target = { kind: 'token', issuer: ISSUER, jti: 'contested' } as const;
    const contested = token({ jti: 'contested' });
    await a.store.revoke(target);
    await eventually('B has it', () => b.store.match(contested) !== undefined);

    // A's unrevoke runs in Redis at once, but its reply reaches A late; meanwhile B revokes again.
    proxy.delay = 300;
    const unrevoked = a.store.unrevoke(target);
    await eventually('B saw the unrevoke', () => b.store.match(contested) === undefined);
    await b.store.revoke(target);
    await eventually('A saw the new revoke', () => a.store.match(contested) !== undefined);
    assert.equal(await unrevoked, true);
    proxy.delay = 0;
    await sleep(600); // heartbeats: nothing repairs a divergent mirror whose sequence is current
    assert.equal(valueOf(await redis.command('HEXISTS', HASH, idOf('t', ISSUER, 'contested'))), '1', 'Redis holds the revocation');
    assert.equal(a.store.match(contested)?.kind, 'token', 'A enforces what Redis holds');

    // And the other way round: A's revoke reply arrives after B's unrevoke.
    proxy.delay = 300;
    const other = { kind: 'token', issuer: ISSUER, jti: 'contested-2' } as const;
    const revoked = a.store.revoke(other);
    await eventually('B saw the revoke', () => b.store.match(token({ jti: 'contested-2' })) !== undefined);
    assert.equal(await b.store.unrevoke(other), true);
    await revoked;
    proxy.delay = 0;
    await sleep(600);
    assert.deepEqual(await mirrorContent(a.store), await redisContent(t, redis));
  });

  test('revokes and unrevokes from two stores while both re-sync (HSCAN under way): every mirror converges to Redis', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await fill(redis, 20_000);
    const a = await storeOn(t, redis.url, { heartbeat: 0.2, timeout: 5 });
    const b = await storeOn(t, redis.url, { heartbeat: 0.2, timeout: 5 });
    const now = await head(redis);
    // A forged gap makes both reload the 20,000 entries while the writes below go on.
    await redis.command('PUBLISH', CHANNEL, JSON.stringify({ epoch: now.epoch, seq: now.seq + 2, op: 'del', id: 'x' }));
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i += 1) {
      const store = i % 2 === 0 ? a.store : b.store;
      const jti = i % 3 === 0 ? `fill-${i}` : `new-${i % 40}`;
      work.push(i % 4 === 1 ? store.unrevoke({ kind: 'token', issuer: ISSUER, jti }) : store.revoke({ kind: 'token', issuer: ISSUER, jti }));
      if (i % 25 === 0) await sleep(5);
    }
    await Promise.all(work);
    await eventually('both synced after the gap', () => [a, b].every((s) => s.events.some((event) => event.type === 'synced' && event.reason === 'gap')));
    await eventually('both fresh', () => a.store.status().state === 'fresh' && b.store.status().state === 'fresh');
    await sleep(500);
    const expected = await redisContent(t, redis);
    assert.deepEqual(await mirrorContent(a.store), expected, 'A = Redis');
    assert.deepEqual(await mirrorContent(b.store), expected, 'B = Redis');
  });

  test('two stores re-seeding a wiped Redis at once end with the same list and epoch; a store started later loads it', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const a = await storeOn(t, redis.url, { heartbeat: 0.2 });
    const b = await storeOn(t, redis.url, { heartbeat: 0.2 });
    const closed = await storeOn(t, redis.url, { heartbeat: 0.2 });
    for (let i = 0; i < 50; i += 1) await a.store.revoke({ kind: 'token', issuer: ISSUER, jti: `seed-${i}` });
    await b.store.revoke({ kind: 'subject', issuer: ISSUER, subject: 'eve' });
    await eventually('all hold 51', () => [a, b, closed].every((s) => s.store.status().entries === 51));
    const before = await redisContent(t, redis);
    await closed.store.close();
    const { epoch: oldEpoch } = await head(redis);
    await redis.command('FLUSHALL');
    await eventually('re-seeded', async () => (await head(redis)).epoch !== '' && Number(valueOf(await redis.command('HLEN', HASH))) === 51);
    await eventually('both fresh', () => a.store.status().state === 'fresh' && b.store.status().state === 'fresh');
    await sleep(500);
    const { epoch } = await head(redis);
    assert.notEqual(epoch, oldEpoch);
    assert.deepEqual(await redisContent(t, redis), before);
    assert.deepEqual(await mirrorContent(a.store), before);
    assert.deepEqual(await mirrorContent(b.store), before);
    const later = await storeOn(t, redis.url);
    assert.deepEqual(await mirrorContent(later.store), before);
  });

  test('FLUSHALL while a store is loading (HSCAN under way): the half-read list is not adopted, the full list is re-seeded', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await fill(redis, 10_000);
    const proxy = await slowProxy(t, redis);
    const a = await storeOn(t, proxy.url, { heartbeat: 0.3, timeout: 5 });
    assert.equal(a.store.status().entries, 10_000);
    proxy.delay = 60; // each HSCAN chunk of 1,000 now takes 60 ms or more: the reload lasts more than half a second
    const now = await head(redis);
    await redis.command('PUBLISH', CHANNEL, JSON.stringify({ epoch: now.epoch, seq: now.seq + 2, op: 'del', id: 'x' }));
    await sleep(200);
    await redis.command('FLUSHALL');
    proxy.delay = 0; // (what is already held back still arrives late)
    await eventually('re-seeded and fresh', async () => a.store.status().state === 'fresh' && (await head(redis)).epoch !== '', 10_000);
    await sleep(1000);
    const told = a.events.filter((event) => event.type !== 'revoked' && event.type !== 'unrevoked');
    t.diagnostic(told.map((event) => event.type + (event.type === 'synced' ? `(${event.reason}, ${event.entries})` : '')).join(', '));
    assert.equal(a.events.filter((event) => event.type === 'unrevoked').length, 0, 'no revocation was dropped on the way');
    assert.equal(Number(valueOf(await redis.command('HLEN', HASH))), 10_000, 'every revocation written back');
    assert.equal(a.store.status().entries, 10_000);
  });

  test('a re-seed cut off half way (connection lost during the write-back) is finished after the reconnect, not adopted half done', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await fill(redis, 5000);
    const proxy = await slowProxy(t, redis);
    const a = await storeOn(t, proxy.url, { heartbeat: 0.2, timeout: 5 });
    assert.equal(a.store.status().entries, 5000);
    const listener = createClient({ url: redis.url });
    listener.on('error', () => {});
    await listener.connect();
    t.after(() => listener.destroy());
    let cut = false;
    await listener.subscribe(CHANNEL, (message) => {
      // The write-back has begun: drop A's connections while most of it is still on the way.
      if (!cut && message.includes('"op":"set"')) {
        cut = true;
        proxy.cut();
        proxy.upDelay = 0;
      }
    });
    proxy.upDelay = 15;
    await redis.command('FLUSHALL');
    await eventually('the cut', () => cut, 10_000);
    await eventually('A fresh again', () => a.store.status().state === 'fresh', 20_000);
    await sleep(1000);
    assert.equal(Number(valueOf(await redis.command('HLEN', HASH))), 5000, 'every revocation written back');
    assert.equal(a.store.status().entries, 5000);
  });

  test('a wiped Redis first re-seeded by a store that has nothing (just started): the running stores still write their revocations back', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const a = await storeOn(t, redis.url, { heartbeat: 2 });
    for (let i = 0; i < 50; i += 1) await a.store.revoke({ kind: 'token', issuer: ISSUER, jti: `kept-${i}` });
    await redis.command('FLUSHALL');
    // A replica starting right now finds no epoch and re-seeds first, with an empty list.
    const c = await storeOn(t, redis.url, { heartbeat: 0.2 });
    assert.notEqual((await head(redis)).epoch, '');
    await eventually('A noticed the new epoch', () => a.events.some((event) => event.type === 'synced' && event.reason === 'epoch'), 10_000);
    await sleep(500);
    assert.equal(Number(valueOf(await redis.command('HLEN', HASH))), 50, 'the revocations of the running store are written back');
    assert.equal(a.store.status().entries, 50);
    await eventually('C follows', () => c.store.status().entries === 50);
  });

  test('an admin clear landing while a store re-seeds a wiped Redis is not undone by the re-seed', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await fill(redis, 3000);
    const a = await storeOn(t, redis.url, { heartbeat: 0.2, timeout: 5 });
    const admin = adminOn(t, redis);
    await admin.entries(); // connected
    const listener = createClient({ url: redis.url });
    listener.on('error', () => {});
    await listener.connect();
    t.after(() => listener.destroy());
    let clearing: Promise<number> | undefined;
    await listener.subscribe(CHANNEL, (message) => {
      // The first write-back of the re-seed: the admin clears everything right now.
      if (clearing === undefined && message.includes('"op":"set"')) clearing = admin.clearAll();
    });
    await redis.command('FLUSHALL');
    await eventually('the clear ran', () => clearing !== undefined, 10_000);
    await clearing;
    await eventually('A is fresh on the cleared epoch', async () => a.store.status().state === 'fresh' && (await head(redis)).epoch !== '', 10_000);
    await sleep(1000);
    assert.equal(Number(valueOf(await redis.command('HLEN', HASH))), 0, 'the cleared list stays empty in Redis');
    assert.equal(a.store.status().entries, 0, 'and in the mirror');
  });

  test('FLUSHALL then clearAll before any store noticed: the clear is adopted (nobody writes back), the wipe alone is re-seeded', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const a = await storeOn(t, redis.url, { heartbeat: 0.5 });
    const b = await storeOn(t, redis.url, { heartbeat: 0.5 });
    await a.store.revoke({ kind: 'token', issuer: ISSUER, jti: 'w1' });
    await eventually('B has w1', () => b.store.status().entries === 1);
    const admin = adminOn(t, redis);
    await redis.command('FLUSHALL');
    await admin.clearAll();
    await eventually('both empty', () => a.store.status().entries === 0 && b.store.status().entries === 0);
    await sleep(1500);
    assert.equal(Number(valueOf(await redis.command('HLEN', HASH))), 0);
    assert.ok(![...a.events, ...b.events].some((event) => event.type === 'reseeded'));
    assert.ok(
      b.events.some((event) => event.type === 'cleared'),
      'reported as a clear',
    );
    // An admin write right after a wipe does not create the epoch: the stores re-seed, not adopt.
    await a.store.revoke({ kind: 'token', issuer: ISSUER, jti: 'w2' });
    await eventually('B has w2', () => b.store.status().entries === 1);
    await redis.command('FLUSHALL');
    await admin.revoke({ kind: 'token', issuer: ISSUER, jti: 'w3' });
    await eventually('both hold w2 and w3', () => a.store.status().entries === 2 && b.store.status().entries === 2);
    await eventually('Redis holds both', async () => Number(valueOf(await redis.command('HLEN', HASH))) === 2);
  });

  test('staleIfError 0: a hung Redis makes the store expired (never stale), UNAVAILABLE; resumed → fresh without a restart', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    t.after(() => redis.resume());
    const { store } = await storeOn(t, redis.url, { heartbeat: 0.2, timeout: 0.2, staleIfError: 0 });
    const states = new Set<string>();
    redis.pause();
    await eventually('expired', () => {
      states.add(store.status().state);
      return store.status().state === 'expired';
    });
    assert.ok(!states.has('stale'), [...states].join(','));
    assert.equal(await rejection(Promise.resolve().then(() => store.match(token({})))), 'ERR_AUTH_REVOCATIONS_UNAVAILABLE');
    await sleep(1000); // longer than the timeout, several heartbeats
    redis.resume();
    await eventually('fresh', () => store.status().state === 'fresh');
    assert.equal(store.match(token({})), undefined);
  });

  test("peers: revoking twice keeps one entry and one event (simplejwt); one revoked jti leaves the subject's other tokens valid; an entry past its until no longer matches (hydra)", async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const a = await storeOn(t, redis.url);
    const hourAhead = await storeOn(t, redis.url, { clock: () => Date.now() + 3_600_000 });
    const expiresAt = new Date(Date.now() + 60_000);
    await a.store.revoke({ kind: 'token', issuer: ISSUER, jti: 'twice', expiresAt });
    await a.store.revoke({ kind: 'token', issuer: ISSUER, jti: 'twice', expiresAt });
    await eventually('seen by the other store', () => hourAhead.events.some((event) => event.type === 'revoked'));
    await sleep(200);
    assert.equal((await redisContent(t, redis)).length, 1);
    assert.equal(a.events.filter((event) => event.type === 'revoked').length, 1, 'the second revoke changed nothing: no event');
    assert.equal(a.store.match(token({ sub: 'alice', jti: 'twice' }))?.kind, 'token');
    assert.equal(a.store.match(token({ sub: 'alice', jti: 'other' })), undefined, "alice's other token is still valid");
    // Forgotten at expiresAt + 300 s: a store whose clock is an hour ahead no longer matches it.
    assert.equal(hourAhead.store.match(token({ jti: 'twice' })), undefined);
  });

  test('sweep with a backlog over 1,000 expired entries removes them all (several script runs), keeps the live ones', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await fill(redis, 10); // live
    const client = createClient({ url: redis.url });
    client.on('error', () => {});
    await client.connect();
    t.after(() => client.destroy());
    const fields: string[] = [];
    const scored: string[] = [];
    for (let i = 0; i < 2500; i += 1) {
      fields.push(idOf('t', ISSUER, `old-${i}`), `{"until":${1000 + i}}`);
      scored.push(String(1000 + i), idOf('t', ISSUER, `old-${i}`));
    }
    await client.sendCommand(['HSET', HASH, ...fields]);
    await client.sendCommand(['ZADD', `${HASH}:expiry`, ...scored]);
    assert.equal(await adminOn(t, redis).sweep(), 2500);
    assert.equal(Number(valueOf(await redis.command('HLEN', HASH))), 10);
    assert.equal(Number(valueOf(await redis.command('ZCARD', `${HASH}:expiry`))), 10);
  });

  test('replay store: past, invalid and far-future expiries; keys with spaces, newlines, unicode, braces and 1 MB are stored exactly, never split', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const store = createRedisReplayStore({ url: redis.url, prefix: 'rp' });
    t.after(() => store.close());
    await store.ready();
    assert.equal(await store.add('past', new Date(Date.now() - 60_000)), true, 'a past expiry still records (1 ms) and admits once');
    await assert.rejects(store.add('nan', new Date(Number.NaN)), TypeError);
    await assert.rejects(store.add('not-a-date', 5 as unknown as Date), TypeError);
    assert.equal(await store.add('far', new Date(8.64e15)), true);
    assert.equal(await store.add('far', new Date(8.64e15)), false);
    const keys = ['a b', 'a\r\nSET x 1', 'a\nb', 'ü🔑', 'dpop:{slot}:x', '*1\r\n$4\r\nPING', '', 'k'.repeat(1024 * 1024)];
    for (const key of keys) {
      assert.equal(await store.add(key, new Date(Date.now() + 60_000)), true, JSON.stringify(key.slice(0, 20)));
      assert.equal(await store.add(key, new Date(Date.now() + 60_000)), false, JSON.stringify(key.slice(0, 20)));
    }
    // Each key is one Redis key, spelled exactly: no command was injected.
    assert.equal(valueOf(await redis.command('EXISTS', 'rp:replay:a\r\nSET x 1')), '1');
    assert.equal(valueOf(await redis.command('EXISTS', 'x')), '0');
    const size = Number(valueOf(await redis.command('DBSIZE')));
    assert.ok(size === keys.length + 1 || size === keys.length + 2, `each key once, and 'far' ('past' lives 1 ms): ${size}`);
    // oidc-provider: the same jti under two issuers (two keys) is two values.
    assert.equal(await store.add('https://a.example/:jti-1', new Date(Date.now() + 60_000)), true);
    assert.equal(await store.add('https://b.example/:jti-1', new Date(Date.now() + 60_000)), true);
  });

  test('replay store: a write paused past the timeout is refused, and its late OK burns the jti (fail closed)', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const store = createRedisReplayStore({ url: redis.url, prefix: 'rp', timeout: 0.2 });
    t.after(() => store.close());
    await store.ready();
    await redis.command('CLIENT', 'PAUSE', '700', 'WRITE');
    assert.equal(await rejection(store.add('late', new Date(Date.now() + 60_000))), 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE');
    await sleep(800);
    assert.equal(await store.add('late', new Date(Date.now() + 60_000)), false, 'burned by the late OK');
    assert.equal(await store.add('fresh', new Date(Date.now() + 60_000)), true);
  });

  test('replay store: 2,000 adds while Redis is down all reject at once; while Redis is hung, adds after a timed-out one are refused at once without queueing on the hung socket', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    t.after(() => redis.resume());
    const store = createRedisReplayStore({ url: redis.url, prefix: 'rp', timeout: 0.3 });
    t.after(() => store.close());
    await store.ready();
    redis.pause();
    assert.equal(await rejection(store.add('first', new Date(Date.now() + 60_000))), 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE');
    const started = performance.now();
    const codes = await Promise.all(Array.from({ length: 2000 }, (_, i) => rejection(store.add(`hung-${i}`, new Date(Date.now() + 60_000)))));
    const took = performance.now() - started;
    t.diagnostic(`2,000 adds on a hung Redis refused in ${took.toFixed(0)} ms (timeout 300 ms)`);
    assert.ok(codes.every((code) => code === 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE'));
    const one = performance.now();
    assert.equal(await rejection(store.add('one-more', new Date(Date.now() + 60_000))), 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE');
    const oneTook = performance.now() - one;
    redis.resume();
    await eventually('answers again', async () => (await store.add(`probe-${Date.now()}`, new Date(Date.now() + 60_000)).catch(() => false)) === true);
    const queued = Number(valueOf(await redis.command('EVAL', "return #redis.call('KEYS', 'rp:replay:hung-*')", '0')));
    assert.ok(queued === 0, `${queued} refused adds were still sent to the hung Redis (held in its queue, written when it resumed)`);
    assert.ok(oneTook < 300, `refused at once, not after the 300 ms timeout (${oneTook.toFixed(0)} ms)`);

    await redis.kill();
    const downCodes = await Promise.all(Array.from({ length: 2000 }, (_, i) => rejection(store.add(`down-${i}`, new Date(Date.now() + 60_000)))));
    assert.ok(downCodes.every((code) => code === 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE'));
    const down = performance.now();
    assert.equal(await rejection(store.add('down-one-more', new Date(Date.now() + 60_000))), 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE');
    assert.ok(performance.now() - down < 300, `down: refused at once (${(performance.now() - down).toFixed(0)} ms), no offline queue`);
  });

  test('a password in the url never appears in status, events, errors, their causes or stacks (wrong password, dead port, admin, replay)', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await redis.command('CONFIG', 'SET', 'requirepass', 'right-Pa55%word');
    const secrets = ['wrong-Pa55word', 'wrong-Pa55%25word', 'wrong-Pa55%word'];
    const texts: string[] = [];
    const collect = (value: unknown, depth = 0): void => {
      if (depth > 5 || value === undefined || value === null) return;
      if (value instanceof Error) {
        texts.push(value.message, String(value.stack), JSON.stringify(value), String(value));
        collect(value.cause, depth + 1);
        if (value instanceof AggregateError) for (const inner of value.errors) collect(inner, depth + 1);
        return;
      }
      texts.push(typeof value === 'string' ? value : JSON.stringify(value));
    };
    for (const url of [`redis://default:wrong-Pa55%25word@127.0.0.1:${redis.port}`, 'redis://default:wrong-Pa55%25word@127.0.0.1:1']) {
      const events: RevocationEvent[] = [];
      const store = createRedisRevocationStore({ url, prefix: PREFIX, timeout: 0.3, heartbeat: 0.1, onEvent: (event) => events.push(event) });
      t.after(() => store.close());
      collect(await store.ready().catch((error: unknown) => error));
      collect(await store.revoke({ kind: 'token', issuer: ISSUER, jti: 'x' }).catch((error: unknown) => error));
      try {
        store.match(token({}));
      } catch (error) {
        collect(error);
      }
      collect(store.status());
      const replay = createRedisReplayStore({ url, timeout: 0.3 });
      t.after(() => replay.close());
      collect(await replay.ready().catch((error: unknown) => error));
      collect(await replay.add('k', new Date(Date.now() + 1000)).catch((error: unknown) => error));
      collect(replay.status());
      const admin = openRedisRevocationAdmin({ url, prefix: PREFIX, timeout: 0.3 });
      t.after(() => admin.close());
      collect(await admin.entries().catch((error: unknown) => error));
      collect(admin.source);
      await sleep(300);
      for (const event of events) collect(event);
    }
    assert.ok(texts.length > 10);
    for (const text of texts) for (const secret of secrets) assert.ok(!text.includes(secret), `${secret} in ${text.slice(0, 300)}`);
  });

  test('client option misuse: a closed client is only duplicated (works); a non-node-redis object is refused at construction', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const closed = createClient({ url: redis.url });
    closed.on('error', () => {});
    await closed.connect();
    closed.destroy();
    const { store } = await storeOn(t, redis.url, { client: closed });
    await store.revoke({ kind: 'token', issuer: ISSUER, jti: 'via-closed' });
    assert.equal(store.match(token({ jti: 'via-closed' }))?.kind, 'token');
    assert.equal(closed.isOpen, false);
    for (const client of [{ duplicate: () => ({}), sendCommand: () => undefined }, { duplicate: 1, sendCommand: 2 }, new Map()]) {
      assert.throws(
        () => createRedisRevocationStore({ client, prefix: PREFIX }),
        (error: unknown) => (error as { option?: string }).option === 'client',
        String(Object.keys(client)),
      );
    }
  });

  test('stores closed before ready, while paused, while syncing, twice, with ready() called many times: the process exits by itself', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await fill(redis, 30_000);
    const dir = mkdtempSync(join(tmpdir(), 'redis-review-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'run.mts');
    const index = resolve('src/index.ts');
    writeFileSync(
      script,
      `
import { createRedisReplayStore, createRedisRevocationStore } from ${JSON.stringify(index)};
const url = process.argv[2];
const dead = 'redis://127.0.0.1:1';
const ignore = () => {};
// Before ready resolves, while syncing a big list; ready() many times.
const syncing = createRedisRevocationStore({ url, prefix: ${JSON.stringify(PREFIX)}, timeout: 5 });
for (let i = 0; i < 50; i += 1) syncing.ready().catch(ignore);
await new Promise((r) => setTimeout(r, 60));
await Promise.all([syncing.close(), syncing.close()]);
// Never connected.
const down = createRedisRevocationStore({ url: dead, timeout: 0.2 });
down.ready().catch(ignore);
await down.close();
const replayDown = createRedisReplayStore({ url: dead, timeout: 0.2 });
await replayDown.add('k', new Date(Date.now() + 1000)).catch(ignore);
await replayDown.close();
await replayDown.close();
// Loaded, then Redis hung (SIGSTOP by the parent) while heartbeats are out.
const hung = createRedisRevocationStore({ url, prefix: ${JSON.stringify(PREFIX)}, heartbeat: 0.1, timeout: 0.3 });
const replay = createRedisReplayStore({ url, timeout: 0.3 });
await hung.ready();
await replay.ready();
process.send?.('loaded');
await new Promise((r) => process.once('message', r));
await new Promise((r) => setTimeout(r, 400));
await replay.add('hung', new Date(Date.now() + 1000)).catch(ignore);
await Promise.all([hung.close(), replay.close(), hung.close()]);
process.send?.('closed');
process.disconnect?.();
`,
    );
    // Run through a parent that pauses Redis on cue: node with IPC, bounded.
    const driver = join(dir, 'driver.mjs');
    writeFileSync(
      driver,
      `
import { fork } from 'node:child_process';
const child = fork(${JSON.stringify(script)}, [${JSON.stringify(redis.url)}], { execArgv: ['--import', 'tsx'] });
child.on('message', (m) => {
  if (m === 'loaded') { process.kill(${process.pid}, 'SIGUSR2'); setTimeout(() => child.send('go'), 200); }
});
const started = Date.now();
child.on('exit', (code) => { console.log('exit', code, Date.now() - started); process.exitCode = code ?? 1; });
`,
    );
    // SIGUSR2 from the driver: pause Redis (the child's connections stay open on a hung server).
    const onSignal = (): void => redis.pause();
    process.on('SIGUSR2', onSignal);
    t.after(() => {
      process.off('SIGUSR2', onSignal);
      redis.resume();
    });
    const { stdout } = await runBounded(process.execPath, [driver], { cwd: process.cwd(), timeout: 20_000 });
    t.diagnostic(stdout.trim());
    assert.match(stdout, /^exit 0 /m);
  });
});
