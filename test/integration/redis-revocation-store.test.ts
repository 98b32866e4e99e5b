/**
 * The Redis revocation store against a real redis-server: the mirror loads, follows changes from other
 * replicas, re-syncs after gaps, reconnects, clears and wipes, and follows the documented policy while
 * Redis is hung (stale, then expired: fail closed) and after it comes back. Timing figures are printed as
 * diagnostics; assertions use generous bounds only.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, test, type TestContext } from 'node:test';
import { createClient } from 'redis';
import {
  AuthConfigError,
  createRedisRevocationStore,
  isAuthError,
  type RedisRevocationStoreOptions,
  type RevocableToken,
  type RevocationEvent,
  type RevocationStore,
} from '../../src/index.ts';
import { openRedisRevocationAdmin } from '../../src/stores/redis-revocation-admin.ts';
import { hasLookupMatch, matchLookup, tokenLookup } from '../../src/stores/revocation-keys.ts';
import { redisAvailable, startRedisServer, type RedisServer } from '../support/redis-server.ts';

const ISSUER = 'https://idp.example/';
const PREFIX = 'rev-test';
const HASH = `{${PREFIX}}:revocations`;

type Store = Required<RevocationStore>;

function token(claims: Record<string, unknown>, tokenId = 'tid-0'): RevocableToken {
  return { claims: { iss: ISSUER, iat: Math.floor(Date.now() / 1000) - 10, ...claims }, tokenId };
}

async function eventually(what: string, predicate: () => boolean, ms = 10_000): Promise<number> {
  const started = performance.now();
  while (!predicate()) {
    if (performance.now() - started > ms) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return isAuthError(error) ? error.code : String(error);
  }
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isAuthError(error) ? error.code : String(error);
  }
  assert.fail('expected a rejection');
}

interface Recorded {
  readonly store: Store;
  readonly events: RevocationEvent[];
}

async function storeOn(t: TestContext, redis: RedisServer, options: Partial<RedisRevocationStoreOptions> = {}, wait = true): Promise<Recorded> {
  const events: RevocationEvent[] = [];
  const store = createRedisRevocationStore({
    ...(options.client === undefined ? { url: redis.url } : {}),
    prefix: PREFIX,
    onEvent: (event) => events.push(event),
    ...options,
  });
  t.after(() => store.close());
  if (wait) await store.ready();
  return { store, events };
}

function adminOn(t: TestContext, redis: RedisServer, clock?: () => number): ReturnType<typeof openRedisRevocationAdmin> {
  const admin = openRedisRevocationAdmin({ url: redis.url, prefix: PREFIX, ...(clock === undefined ? {} : { clock }) });
  t.after(() => admin.close());
  return admin;
}

/** Writes `count` entries straight into Redis (HSET/ZADD chunks), as a long-lived list would look. */
async function fill(redis: RedisServer, count: number): Promise<void> {
  const client = createClient({ url: redis.url });
  client.on('error', () => {});
  await client.connect();
  try {
    const until = String(Date.now() + 86_400_000);
    for (let start = 0; start < count; start += 1000) {
      const fields: string[] = [];
      const scored: string[] = [];
      for (let i = start; i < Math.min(count, start + 1000); i += 1) {
        const id = JSON.stringify(['t', ISSUER, `jti-${String(i).padStart(12, '0')}-${'x'.repeat(16)}`]);
        fields.push(id, `{"until":${until}}`);
        scored.push(until, id);
      }
      await client.sendCommand(['HSET', HASH, ...fields]);
      await client.sendCommand(['ZADD', `${HASH}:expiry`, ...scored]);
    }
    await client.sendCommand(['SET', `${HASH}:epoch`, 'filled', 'NX']);
  } finally {
    client.destroy();
  }
}

