/**
 * Many replicas, one Redis: a revocation made on one replica is enforced by every replica within
 * milliseconds, and the per-call check never waits on Redis (each replica keeps a mirror of the list in
 * memory). Then Redis is killed: the replicas keep serving and keep refusing the revoked token; Redis
 * comes back empty: the replicas write the list back and sync again, with no restart.
 *
 * Three replicas run in this one process (three gRPC servers, each with its own store and connections),
 * and a throw-away redis-server is started on a free loopback port (or REDIS_URL is used, and then Redis
 * is not killed). Exits 0 when every step behaved as shown.
 * Run: node --import tsx examples/replicas/main.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { RevocationEvent } from 'grpc-jwt-auth';
import { createTestIssuer } from 'grpc-jwt-auth/testing';
import { hasRedisServer, startLocalRedis, type LocalRedis } from './local-redis.ts';
import { startReplica, type Replica } from './replica.ts';

let redis: LocalRedis | undefined;
let redisUrl = process.env.REDIS_URL;
if (redisUrl === undefined) {
  if (!hasRedisServer()) {
    console.log('redis-server is not installed: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)');
    console.log('or point REDIS_URL at a Redis you may write to, and run this again.');
    // CI sets GRPC_JWT_AUTH_REQUIRE_REDIS=1: there a missing Redis is a failure, never a skip.
    if (process.env.GRPC_JWT_AUTH_REQUIRE_REDIS === '1') {
      console.error('failed: GRPC_JWT_AUTH_REQUIRE_REDIS=1 and redis-server is missing');
      process.exit(1);
    }
    console.log('skipped: examples/replicas needs redis-server');
    process.exit(0);
  }
  redis = await startLocalRedis();
  redisUrl = redis.url;
}
// With your own Redis: keys of this run only, under a prefix of their own.
const prefix = redis === undefined ? `replicas-example-${randomBytes(4).toString('hex')}` : 'grpc-jwt-auth';

const idp = await createTestIssuer({ alg: 'ES256', audience: 'orders-api' });
const replicas: Replica[] = [];
for (const name of ['replica 1', 'replica 2', 'replica 3'])
  replicas.push(await startReplica({ name, redisUrl, prefix, keys: idp.keys, issuer: idp.issuer, audience: 'orders-api' }));
const [first, second, third] = replicas as [Replica, Replica, Replica];

// Two tokens of alice, each with its own `jti`: one leaks and is revoked, the other must keep working.
const leakedJti = randomUUID();
const leaked = await idp.sign({ sub: 'alice', jti: leakedJti });
const other = await idp.sign({ sub: 'alice', jti: randomUUID() });
const leakedExpiresAt = new Date(JSON.parse(Buffer.from(leaked.split('.')[1] as string, 'base64url').toString()).exp * 1000);

// --- how the steps print and what decides the exit code --------------------------------------------------
const INDENT = '   ';
let stepNumber = 0;
let failed = 0;
const unmet: string[] = [];
const show = (text: string) => console.log(`${INDENT}${text}`);
function step(title: string, ...explanation: string[]): void {
  console.log(`\n${++stepNumber}. ${title}`);
  for (const line of explanation) show(line);
}
function expect(condition: boolean, expectation: string): void {
  if (!condition) unmet.push(expectation);
}
function verdict(): void {
  if (unmet.length === 0) show('✔ as expected');
  for (const expectation of unmet.splice(0)) {
    show(`✘ expected: ${expectation}`);
    failed += 1;
  }
}
/** Calls every replica with `token`, prints the outcomes on one line, and checks each against `expected`. */
async function callAll(label: string, token: string, expected: string): Promise<void> {
  const outcomes = await Promise.all(replicas.map((replica) => replica.call(token)));
  show(`${label.padEnd(22)} ${outcomes.map((outcome, i) => `${i + 1}: ${outcome}`).join(' | ')}`);
  outcomes.forEach((outcome, i) => expect(outcome === expected, `${label} on replica ${i + 1} → ${expected} (got ${outcome})`));
}
const stateOf = (replica: Replica) => replica.auth.status().revocations?.state;
/** Polls until `condition` holds (every 20 ms), or `seconds` pass; resolves whether it held. */
async function until(condition: () => boolean, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
/** `promise`'s values, or none when `seconds` pass first (the timer never outlives the wait). */
async function within(promise: Promise<number[]>, seconds: number): Promise<number[]> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<number[]>((resolve) => (timer = setTimeout(() => resolve([]), seconds * 1000)));
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}
const events: Array<{ replica: string; event: RevocationEvent }> = [];
for (const replica of replicas) replica.auth.revocations.subscribe?.((event) => events.push({ replica: replica.name, event }));

