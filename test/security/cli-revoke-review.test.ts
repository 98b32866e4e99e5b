/**
 * Review of `grpc-jwt-auth revoke` / `unrevoke` (issue 15) against a real redis-server: hostile and
 * malformed arguments (repeated flags, odd times, zone-less dates, non-JWT tokens), what the CLI stores
 * against what a server matches (revoke via the CLI → `authenticate` refuses TOKEN_REVOKED), terminal
 * escaping of hostile ids in human output and exact values in `--json`, and the URL password in every
 * output on success and failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, createRedisRevocationStore, isAuthError, type RevocationEntry } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { cli, cliProcess } from '../support/cli.ts';
import { freePort, hasRedisServer, redisAvailable, type RedisServer, startRedisServer } from '../support/redis-server.ts';

const ISSUER = 'https://idp.example/';
const METHOD = '/test.echo.v1.Echo/Unary';

const redis = (hasRedisServer() ? await startRedisServer() : undefined) as RedisServer;
const idp: TestIssuer = await createTestIssuer({ alg: 'ES256', issuer: ISSUER });

let prefixCount = 0;
const prefix = (): string => `cli-review-${++prefixCount}`;
const withRedis = (...args: string[]): string[] => [...args, '--redis', redis.url];

async function entriesUnder(p: string): Promise<readonly RevocationEntry[]> {
  const store = createRedisRevocationStore({ url: redis.url, prefix: p, timeout: 5 });
  try {
    await store.ready();
    return await store.entries();
  } finally {
    await store.close();
  }
}

/** Raw terminal controls, bidi and line separators: none may reach a terminal from human output. */
// eslint-disable-next-line no-control-regex -- the controls are what the test looks for (a list of its own, not the escaper's)
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/u;

/** What `authenticate` does with `token` when the servers share the Redis list under `p`. */
async function serverVerdict(token: string, p: string): Promise<string> {
  const revocations = createRedisRevocationStore({ url: redis.url, prefix: p, timeout: 5 });
  try {
    await revocations.ready();
    const auth = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'], issuer: ISSUER, audience: idp.audience, revocations });
    try {
      await auth.authenticate(token, METHOD);
      return 'OK';
    } catch (error) {
      return isAuthError(error) ? error.code : String(error);
    }
  } finally {
    await revocations.close();
  }
}