function usedMemory(info: string): number {
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

describe('redis revocation store', { timeout: 120_000 }, () => {
  test('load at start: 1,000 then 100,000 entries (time, Redis and heap memory reported)', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    for (const count of [1000, 100_000]) {
      await redis.command('FLUSHALL');
      const baseMemory = usedMemory(await redis.command('INFO', 'memory'));
      await fill(redis, count);
      const redisBytes = usedMemory(await redis.command('INFO', 'memory')) - baseMemory;
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const started = performance.now();
      const { store, events } = await storeOn(t, redis, { timeout: 5 });
      const loadMs = performance.now() - started;
      gc();
      const heapDelta = process.memoryUsage().heapUsed - heapBefore;
      assert.equal(store.status().entries, count);
      assert.equal(store.status().state, 'fresh');
      const synced = events.find((event) => event.type === 'synced');
      assert.equal(synced?.type === 'synced' && synced.reason, 'start');
      assert.ok(store.match(token({ jti: `jti-${String(count - 1).padStart(12, '0')}-${'x'.repeat(16)}` })) !== undefined);
      t.diagnostic(
        `${count} entries: ready in ${loadMs.toFixed(0)} ms, Redis used_memory +${(redisBytes / 1e6).toFixed(1)} MB, Node heap +${(heapDelta / 1e6).toFixed(1)} MB`,
      );
      await store.close();
    }
  });

  test('two stores: a revoke on A is seen by B (event), an unrevoke too', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const a = await storeOn(t, redis);
    const b = await storeOn(t, redis);
    const alice = token({ sub: 'alice', jti: 'j-1' });
    assert.equal(b.store.match(alice), undefined);
    const started = performance.now();
    await a.store.revoke({ kind: 'subject', issuer: ISSUER, subject: 'alice' });
    assert.equal(a.store.match(alice)?.kind, 'subject', 'applied on the revoking store at once');
    await eventually('B matches', () => b.store.match(alice) !== undefined);
    t.diagnostic(`seen by B ${(performance.now() - started).toFixed(1)} ms after revoke was called`);
    assert.ok(b.events.some((event) => event.type === 'revoked' && event.entry.target.kind === 'subject'));
    assert.equal(b.store.match(token({ sub: 'bob' })), undefined, 'another subject is not revoked');

    await a.store.revoke({ kind: 'token', issuer: ISSUER, jti: 'j-2' });
    await eventually('B matches the jti', () => b.store.match(token({ jti: 'j-2' })) !== undefined);
    assert.equal(await b.store.unrevoke({ kind: 'subject', issuer: ISSUER, subject: 'alice' }), true);
    await eventually('A forgets alice', () => a.store.match(alice) === undefined);
    assert.ok(a.events.some((event) => event.type === 'unrevoked' && event.target.kind === 'subject'));
    assert.equal(await a.store.unrevoke({ kind: 'subject', issuer: ISSUER, subject: 'alice' }), false);
    assert.equal((await b.store.entries()).length, 1);
  });

  test('propagation A → B over 200 revokes (median and p99 reported; each within 5 s)', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const a = await storeOn(t, redis);
    const b = await storeOn(t, redis);
    const delays: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      const jti = `p-${i}`;
      const seen = new Promise<void>((resolve) => {
        const stop = b.store.subscribe((event) => {
          if (event.type === 'revoked' && 'jti' in event.entry.target && event.entry.target.jti === jti) {
            stop();
            resolve();
          }
        });
      });
      const started = performance.now();
      await a.store.revoke({ kind: 'token', issuer: ISSUER, jti });
      await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error(`${jti} not seen by B within 5 s`)), 5000).unref())]);
      delays.push(performance.now() - started);
    }
    delays.sort((x, y) => x - y);
    t.diagnostic(
      `revoke on A → revoked event on B: median ${delays[100]?.toFixed(2)} ms, p99 ${delays[197]?.toFixed(2)} ms, max ${delays[199]?.toFixed(2)} ms`,
    );
  });

  test('the fast path (matchLookup) answers as match does, and refuses while the list is not loaded', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await redis.kill();
    const { store } = await storeOn(t, redis, { timeout: 0.3 }, false);
    assert.ok(hasLookupMatch(store));
    const lookup = tokenLookup({ iss: ISSUER, jti: 'fast' }, 'tid-fast');
    assert.equal(
      codeOf(() => store[matchLookup](lookup)),
      'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
    );
    await redis.restart();
    await eventually('fresh', () => store.status().state === 'fresh', 20_000);
    assert.equal(store[matchLookup](lookup), undefined);
    await store.revoke({ kind: 'token', tokenId: 'tid-fast' });
    assert.equal(store[matchLookup](lookup)?.kind, 'token');
    assert.equal(store.match(token({ jti: 'other' }, 'tid-fast'))?.kind, 'token');
  });

  test('re-revoking merges (later before wins) and keeps one entry', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const a = await storeOn(t, redis);
    const admin = adminOn(t, redis);
    const later = new Date(Date.now() + 60_000);
    await a.store.revoke({ kind: 'client', issuer: ISSUER, clientId: 'web', before: later });
    const stored = await admin.revoke({ kind: 'client', issuer: ISSUER, clientId: 'web', before: new Date(Date.now() - 60_000) });
    assert.equal(stored.before?.getTime(), later.getTime());
    assert.equal((await admin.entries()).length, 1);
  });

  test('a NaN clock refuses, never admits a revoked token; a spread copy carries no fast path', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    let reading = Date.now();
    const { store } = await storeOn(t, redis, { clock: () => reading });
    await store.revoke({ kind: 'token', issuer: ISSUER, jti: 'nan-clock', expiresAt: new Date(Date.now() + 3_600_000) });
    assert.equal(store.match(token({ jti: 'nan-clock' }))?.kind, 'token');
    reading = Number.NaN;
    assert.ok(['ERR_AUTH_INTERNAL', 'ERR_AUTH_REVOCATIONS_UNAVAILABLE'].includes(String(codeOf(() => store.match(token({ jti: 'nan-clock' }))))));
    reading = Date.now();
    // A wrapper `{ ...store, match }` must be asked through its own match: the fast path is not copied.
    assert.equal(Object.getOwnPropertySymbols({ ...store }).includes(matchLookup), false);
    assert.equal(typeof (store as unknown as Record<symbol, unknown>)[matchLookup], 'function');
  });

  test('a steady stream of revocations never looks like a gap: no re-sync while every change arrives', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    // Heartbeats every 100 ms race the change messages: a head reply read on the command connection may be
    // older or newer than what the subscriber has applied. Neither is a lost message (each false "gap" was
    // a full reload, seconds at 100,000 entries, during which the replica applied no change).
    const readers = [await storeOn(t, redis, { heartbeat: 0.1 }), await storeOn(t, redis, { heartbeat: 0.1 })];
    const writer = await storeOn(t, redis, { heartbeat: 0.1 });
    const ends = Date.now() + 6000;
    let revokes = 0;
    while (Date.now() < ends) {
      const jti = `steady-${revokes}`;
      revokes += 1;
      await writer.store.revoke({ kind: 'token', issuer: ISSUER, jti, expiresAt: new Date(Date.now() + 3_600_000) });
      for (const reader of readers) await eventually(`reader has ${jti}`, () => reader.store.match(token({ jti })) !== undefined);
    }
    const gaps = readers.flatMap(({ events }) => events.filter((event) => event.type === 'synced' && event.reason === 'gap'));
    t.diagnostic(`${revokes} revocations, ${gaps.length} gap re-syncs`);
    assert.equal(gaps.length, 0);
    for (const reader of readers) assert.equal(reader.store.status().state, 'fresh');
  });

  test('a forged gap in the sequence → re-sync (reason gap)', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const b = await storeOn(t, redis);
    const admin = adminOn(t, redis);
    await admin.revoke({ kind: 'token', issuer: ISSUER, jti: 'j-gap' });
    await eventually('B has j-gap', () => b.store.match(token({ jti: 'j-gap' })) !== undefined);
    const epoch = /\$\d+\r\n(.*)\r\n/.exec(await redis.command('GET', `${HASH}:epoch`))?.[1] ?? '';
    const seq = Number(/:(\d+)/.exec(await redis.command('INCR', `${HASH}:seq`))?.[1]);
    await redis.command('PUBLISH', `${HASH}:changes`, JSON.stringify({ epoch, seq: seq + 1, op: 'del', id: JSON.stringify(['t', ISSUER, 'j-gap']) }));
    await eventually('a gap re-sync', () => b.events.some((event) => event.type === 'synced' && event.reason === 'gap'));
    assert.ok(b.store.match(token({ jti: 'j-gap' })) !== undefined, 'the forged delete was not applied: the list was reloaded instead');
  });

  test('subscriber connections killed (CLIENT KILL TYPE pubsub) → reconnect → re-sync', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const b = await storeOn(t, redis);
    await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await eventually('a reconnect re-sync', () => b.events.some((event) => event.type === 'synced' && event.reason === 'reconnect'));
    const admin = adminOn(t, redis);
    await admin.revoke({ kind: 'token', issuer: ISSUER, jti: 'after-kill' });
    await eventually('B follows changes again', () => b.store.match(token({ jti: 'after-kill' })) !== undefined);
  });

  test('a revocation written while B is disconnected is enforced after B reconnects', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const named = createClient({ url: redis.url, name: 'replica-b' });
    named.on('error', () => {});
    const b = await storeOn(t, redis, { client: named });
    assert.equal(b.store.status().source, `redis(client ${redis.url} prefix ${PREFIX})`);
    const admin = adminOn(t, redis);
    await admin.entries(); // connected before the kill
    const list = await redis.command('CLIENT', 'LIST');
    const ids = [...list.matchAll(/id=(\d+) [^\n]*name=replica-b /g)].map((match) => match[1] ?? '');
    assert.ok(ids.length >= 2, 'both connections of B are named after the user client');
    for (const id of ids) await redis.command('CLIENT', 'KILL', 'ID', id);
    await admin.revoke({ kind: 'subject', issuer: ISSUER, subject: 'mallory' });
    await eventually('B enforces the missed revocation', () => b.store.match(token({ sub: 'mallory' })) !== undefined);
    await b.store.close();
    assert.equal(named.isOpen, false, "the user's own client is never connected (only duplicated)");
  });

  test('slow writes (CLIENT PAUSE WRITE longer than timeout): revoke rejects UNAVAILABLE near the timeout; match keeps answering from memory', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const { store } = await storeOn(t, redis, { timeout: 0.3, heartbeat: 5 });
    await store.revoke({ kind: 'token', issuer: ISSUER, jti: 'before-pause' });
    await redis.command('CLIENT', 'PAUSE', '1500', 'WRITE');
    const started = performance.now();
    assert.equal(await rejection(store.revoke({ kind: 'token', issuer: ISSUER, jti: 'during-pause' })), 'ERR_AUTH_REVOCATIONS_UNAVAILABLE');
    const waited = performance.now() - started;
    t.diagnostic(`revoke rejected after ${waited.toFixed(0)} ms (timeout 300 ms, pause 1500 ms)`);
    assert.ok(waited < 1400, `${waited.toFixed(0)} ms`);
    // match is synchronous: it answers from the mirror while Redis holds every write.
    assert.equal(store.match(token({ jti: 'before-pause' }))?.kind, 'token');
    assert.equal(store.match(token({ jti: 'unrelated' })), undefined);
  });

  test('Redis hung (SIGSTOP): stale within 3 heartbeats (still enforcing) → expired after staleIfError (UNAVAILABLE) → resumed → fresh', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    t.after(() => redis.resume());
    const { store, events } = await storeOn(t, redis, { heartbeat: 0.2, timeout: 0.2, staleIfError: 2 });
    await store.revoke({ kind: 'token', issuer: ISSUER, jti: 'j-hung' });
    const revoked = token({ jti: 'j-hung' });
    redis.pause();
    const pausedAt = performance.now();
    const staleAfter = await eventually('stale', () => store.status().state === 'stale', 5000);
    t.diagnostic(`stale ${staleAfter.toFixed(0)} ms after SIGSTOP (heartbeat 200 ms)`);
    assert.ok(staleAfter < 3 * 200 + 400, `stale within about 3 heartbeats (${staleAfter.toFixed(0)} ms)`);
    assert.equal(store.match(revoked)?.kind, 'token', 'the last mirror is still enforced while stale');
    assert.equal(store.match(token({ jti: 'other' })), undefined, 'other tokens are admitted while stale');
    assert.ok(store.status().staleUntil instanceof Date);
    assert.ok(store.status().lastError !== undefined);
    assert.ok(events.some((event) => event.type === 'failed'));
    await eventually('expired', () => store.status().state === 'expired', 10_000);
    t.diagnostic(`expired ${(performance.now() - pausedAt).toFixed(0)} ms after SIGSTOP (staleIfError 2 s)`);
    assert.equal(
      codeOf(() => store.match(token({ jti: 'other' }))),
      'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
    );
    assert.equal(await rejection(store.revoke({ kind: 'token', issuer: ISSUER, jti: 'while-hung' })), 'ERR_AUTH_REVOCATIONS_UNAVAILABLE');
    redis.resume();
    await eventually('fresh again', () => store.status().state === 'fresh', 10_000);
    assert.equal(store.match(token({ jti: 'other' })), undefined);
    assert.equal(store.match(revoked)?.kind, 'token');
  });

  test('Redis killed and restarted empty → epoch absent → re-seeded; the revocation is still enforced on both', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const a = await storeOn(t, redis, { heartbeat: 0.2 });
    const b = await storeOn(t, redis, { heartbeat: 0.2 });
    await a.store.revoke({ kind: 'client', issuer: ISSUER, clientId: 'leaky-app' });
    const leaky = token({ azp: 'leaky-app' });
    await eventually('B has it', () => b.store.match(leaky) !== undefined);
    await redis.kill();
    await eventually('stale on A', () => a.store.status().state === 'stale', 5000);
    assert.equal(b.store.match(leaky)?.kind, 'client', 'enforced while Redis is down');
    const killedEvents = a.events.length;
    await redis.restart();
    const back = await eventually('both fresh', () => a.store.status().state === 'fresh' && b.store.status().state === 'fresh', 20_000);
    t.diagnostic(
      `both fresh ${back.toFixed(0)} ms after the restart; A's events since the kill: ${a.events
        .slice(killedEvents - 1)
        .map((event) => (event.type === 'synced' ? `synced(${event.reason})` : event.type))
        .join(', ')}`,
    );
    await eventually('Redis holds the entry again', () => [...a.events, ...b.events].some((event) => event.type === 'reseeded'), 10_000);
    assert.equal(a.store.match(leaky)?.kind, 'client');
    assert.equal(b.store.match(leaky)?.kind, 'client');
    const admin = adminOn(t, redis);
    assert.equal((await admin.entries()).length, 1, 'written back to Redis');
  });

  test('clear all (unrevoke --all) is adopted by every store, not re-seeded', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const a = await storeOn(t, redis);
    const b = await storeOn(t, redis);
    await a.store.revoke({ kind: 'subject', issuer: ISSUER, subject: 'carol' });
    await eventually('B has carol', () => b.store.match(token({ sub: 'carol' })) !== undefined);
    const admin = adminOn(t, redis);
    assert.equal(await admin.clearAll(), 1);
    await eventually('both cleared', () => a.store.status().entries === 0 && b.store.status().entries === 0);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a few heartbeats: nobody writes back
    assert.equal((await admin.entries()).length, 0);
    assert.ok(![...a.events, ...b.events].some((event) => event.type === 'reseeded'));
    assert.ok(b.events.some((event) => event.type === 'cleared' || (event.type === 'synced' && event.reason === 'epoch')));
    assert.equal(b.store.match(token({ sub: 'carol' })), undefined);
  });

  test('a list longer than maxEntries is not loaded (fail closed, never truncated)', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await fill(redis, 10);
    const { store } = await storeOn(t, redis, { maxEntries: 5, timeout: 0.5 }, false);
    assert.equal(await rejection(store.ready()), 'ERR_AUTH_REVOCATIONS_UNAVAILABLE');
    assert.equal(store.status().state, 'empty');
    assert.match(store.status().lastError ?? '', /maxEntries/);
    assert.equal(
      codeOf(() => store.match(token({}))),
      'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
    );
  });

  test('sweep removes expired entries from the hash and the zset, keeps live ones', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    const admin = adminOn(t, redis);
    await admin.revoke({ kind: 'token', issuer: ISSUER, jti: 'short', expiresAt: new Date(Date.now() + 1000) });
    await admin.revoke({ kind: 'token', issuer: ISSUER, jti: 'long', expiresAt: new Date(Date.now() + 3_600_000) });
    const later = adminOn(t, redis, () => Date.now() + 1000 + 300_000 + 1000);
    assert.equal(await later.sweep(), 1);
    assert.equal(await redis.command('HLEN', HASH), ':1\r\n');
    assert.equal(await redis.command('ZCARD', `${HASH}:expiry`), ':1\r\n');
    assert.deepEqual(
      (await admin.entries()).map((entry) => entry.target),
      [{ kind: 'token', issuer: ISSUER, jti: 'long' }],
    );
  });

  test('Redis down at start: ready() rejects within timeout, the store syncs later by itself', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await redis.kill();
    const { store } = await storeOn(t, redis, { timeout: 0.3 }, false);
    const started = performance.now();
    assert.equal(await rejection(store.ready()), 'ERR_AUTH_REVOCATIONS_UNAVAILABLE');
    t.diagnostic(`ready() rejected after ${(performance.now() - started).toFixed(0)} ms (timeout 300 ms)`);
    assert.ok(performance.now() - started < 3000);
    assert.equal(store.status().state, 'empty');
    assert.equal(
      codeOf(() => store.match(token({}))),
      'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
    );
    await redis.restart();
    await eventually('fresh', () => store.status().state === 'fresh', 20_000);
    await store.ready();
  });

  test('close() resolves within 2 s while Redis is hung', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    t.after(() => redis.resume());
    const { store } = await storeOn(t, redis, { heartbeat: 0.1 });
    redis.pause();
    await new Promise((resolve) => setTimeout(resolve, 500)); // heartbeats now wait on the hung sockets
    const started = performance.now();
    await store.close();
    const took = performance.now() - started;
    t.diagnostic(`close() took ${took.toFixed(0)} ms with Redis hung`);
    assert.ok(took < 2000, `${took.toFixed(0)} ms`);
  });

  test('status and errors never show the password', async (t) => {
    if (!redisAvailable(t)) return;
    const redis = await startRedisServer();
    await redis.command('CONFIG', 'SET', 'requirepass', 'pa55-word-x');
    const good = createRedisRevocationStore({ url: `redis://default:pa55-word-x@127.0.0.1:${redis.port}`, prefix: PREFIX });
    t.after(() => good.close());
    await good.ready();
    assert.equal(good.status().source, `redis(redis://default:***@127.0.0.1:${redis.port} prefix ${PREFIX})`);
    const bad = createRedisRevocationStore({ url: `redis://default:wrong-pa55@127.0.0.1:${redis.port}`, prefix: PREFIX, timeout: 0.3 });
    t.after(() => bad.close());
    const failure = await bad.ready().then(
      () => assert.fail('a wrong password must not load'),
      (error: unknown) => error as Error,
    );
    for (const text of [JSON.stringify(good.status()), JSON.stringify(bad.status()), failure.message]) {
      assert.ok(!text.includes('pa55-word-x') && !text.includes('wrong-pa55'), text);
    }
  });

  test('bad options → AuthConfigError naming the option', () => {
    const url = 'redis://127.0.0.1:6379';
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'url'],
      [{ url, client: createClient({ url }) }, 'client'],
      [{ url: 'https://127.0.0.1:6379' }, 'url'],
      [{ url, prefix: 'has space' }, 'prefix'],
      [{ url, prefix: '' }, 'prefix'],
      [{ url, timeout: 0.0001 }, 'timeout'],
      [{ url, heartbeat: 0.05 }, 'heartbeat'],
      [{ url, staleIfError: -1 }, 'staleIfError'],
      [{ url, maxTokenLifetime: 10 }, 'maxTokenLifetime'],
      [{ url, maxEntries: 0 }, 'maxEntries'],
      [{ url, clock: 5 }, 'clock'],
      [{ url, onEvent: 'log' }, 'onEvent'],
      [{ url, mirror: false }, 'mirror'],
    ];
    for (const [options, option] of cases) {
      assert.throws(
        () => createRedisRevocationStore(options as never),
        (error: unknown) => error instanceof AuthConfigError && error.option === option,
        JSON.stringify(Object.keys(options)),
      );
    }
  });
});
