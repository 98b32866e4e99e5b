/**
 * `grpc-jwt-auth revoke` / `unrevoke` against a real redis-server: each target form stores the entry the
 * servers match (read back through a Redis revocation store, as a replica sees it), `--token` reads the
 * token's own iss/jti/exp (or its tokenId, the same a server computes), listing, removal, and the exit
 * codes: 1 for a Redis that is down or hung (bounded by --timeout, the URL's password never printed),
 * 2 for usage mistakes (before any connection).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, createRedisRevocationStore, type RevocationEntry } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { cli, cliProcess } from '../support/cli.ts';
import { freePort, hasRedisServer, redisAvailable, type RedisServer, startRedisServer } from '../support/redis-server.ts';

const ISSUER = 'https://idp.example/';
const GRACE_MS = 300_000;

/** Every entry under `prefix`, as a replica's store loads it. */
async function entriesUnder(redis: RedisServer, prefix: string): Promise<readonly RevocationEntry[]> {
  const store = createRedisRevocationStore({ url: redis.url, prefix, timeout: 5 });
  try {
    await store.ready();
    return await store.entries();
  } finally {
    await store.close();
  }
}

/** The one entry stored under `prefix`. */
async function onlyEntry(redis: RedisServer, prefix: string): Promise<RevocationEntry> {
  const entries = await entriesUnder(redis, prefix);
  assert.equal(entries.length, 1, JSON.stringify(entries));
  return entries[0] as RevocationEntry;
}

// At the top level, not in `before`: the helper's `after()` cleanup would run as soon as a `before` hook ends.
const redis = (hasRedisServer() ? await startRedisServer() : undefined) as RedisServer;
const idp: TestIssuer = await createTestIssuer({ alg: 'ES256', issuer: ISSUER });