describe('CLI revoke / unrevoke review', { timeout: 45_000 }, () => {
  it('revoke via the CLI → a server sharing the Redis refuses the token TOKEN_REVOKED (jti, no jti, empty jti, pasted with Bearer)', async (t) => {
    if (!redisAvailable(t)) return;
    const cases: Array<[string, Record<string, unknown>, (token: string) => readonly string[], string?]> = [
      ['with jti', { sub: 'a', jti: 'j-1' }, (token) => ['--token', token]],
      ['without jti', { sub: 'b' }, (token) => ['--token', token]],
      ['empty jti', { sub: 'd', jti: '' }, (token) => ['--token', token]],
      ['stdin, Bearer, CRLF', { sub: 'e' }, () => ['--token', '-'], 'stdin'],
    ];
    for (const [name, claims, args, stdin] of cases) {
      const p = prefix();
      const token = await idp.sign(claims);
      assert.equal(await serverVerdict(token, p), 'OK', `${name}: admitted before`);
      const run = await cli(withRedis('revoke', ...args(token), '--prefix', p), stdin === undefined ? '' : `  Bearer ${token}\r\n`);
      assert.equal(run.code, 0, `${name}: ${run.stderr}`);
      assert.equal(await serverVerdict(token, p), 'ERR_AUTH_TOKEN_REVOKED', name);
      const un = await cli(withRedis('unrevoke', ...args(token), '--prefix', p), stdin === undefined ? '' : `Bearer ${token}`);
      assert.equal(un.code, 0, `${name}: ${un.stderr}`);
      assert.equal(await serverVerdict(token, p), 'OK', `${name}: unrevoke re-admits`);
    }
  });

  it('--subject via the CLI → that subject refused TOKEN_REVOKED, another subject admitted', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const alice = await idp.sign({ sub: 'alice', iat: Math.floor(Date.now() / 1000) - 5 });
    const bob = await idp.sign({ sub: 'bob', iat: Math.floor(Date.now() / 1000) - 5 });
    assert.equal((await cli(withRedis('revoke', '--issuer', ISSUER, '--subject', 'alice', '--prefix', p))).code, 0);
    assert.equal(await serverVerdict(alice, p), 'ERR_AUTH_TOKEN_REVOKED');
    assert.equal(await serverVerdict(bob, p), 'OK');
  });

  it('a repeated target or issuer flag (--subject alice --subject bob) → exit 2, nothing stored (never a silent last-one-wins)', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    for (const args of [
      ['revoke', '--issuer', ISSUER, '--subject', 'alice', '--subject', 'bob'],
      ['revoke', '--issuer', ISSUER, '--issuer', 'https://other.example/', '--jti', 'j'],
      ['revoke', '--issuer', ISSUER, '--client', 'c', '--before', '+0', '--before', '2020-01-01T00:00:00Z'],
      ['unrevoke', '--issuer', ISSUER, '--jti', 'a', '--jti', 'b'],
    ]) {
      const run = await cli(withRedis(...args, '--prefix', p));
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}`);
    }
    assert.equal((await entriesUnder(p)).length, 0);
  });

  it('--before / --expires: a date-time without a zone → exit 2 (its meaning would depend on the admin machine time zone)', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      for (const args of [
        ['--issuer', ISSUER, '--subject', 's', '--before', '2026-01-01T00:00:00'],
        ['--issuer', ISSUER, '--jti', 'j', '--expires', '2030-01-01 10:00'],
      ]) {
        const run = await cli(withRedis('revoke', ...args, '--prefix', p));
        assert.equal(run.code, 2, `${args.join(' ')}: stored ${run.stdout}`);
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    assert.equal((await entriesUnder(p)).length, 0);
  });

  it('--before / --expires odd forms → exit 2 (NaN, year 10000, +1e30, fractions, epoch ms, before 1970); +0, -60 (as --before=-60), epoch s, dates with zone → 0', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const subject = ['--issuer', ISSUER, '--subject', 's', '--prefix', p];
    for (const value of [
      'NaN',
      'Infinity',
      '10000-01-01T00:00:00Z',
      '+1e30',
      '1e9',
      '+1.5',
      '1764633600.5',
      '1764633600000',
      '+99999999999',
      '',
      ' ',
      '0x10',
      '2026-13-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-04-31',
      '2026-01-01T25:00:00Z',
    ]) {
      const run = await cli(withRedis('revoke', ...subject, `--before=${value}`));
      assert.equal(run.code, 2, `--before=${JSON.stringify(value)}: ${run.stdout}`);
    }
    for (const value of ['+0', '-60', '1764633600', '2026-12-01T10:00:00Z', '2026-12-01T10:00:00+01:00', '2026-12-01', '2028-02-29T00:00:00Z']) {
      const run = await cli(withRedis('revoke', ...subject, `--before=${value}`));
      assert.equal(run.code, 0, `--before=${JSON.stringify(value)}: ${run.stderr}`);
    }
  });

  it('--token that is no JWT, has a non-string iss, an object payload missing, or is empty on stdin → exit 2, nothing stored', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const header = b64({ alg: 'ES256' });
    for (const [token, stdin] of [
      ['not-a-jwt', ''],
      [`${header}.${b64({ iss: 7, jti: 'x' })}.sig`, ''],
      [`${header}.${b64([1, 2])}.sig`, ''],
      [`${header}.${Buffer.from('{"jti":').toString('base64url')}.sig`, ''],
      ['-', ''],
      ['-', '   \n'],
      ['-', 'Bearer '],
    ] as const) {
      const run = await cli(withRedis('revoke', '--token', token, '--prefix', p), stdin);
      assert.equal(run.code, 2, `${token.slice(0, 40)} / ${JSON.stringify(stdin)}: ${run.stdout}`);
    }
    assert.equal((await entriesUnder(p)).length, 0);
  });

  it('hostile ids (ESC, newline, bidi, C1, U+2028) → escaped in human output, exact in --json (revoke, list, unrevoke)', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const issuer = 'https://idp.example/\u001b]0;owned\u0007';
    const jti = 'x\u001b[2J\nrevoked: nothing\u202e\u009b31m\u2028end';
    const human = await cli(withRedis('revoke', '--issuer', issuer, '--jti', jti, '--prefix', p));
    assert.equal(human.code, 0, human.stderr);
    assert.ok(!RAW_UNSAFE.test(human.stdout), JSON.stringify(human.stdout));
    assert.ok(!/^revoked: nothing/m.test(human.stdout), 'no forged line');
    const listed = await cli(withRedis('revoke', '--list', '--json', '--prefix', p));
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!RAW_UNSAFE.test(listed.stdout.replace(/\n/g, '')), JSON.stringify(listed.stdout));
    const [entry] = JSON.parse(listed.stdout) as Array<{ issuer: string; jti: string }>;
    assert.deepEqual([entry?.issuer, entry?.jti], [issuer, jti]);
    const humanList = await cli(withRedis('revoke', '--list', '--prefix', p));
    assert.ok(!RAW_UNSAFE.test(humanList.stdout), JSON.stringify(humanList.stdout));
    const un = await cli(withRedis('unrevoke', '--issuer', issuer, '--jti', jti, '--prefix', p, '--json'));
    assert.equal(un.code, 0, un.stderr);
    assert.deepEqual((JSON.parse(un.stdout) as { removed: boolean; target: unknown }).target, { kind: 'token', issuer, jti });
    assert.equal((await entriesUnder(p)).length, 0);
  });

  it('the URL password is never printed: wrong password, unreachable, bad URL forms, success, with and without --json', async (t) => {
    if (!redisAvailable(t)) return;
    const guarded = await startRedisServer();
    try {
      await guarded.command('CONFIG', 'SET', 'requirepass', 'Right-Pw-77');
      const port = await freePort();
      const secrets = ['Wrong-Pw-55', 'Right-Pw-77', 'p%41ss-Secret-9', 'pAss-Secret-9'];
      const cases: Array<[string, number]> = [
        [`redis://:Wrong-Pw-55@127.0.0.1:${guarded.port}`, 1],
        [`redis://default:Wrong-Pw-55@127.0.0.1:${guarded.port}`, 1],
        [`redis://:p%41ss-Secret-9@127.0.0.1:${port}`, 1],
        // A URL the driver refuses (db not a number) is a usage mistake (2), as one `new URL` refuses.
        [`redis://:Wrong-Pw-55@127.0.0.1:${port}/notadb`, 2],
        [`http://:Wrong-Pw-55@127.0.0.1:${port}`, 2],
        [`redis://:Wrong-Pw-55@127.0.0.1:99999`, 2],
        [`redis://:Wrong-Pw-55@[::1`, 2],
        [`redis://:Right-Pw-77@127.0.0.1:${guarded.port}`, 0],
      ];
      for (const [url, code] of cases) {
        for (const json of [[], ['--json']]) {
          const run = await cli(['revoke', '--redis', url, '--issuer', ISSUER, '--jti', 'pw', '--timeout', '0.5', ...json]);
          assert.equal(run.code, code, `${url}: ${run.stderr}`);
          for (const secret of secrets) assert.ok(!`${run.stdout}${run.stderr}`.includes(secret), `${url} ${json.join('')}: ${run.stdout}${run.stderr}`);
        }
      }
    } finally {
      await guarded.kill();
    }
  });

  it('Redis hung (SIGSTOP) → --list --json and unrevoke --all --yes exit 1 by themselves, password never printed', async (t) => {
    if (!redisAvailable(t)) return;
    const hung = await startRedisServer();
    hung.pause();
    try {
      const url = hung.url.replace('redis://', 'redis://:Hung-Pw-3@');
      const started = Date.now();
      const runs = await Promise.all([
        cliProcess(['revoke', '--redis', url, '--list', '--json', '--timeout', '0.5']),
        cliProcess(['unrevoke', '--redis', url, '--all', '--yes', '--json', '--timeout', '0.5']),
      ]);
      for (const run of runs) {
        assert.equal(run.code, 1, run.stdout);
        assert.ok(!`${run.stdout}${run.stderr}`.includes('Hung-Pw-3'), run.stderr);
      }
      t.diagnostic(`hung: both exited 1 after ${Date.now() - started} ms (node + tsx start included)`);
    } finally {
      hung.resume();
      await hung.stop();
    }
  });

  it('the process exits by itself: a success (--json), an unreachable Redis (--json) and a refused password, as a child process', async (t) => {
    if (!redisAvailable(t)) return;
    const p = prefix();
    const ok = await cliProcess(['revoke', '--redis', redis.url, '--issuer', ISSUER, '--client', 'cli', '--prefix', p, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as Array<{ clientId: string }>)[0]?.clientId, 'cli');
    const down = await cliProcess(['revoke', '--redis', `redis://:Down-Pw@127.0.0.1:${await freePort()}`, '--list', '--json', '--timeout', '0.5']);
    assert.equal(down.code, 1, down.stdout);
    assert.ok(!`${down.stdout}${down.stderr}`.includes('Down-Pw'));
    // A refused password: node-redis keeps reconnecting; close() must still let the process end.
    const guarded = await startRedisServer();
    try {
      await guarded.command('CONFIG', 'SET', 'requirepass', 'Right-Pw-78');
      const refused = await cliProcess(['unrevoke', '--redis', `redis://:Wrong-Pw-56@127.0.0.1:${guarded.port}`, '--token-id', 't', '--timeout', '0.5']);
      assert.equal(refused.code, 1, refused.stdout);
      assert.ok(!`${refused.stdout}${refused.stderr}`.includes('Wrong-Pw-56'), refused.stderr);
    } finally {
      await guarded.kill();
    }
  });
});
