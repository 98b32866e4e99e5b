/**
 * What revocations cost (issue 15), measured in one process against a redis-server it starts itself:
 * - the interceptor's cached-token path (no network, driven as grpc-js drives it, like
 *   interceptor-path.ts), CPU ns per admitted call: the default (no `revocations` option: an empty
 *   in-memory store), an explicit empty memory store, a memory store of 100,000 entries, and a Redis
 *   store whose mirror holds 100,000 entries; each against the default measured in the same run;
 * - 100,000 revocations in Redis: time to write them, time for a new store to load them (`ready()`),
 *   Redis `used_memory` and the Node heap of the mirror;
 * - propagation: 1,000 revocations made on one store, the delay until each of two other stores has
 *   applied it (its `revoked` event); the three stores live in this one process (one event loop serves
 *   all three: a pessimistic figure next to separate processes);
 * - the Redis replay store's `add` (SET NX PX) on loopback: wall µs per add, one at a time, and CPU µs.
 * Without redis-server the Redis parts are skipped (said on stderr). Run by `npm run bench` (the
 * `revocations` entry of bench/results/latest.json), alone by `npm run bench -- revocations`, or by
 * hand, printing one JSON object:
 *
 *   node --expose-gc --import tsx bench/revocations.ts
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { SignJWT } from 'jose';
import { hasRedisServer, startLocalRedis, type LocalRedis } from '../examples/replicas/local-redis.ts';
import { underTest } from './library.ts';
import { AUDIENCE, ISSUER, makeFixture } from './fixtures.ts';
import { prime, timeCalls } from './interceptor-path.ts';
import type * as grpc from '@grpc/grpc-js';

const { createAuthInterceptor, createMemoryRevocationStore, createRedisRevocationStore, createRedisReplayStore, fromSecret } = underTest;
type Store = ReturnType<typeof createMemoryRevocationStore>;

const ENTRIES = Number(process.env.BENCH_REVOCATION_ENTRIES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_REVOCATION_ROUNDS ?? 7);
const ITERATIONS = Number(process.env.BENCH_REVOCATION_ITERATIONS ?? 30_000);
const PROPAGATIONS = Number(process.env.BENCH_REVOCATION_PROPAGATIONS ?? 1000);
const REPLAY_ADDS = Number(process.env.BENCH_REVOCATION_REPLAY_ADDS ?? 5000);

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (bytes: number) => bytes / 2 ** 20;
const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);
const quantile = (values: readonly number[], q: number) => sorted(values)[Math.min(values.length - 1, Math.floor(values.length * q))] as number;
const log = (text: string) => process.stderr.write(`revocations: ${text}\n`);

/** A token that exercises every lookup: `iss`, `jti`, `sub`, `azp` (and its tokenId). */
async function benchToken(secret: Uint8Array): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'bench-user', azp: 'bench-client', jti: 'bench-token' })
    .setProtectedHeader({ alg: 'HS256', kid: 'bench-key' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(secret);
}

/** Revokes `count` distinct tokens of ISSUER (uuid `jti`s, like an IdP's) in a store, 1,000 at a time. */
async function fill(store: Store, count: number): Promise<void> {
  const expiresAt = new Date(Date.now() + 3600_000);
  for (let done = 0; done < count;) {
    const batch = Math.min(1000, count - done);
    await Promise.all(Array.from({ length: batch }, () => store.revoke({ kind: 'token', issuer: ISSUER, jti: randomUUID(), expiresAt })));
    done += batch;
  }
}

/** CPU ns per cached call for each setting, medians of interleaved rounds, and each against the first. */
async function cachedPath(settings: Record<string, Store | undefined>): Promise<Record<string, number>> {
  const fixture = makeFixture('HS256');
  const secret = fixture.publicKey as Uint8Array;
  const token = await benchToken(secret);
  const interceptors = Object.entries(settings).map(([name, revocations]): [string, grpc.ServerInterceptor] => [
    name,
    createAuthInterceptor({
      keys: fromSecret({ 'bench-key': secret }),
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      telemetry: false,
      ...(revocations === undefined ? {} : { revocations }),
    }),
  ]);
  for (const [, interceptor] of interceptors) await prime(interceptor, token);
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < interceptors.length; i++) {
      const [name, interceptor] = interceptors[(round + i) % interceptors.length] as [string, grpc.ServerInterceptor];
      gc?.();
      (samples[name] ??= []).push(timeCalls(interceptor, token, ITERATIONS));
    }
  }
  const medians = Object.entries(samples).map(([name, values]) => [name, quantile(values, 0.5)] as const);
  const baseline = medians[0]?.[1] as number;
  return Object.fromEntries(
    medians.flatMap(([name, ns]) => [
      [`${name} (CPU ns/call)`, ns],
      [`${name} (× default)`, ns / baseline],
    ]),
  );
}