try {
  step('A token works on every replica', 'Each replica loaded the revocation list from Redis at start (auth.ready()); it is empty.');
  show(`Redis: ${first.auth.status().revocations?.source}`);
  await callAll("alice's leaked token", leaked, 'OK');
  await callAll("alice's other token", other, 'OK');
  verdict();

  step(
    'Revoke the leaked token on replica 1: replicas 2 and 3 refuse it too',
    'auth.revocations.revoke() writes to Redis and publishes the change; every replica applies it to its',
    'in-memory mirror. The per-call check is a map lookup: Redis is never on the call path.',
  );
  const revokedEvent = (replica: Replica) =>
    new Promise<number>((resolve) => {
      const stop = replica.auth.revocations.subscribe?.((event) => {
        if (event.type === 'revoked' && 'jti' in event.entry.target && event.entry.target.jti === leakedJti) {
          stop?.();
          resolve(performance.now());
        }
      });
    });
  const seen = Promise.all([revokedEvent(second), revokedEvent(third)]);
  const start = performance.now();
  await first.auth.revocations.revoke({ kind: 'token', issuer: idp.issuer, jti: leakedJti, expiresAt: leakedExpiresAt });
  const written = performance.now() - start;
  const delays = (await within(seen, 5)).map((time) => time - start);
  show(`revoke() on replica 1 resolved after ${written.toFixed(1)} ms (written to Redis, applied locally)`);
  expect(delays.length === 2, 'replicas 2 and 3 apply the revocation within 5 s');
  if (delays.length === 2) show(`applied on replica 2 after ${delays[0]?.toFixed(1)} ms, on replica 3 after ${delays[1]?.toFixed(1)} ms`);
  await callAll("alice's leaked token", leaked, 'UNAUTHENTICATED TOKEN_REVOKED');
  await callAll("alice's other token", other, 'OK');
  verdict();

  if (redis === undefined) {
    console.log(`\nREDIS_URL is set: your Redis is not killed, the outage steps are skipped. The revocation was removed;`);
    console.log(`the prefix ${prefix} keeps two small keys (its epoch and change counter).`);
    await first.auth.revocations.unrevoke({ kind: 'token', issuer: idp.issuer, jti: leakedJti });
  } else {
    step(
      'Redis is killed: the replicas keep serving, and keep refusing the revoked token',
      'Each replica enforces its last synced list for staleIfError (60 s here, default 300 s), then refuses',
      'every call with a token (UNAVAILABLE REVOCATIONS_UNAVAILABLE) until it syncs again. While Redis is',
      'down for everyone nobody can revoke, so the last list is complete; a revoke() fails loudly.',
    );
    await redis.kill();
    const stale = await until(() => replicas.every((replica) => stateOf(replica) === 'stale'), 5);
    expect(stale, 'every replica reports state stale within 5 s');
    const status = second.auth.status();
    const staleFor = ((status.revocations?.staleUntil?.getTime() ?? Date.now()) - Date.now()) / 1000;
    show(`auth.status().revocations: ${replicas.map((replica, i) => `${i + 1}: ${stateOf(replica)}`).join(', ')}; enforced ${staleFor.toFixed(0)} s more`);
    show(`last error: ${status.revocations?.lastError}; serving: ${status.serving}`);
    expect(status.serving, 'a stale list still serves');
    await callAll("alice's leaked token", leaked, 'UNAUTHENTICATED TOKEN_REVOKED');
    await callAll("alice's other token", other, 'OK');
    const refused = await first.auth.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'bob' }).then(
      () => 'stored',
      (error: { code?: string }) => error.code ?? String(error),
    );
    show(`a new revoke() while Redis is down: ${refused}`);
    expect(refused === 'ERR_AUTH_REVOCATIONS_UNAVAILABLE', 'revoke() rejects with ERR_AUTH_REVOCATIONS_UNAVAILABLE');
    verdict();

    step(
      'Redis comes back empty (no persistence): the replicas write the list back and sync',
      'Each replica reconnects by itself, finds the list gone (its epoch key is missing), writes its own',
      'entries back and loads the list again. No restart. (Run Redis with AOF or a replica all the same:',
      'if every replica restarted while Redis was empty, the list would be lost.)',
    );
    events.length = 0;
    const restartedAt = performance.now();
    await redis.restart();
    const fresh = await until(() => replicas.every((replica) => stateOf(replica) === 'fresh'), 15);
    expect(fresh, 'every replica reports state fresh again within 15 s');
    show(`all replicas fresh ${((performance.now() - restartedAt) / 1000).toFixed(1)} s after the restart`);
    const reseeded = events.filter(({ event }) => event.type === 'reseeded');
    const synced = events.filter(({ event }) => event.type === 'synced');
    show(`events: ${reseeded.length} reseeded (${reseeded.map(({ replica }) => replica).join(', ') || 'none'}), ${synced.length} synced`);
    expect(reseeded.length > 0, 'a replica writes the list back (a reseeded event)');
    const inRedis = await third.auth.revocations.entries?.();
    show(`entries in Redis again: ${inRedis?.length}`);
    expect(inRedis?.length === 1, 'Redis holds the revocation again');
    await callAll("alice's leaked token", leaked, 'UNAUTHENTICATED TOKEN_REVOKED');
    await callAll("alice's other token", other, 'OK');
    verdict();
  }
} finally {
  await Promise.all(replicas.map((replica) => replica.close()));
  await redis?.stop();
}
if (failed > 0) {
  console.log(`\n${failed} expectation(s) not met`);
  process.exitCode = 1;
}