describe('CLI revoke / unrevoke against Redis', { timeout: 90_000 }, () => {
  let prefixCount = 0;
  /** A fresh prefix per case: cases never see each other's entries. */
  const prefix = (): string => `cli-test-${++prefixCount}`;
  const withRedis = (...args: string[]): string[] => [...args, '--redis', redis.url];

  it('--issuer --jti --expires <ISO> → a token entry by iss + jti, forgotten 300 s after the expiry', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const run = await cli(withRedis('revoke', '--issuer', ISSUER, '--jti', 'j-1', '--expires', '2030-01-01T00:00:00Z', '--prefix', p));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^revoked$/m);
    const entry = await onlyEntry(redis, p);
    assert.deepEqual(entry.target, { kind: 'token', issuer: ISSUER, jti: 'j-1' });
    assert.equal(entry.forgetAt.getTime(), Date.parse('2030-01-01T00:00:00Z') + GRACE_MS);
  });

  it('--token-id with no --expires → kept for --max-token-lifetime (+ 300 s); --expires +seconds is relative', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const started = Date.now();
    const run = await cli(withRedis('revoke', '--token-id', 'tid-abc', '--max-token-lifetime', '600', '--prefix', p));
    assert.equal(run.code, 0, run.stderr);
    const entry = await onlyEntry(redis, p);
    assert.deepEqual(entry.target, { kind: 'token', tokenId: 'tid-abc' });
    const forget = entry.forgetAt.getTime();
    assert.ok(forget >= started + 600_000 + GRACE_MS - 1000 && forget <= Date.now() + 600_000 + GRACE_MS + 1000, entry.forgetAt.toISOString());

    const q = prefix();
    assert.equal((await cli(withRedis('revoke', '--token-id', 'tid-def', '--expires', '+120', '--prefix', q))).code, 0);
    const relative = (await onlyEntry(redis, q)).forgetAt.getTime() - Date.now();
    assert.ok(relative > 120_000 + GRACE_MS - 5000 && relative <= 120_000 + GRACE_MS, String(relative));
  });

  it('--token <jwt> with a jti → iss + jti and the token exp, read without verifying', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const token = await idp.sign({ jti: 'leaked-1', sub: 'alice' }, { expiresIn: 900 });
    const exp = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp as number;
    const run = await cli(withRedis('revoke', '--token', token, '--prefix', p));
    assert.equal(run.code, 0, run.stderr);
    const entry = await onlyEntry(redis, p);
    assert.deepEqual(entry.target, { kind: 'token', issuer: ISSUER, jti: 'leaked-1' });
    assert.equal(entry.forgetAt.getTime(), exp * 1000 + GRACE_MS);
    assert.ok(!run.stdout.includes(token), 'the token is never printed');
  });

  it('--token - (stdin, a pasted "Bearer ...") without jti → the tokenId a server computes for it', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const token = await idp.sign({ sub: 'bob' });
    const run = await cli(withRedis('revoke', '--token', '-', '--prefix', p), `Bearer ${token}\n`);
    assert.equal(run.code, 0, run.stderr);
    const verified = await createAuthenticator({ keys: idp.keys, algorithms: ['ES256'], issuer: ISSUER, audience: idp.audience }).authenticate(
      token,
      '/test.echo.v1.Echo/Unary',
    );
    const entry = await onlyEntry(redis, p);
    assert.deepEqual(entry.target, { kind: 'token', tokenId: verified.context.tokenId });
  });

  it('--issuer --subject --before <ISO> → a subject watermark; revoking again keeps the later before (one entry), and prints what Redis holds', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const later = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString();
    const earlier = new Date(Date.parse(later) - 3_600_000).toISOString();
    assert.equal((await cli(withRedis('revoke', '--issuer', ISSUER, '--subject', 'alice', '--before', later, '--prefix', p))).code, 0);
    const again = await cli(withRedis('revoke', '--issuer', ISSUER, '--subject', 'alice', '--before', earlier, '--prefix', p, '--json'));
    assert.equal(again.code, 0, again.stderr);
    // It prints what Redis holds after the merge, not what it was asked.
    assert.equal((JSON.parse(again.stdout) as Array<{ before: string }>)[0]?.before, later);
    const entry = await onlyEntry(redis, p);
    assert.deepEqual(entry.target, { kind: 'subject', issuer: ISSUER, subject: 'alice' });
    assert.equal(entry.before?.toISOString(), later);
    assert.equal(entry.forgetAt.getTime(), Date.parse(later) + 86_400_000 + GRACE_MS);
  });

  it('--issuer --client with no --before → a client watermark at now; REDIS_URL is used when --redis is absent', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const started = Date.now();
    process.env.REDIS_URL = redis.url;
    let run;
    try {
      run = await cli(['revoke', '--issuer', ISSUER, '--client', 'web-app', '--prefix', p]);
    } finally {
      delete process.env.REDIS_URL;
    }
    assert.equal(run.code, 0, run.stderr);
    const entry = await onlyEntry(redis, p);
    assert.deepEqual(entry.target, { kind: 'client', issuer: ISSUER, clientId: 'web-app' });
    const before = entry.before?.getTime() ?? 0;
    assert.ok(before >= started && before <= Date.now(), entry.before?.toISOString());
  });

  it('--list --json lists every entry; --list prints the count; unrevoke removes one, then says there was nothing', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    for (const args of [
      ['--issuer', ISSUER, '--jti', 'a'],
      ['--issuer', ISSUER, '--subject', 'carol'],
      ['--issuer', '', '--client', 'no-iss-client'],
    ]) {
      const run = await cli(withRedis('revoke', ...args, '--prefix', p));
      assert.equal(run.code, 0, run.stderr);
    }
    const listed = await cli(withRedis('revoke', '--list', '--json', '--prefix', p));
    assert.equal(listed.code, 0, listed.stderr);
    const entries = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      entries
        .map(({ kind, issuer, jti, subject, clientId }) => ({ kind, issuer, jti, subject, clientId }))
        .sort((a, b) => String(a.kind).localeCompare(String(b.kind))),
      [
        { kind: 'client', issuer: '', jti: undefined, subject: undefined, clientId: 'no-iss-client' },
        { kind: 'subject', issuer: ISSUER, jti: undefined, subject: 'carol', clientId: undefined },
        { kind: 'token', issuer: ISSUER, jti: 'a', subject: undefined, clientId: undefined },
      ],
    );
    for (const entry of entries) assert.ok(!Number.isNaN(Date.parse(String(entry.forgetAt))));
    assert.match((await cli(withRedis('revoke', '--list', '--prefix', p))).stdout, /^3 revocations$/m);

    const removed = await cli(withRedis('unrevoke', '--issuer', ISSUER, '--subject', 'carol', '--prefix', p));
    assert.deepEqual([removed.code, /^unrevoked$/m.test(removed.stdout)], [0, true]);
    assert.equal((await entriesUnder(redis, p)).length, 2);
    const again = await cli(withRedis('unrevoke', '--issuer', ISSUER, '--subject', 'carol', '--prefix', p, '--json'));
    assert.equal(again.code, 0);
    assert.equal((JSON.parse(again.stdout) as { removed: boolean }).removed, false);
  });

  it('unrevoke --all needs --yes (exit 2, nothing removed); with it every entry under the prefix is gone, other prefixes kept', async (t) => {
    if (!redisAvailable(t)) return;
    const [p, other] = [prefix(), prefix()];
    assert.equal((await cli(withRedis('revoke', '--issuer', ISSUER, '--jti', 'x', '--prefix', p))).code, 0);
    assert.equal((await cli(withRedis('revoke', '--issuer', ISSUER, '--jti', 'y', '--prefix', other))).code, 0);
    const refused = await cli(withRedis('unrevoke', '--all', '--prefix', p));
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal((await entriesUnder(redis, p)).length, 1);
    const cleared = await cli(withRedis('unrevoke', '--all', '--yes', '--prefix', p));
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal((await entriesUnder(redis, p)).length, 0);
    assert.equal((await entriesUnder(redis, other)).length, 1);
  });

  it('Redis down → exit 1 within --timeout, and the URL password is never printed', async (t) => {
    if (!redisAvailable(t)) return;
    const url = `redis://admin:s3cret-pw@127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const run = await cli(['revoke', '--redis', url, '--issuer', ISSUER, '--jti', 'j', '--timeout', '0.5']);
    const took = Date.now() - started;
    assert.equal(run.code, 1, run.stdout);
    assert.ok(took < 5000, `took ${took} ms`);
    assert.ok(!`${run.stdout}${run.stderr}`.includes('s3cret-pw'), run.stderr);
    t.diagnostic(`down: exit 1 after ${took} ms: ${run.stderr.trim()}`);
  });

  it('Redis hung (SIGSTOP) → exit 1 within about --timeout; the process exits by itself (nothing keeps it alive)', async (t) => {
    if (!redisAvailable(t)) return;
    const hung = await startRedisServer();
    hung.pause();
    try {
      const url = hung.url.replace('redis://', 'redis://:hung-pw@');
      const started = Date.now();
      const run = await cliProcess(['revoke', '--redis', url, '--issuer', ISSUER, '--subject', 's', '--timeout', '0.5']);
      const took = Date.now() - started;
      assert.equal(run.code, 1, run.stdout);
      assert.ok(!`${run.stdout}${run.stderr}`.includes('hung-pw'), run.stderr);
      t.diagnostic(`hung: process exited 1 after ${took} ms (node + tsx start included): ${run.stderr.trim()}`);
    } finally {
      hung.resume();
      await hung.stop();
    }
  });

  it('usage mistakes → exit 2 before any connection', async (t) => {
    if (!redisAvailable(t)) return;
    // A URL nobody answers: a usage error must come first, never a connection attempt.
    const nowhere = ['--redis', 'redis://127.0.0.1:1'];
    const cases: ReadonlyArray<readonly string[]> = [
      ['revoke', ...nowhere],
      ['revoke', ...nowhere, '--jti', 'j'],
      ['revoke', ...nowhere, '--issuer', ISSUER, '--jti', 'j', '--subject', 's'],
      ['revoke', ...nowhere, '--issuer', ISSUER, '--token-id', 't'],
      ['revoke', ...nowhere, '--issuer', ISSUER, '--jti', 'j', '--before', '2026-01-01T00:00:00Z'],
      ['revoke', ...nowhere, '--issuer', ISSUER, '--subject', 's', '--expires', '+60'],
      ['revoke', ...nowhere, '--issuer', ISSUER, '--subject', 's', '--before', 'next tuesday'],
      ['revoke', ...nowhere, '--list', '--issuer', ISSUER],
      ['revoke', ...nowhere, '--token', 'not-a-jwt'],
      ['revoke', ...nowhere, '--issuer', ISSUER, '--jti', 'j', '--prefix', 'bad prefix!'],
      ['revoke', ...nowhere, '--issuer', ISSUER, '--jti', 'j', '--timeout', '0'],
      ['revoke', '--issuer', ISSUER, '--jti', 'j'], // no --redis and no REDIS_URL
      ['unrevoke', ...nowhere, '--list'],
      ['unrevoke', ...nowhere, '--issuer', ISSUER, '--jti', 'j', '--yes'],
      ['unrevoke', ...nowhere, '--all', '--issuer', ISSUER, '--yes'],
    ];
    delete process.env.REDIS_URL;
    for (const args of cases) {
      const run = await cli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    }
  });

  it('help: revoke and unrevoke are listed, and their --help exits 0', async () => {
    const main = await cli(['--help']);
    assert.match(main.stdout, /^ {2}revoke /m);
    assert.match(main.stdout, /^ {2}unrevoke /m);
    for (const command of ['revoke', 'unrevoke']) assert.equal((await cli([command, '--help'])).code, 0);
  });

  it('--token - with more than 1 MiB on standard input (a pipe from /dev/zero) → exit 2 at once, nothing read beyond', async () => {
    const run = await cliProcess(['revoke', '--redis', 'redis://127.0.0.1:1', '--token', '-'], 'x'.repeat(2 * 1024 * 1024));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /larger than 1048576 bytes/);
  });
});