/** A plain node-redis connection for what the bench does behind the stores' backs (INFO, the bulk fill). */
async function rawRedis(url: string) {
  const { createClient } = createRequire(import.meta.url)('redis') as typeof import('redis');
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Redis' own figure for the memory it holds (`INFO memory`). */
async function usedMemory(url: string): Promise<number> {
  const client = await rawRedis(url);
  const info = String(await client.sendCommand(['INFO', 'memory']));
  client.destroy();
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

/**
 * Writes `count` token revocations straight into the list's hash and expiry set (the data model of the
 * README's "What Redis holds"), 1,000 per command: a `revoke()` each would take the bench's whole time
 * budget on a shared 2-core machine, and the figure wanted is the load, not the writes. The store that
 * loads them must count exactly `count`, which checks the format.
 */
async function bulkFill(url: string, count: number): Promise<void> {
  const client = await rawRedis(url);
  const hash = '{grpc-jwt-auth}:revocations';
  const until = Date.now() + 3600_000 + 300_000;
  for (let done = 0; done < count; done += 1000) {
    const ids = Array.from({ length: Math.min(1000, count - done) }, () => JSON.stringify(['t', ISSUER, randomUUID()]));
    await client.sendCommand(['HSET', hash, ...ids.flatMap((id) => [id, `{"until":${until}}`])]);
    await client.sendCommand(['ZADD', `${hash}:expiry`, ...ids.flatMap((id) => [String(until), id])]);
  }
  client.destroy();
}

/** `promise`'s value, or undefined when `ms` pass first (the timer never outlives the wait). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Time from `revoke` on `writer` until each reader applied it, for `count` revocations one after another. */
async function propagation(writer: Store, readers: readonly Store[], count: number) {
  const each: number[] = [];
  const all: number[] = [];
  const roundTrips: number[] = [];
  const waiting = new Map<string, (at: number) => void>();
  // A reader that re-syncs (reloads the whole list) applies the changes made meanwhile only after it.
  const resyncs: string[] = [];
  const stops = readers.map((reader, index) =>
    reader.subscribe((event) => {
      if (event.type === 'revoked' && 'jti' in event.entry.target) waiting.get(`${index} ${event.entry.target.jti}`)?.(performance.now());
      if (event.type === 'synced') resyncs.push(`${event.reason} ${event.ms} ms`);
    }),
  );
  const expiresAt = new Date(Date.now() + 3600_000);
  for (let i = 0; i < count; i++) {
    const jti = randomUUID();
    const applied = readers.map((_, index) => new Promise<number>((resolve) => waiting.set(`${index} ${jti}`, resolve)));
    const start = performance.now();
    await writer.revoke({ kind: 'token', issuer: ISSUER, jti, expiresAt });
    roundTrips.push(performance.now() - start);
    const times = await within(Promise.all(applied), 15_000);
    for (let index = 0; index < readers.length; index++) waiting.delete(`${index} ${jti}`);
    if (times === undefined) throw new Error(`revocation ${i} not applied by every reader within 15 s`);
    const delays = times.map((time) => time - start);
    each.push(...delays);
    all.push(Math.max(...delays));
  }
  for (const stop of stops) stop();
  return {
    'revocations measured': count,
    'applied in one other store, median (ms)': quantile(each, 0.5),
    'applied in one other store, p99 (ms)': quantile(each, 0.99),
    'applied in one other store, max (ms)': quantile(each, 1),
    'applied in both other stores, median (ms)': quantile(all, 0.5),
    'applied in both other stores, p99 (ms)': quantile(all, 0.99),
    'revoke() round trip on the writer, median (ms)': quantile(roundTrips, 0.5),
    're-syncs of a reader during the run': resyncs.length,
    ...(resyncs.length === 0 ? {} : { 're-syncs (reason, time)': resyncs.join(', ') }),
  };
}

/** Wall µs per `add` (one at a time, each a fresh key) and CPU µs per add. */
async function replayAdds(url: string, count: number) {
  const store = createRedisReplayStore({ url });
  await store.ready();
  const expiresAt = () => new Date(Date.now() + 70_000);
  for (let i = 0; i < 200; i++) await store.add(`bench:warm:${i}:${randomUUID()}`, expiresAt());
  const keys = Array.from({ length: count }, () => `dpop:bench:${randomUUID()}`);
  const walls: number[] = [];
  const cpu = process.cpuUsage();
  for (const key of keys) {
    const start = performance.now();
    if (!(await store.add(key, expiresAt()))) throw new Error('a fresh replay key was refused');
    walls.push((performance.now() - start) * 1000);
  }
  const used = process.cpuUsage(cpu);
  // The same key again: refused, one round trip too.
  const replayed = await store.add(keys[0] as string, expiresAt());
  await store.close();
  if (replayed) throw new Error('a replayed key was admitted');
  return {
    'adds measured': count,
    'add, wall median (µs)': quantile(walls, 0.5),
    'add, wall p99 (µs)': quantile(walls, 0.99),
    'add, CPU (µs)': (used.user + used.system) / count,
  };
}

/** The Redis figures, and the loaded store (its mirror holds ENTRIES) for the cached-path run; the caller closes it. */
async function redisParts(redis: LocalRedis) {
  const stores: Store[] = [];
  const open = () => {
    const store = createRedisRevocationStore({ url: redis.url, maxEntries: ENTRIES * 2 });
    stores.push(store);
    return store;
  };
  let reader: Store | undefined;
  try {
    const memoryBefore = await usedMemory(redis.url);
    // A first store gives the (empty) list its epoch, as the first replica does; closed before the fill.
    const first = open();
    await first.ready();
    await first.close();
    log(`writing ${ENTRIES} revocations to Redis...`);
    await bulkFill(redis.url, ENTRIES);
    const memoryAfter = await usedMemory(redis.url);

    log('loading them into a new store...');
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const loadStart = performance.now();
    const loaded = open();
    await loaded.ready();
    const loadMs = performance.now() - loadStart;
    gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    if (loaded.status().entries !== ENTRIES) throw new Error(`the new store loaded ${loaded.status().entries} entries, not ${ENTRIES}`);
    const sizes = {
      entries: ENTRIES,
      'load them into a new store (ready()) (ms)': loadMs,
      'Redis used_memory (MiB)': mib(memoryAfter - memoryBefore),
      'Node heap of the mirror (MiB)': mib(heapAfter - heapBefore),
    };

    log(`propagation of ${PROPAGATIONS} revocations to 2 other stores...`);
    const [writer, third] = [open(), open()];
    await Promise.all([writer.ready(), third.ready()]);
    const propagated = await propagation(writer, [loaded, third], PROPAGATIONS);
    log('replay store...');
    const replay = await replayAdds(redis.url, REPLAY_ADDS);
    reader = loaded;
    return { figures: { sizes, propagation: propagated, replay }, reader: loaded };
  } finally {
    await Promise.all(stores.filter((store) => store !== reader).map((store) => store.close()));
  }
}

async function main() {
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const memoryFull = createMemoryRevocationStore({ maxEntries: ENTRIES * 2 });
  await fill(memoryFull, ENTRIES);
  gc?.();
  const memoryStoreHeapMiB = mib(process.memoryUsage().heapUsed - heapBefore);
  let redis: LocalRedis | undefined;
  let reader: Store | undefined;
  try {
    let redisFigures: Record<string, unknown> | string = 'skipped: redis-server not installed';
    if (hasRedisServer()) {
      redis = await startLocalRedis();
      ({ figures: redisFigures, reader } = await redisParts(redis));
    } else {
      log('skipped the Redis parts: redis-server is not installed (apt-get install redis-server)');
    }
    log('cached path...');
    const cached = await cachedPath({
      'default (no revocations option)': undefined,
      'memory store, empty': createMemoryRevocationStore(),
      [`memory store, ${ENTRIES} entries`]: memoryFull,
      ...(reader === undefined ? {} : { [`Redis store, mirror of ${ENTRIES} entries`]: reader }),
    });
    return {
      cachedPath: cached,
      memoryStore: { entries: ENTRIES, 'Node heap (MiB)': memoryStoreHeapMiB },
      redis: redisFigures,
      settings: { entries: ENTRIES, rounds: ROUNDS, iterations: ITERATIONS, propagations: PROPAGATIONS, replayAdds: REPLAY_ADDS },
    };
  } finally {
    await reader?.close();
    await redis?.stop();
  }
}

process.stdout.write(JSON.stringify(await main()));
