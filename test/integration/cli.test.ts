import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { CLI_MAIN, cliProcess } from '../support/cli.ts';
import { assertTerminalSafe, hostile, hostileClaims, unsignedToken } from '../support/hostile-text.ts';

describe('cli as a child process (node --import tsx src/cli/main.ts)', () => {
  let dir: string;
  let idp: TestIssuer;
  let served: ServedIssuer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grpc-jwt-auth-cli-it-'));
    idp = await createTestIssuer({ alg: 'ES256', audience: 'orders-api' });
    served = await idp.serve();
  });
  after(async () => {
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help on the program and on every command: exit 0 and a usage text', async () => {
    const runs = await Promise.all([['--help'], ['inspect', '--help'], ['sign', '-h'], ['help', 'serve-issuer']].map((args) => cliProcess(args)));
    for (const run of runs) {
      assert.equal(run.code, 0);
      assert.match(run.stdout, /^Usage: grpc-jwt-auth /);
    }
  });

  it('bad arguments: exit 2, the reason and a pointer to --help on stderr, nothing on stdout', async () => {
    const run = await cliProcess(['inspect', 'x', '--jwks']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /grpc-jwt-auth inspect: Option '--jwks <value>' argument missing/);
    assert.match(run.stderr, /Run 'grpc-jwt-auth inspect --help' for usage\./);
  });

  it('sign → inspect round trip, the token piped through standard input', async () => {
    const signed = await cliProcess(['sign', '--sub', 'alice', '--aud', 'orders-api', '--print-jwks']);
    assert.equal(signed.code, 0);
    const [token = '', jwks = ''] = signed.stdout.trim().split('\n');
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, jwks);
    const checked = await cliProcess(['inspect', '-', '--jwks', jwksFile, '--alg', 'ES256', '--aud', 'orders-api'], `${token}\n`);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /sub\s+alice/);
    assert.match(checked.stdout, /Verified: a server with these settings accepts this token/);
  });

  it('remote keys (--jwks URL): an unknown kid lists the kids the provider publishes', async () => {
    const stranger = await createTestIssuer({ alg: 'ES256', kid: 'stranger-key' });
    const run = await cliProcess(['inspect', await stranger.sign(), '--jwks', served.jwksUri, '--alg', 'ES256', '--json']);
    assert.equal(run.code, 1);
    const { failure } = JSON.parse(run.stdout);
    assert.equal(failure.code, 'ERR_AUTH_KEY_NOT_FOUND');
    assert.equal(failure.problem, `${served.jwksUri} has no key "stranger-key"; it holds "test-key-1" for ES256`);
    assert.match(failure.fix, /retry in a moment/);
  });

  it('discovery (--issuer-url): an expired token from the provider is a lifecycle problem', async () => {
    const run = await cliProcess([
      'inspect',
      await idp.expiredToken(),
      '--issuer-url',
      served.url,
      '--alg',
      'ES256',
      '--iss',
      served.url,
      '--aud',
      'orders-api',
      '--json',
    ]);
    assert.equal(run.code, 1);
    const { failure } = JSON.parse(run.stdout);
    assert.equal(failure.kind, 'lifecycle');
    // inspect verifies with the server's default clock tolerance (60 s) unless --clock-tolerance says otherwise.
    assert.match(failure.problem, /^the token expired at \S+, 60 minutes ago \(more than the 60 s clock tolerance\)$/);
  });

  it('a hostile token (ESC, C1, bidi, U+2028, newlines in names and values): the real process writes no control character', async () => {
    const header = { alg: hostile('HS256'), kid: hostile('kid'), typ: hostile('JWT') };
    const token = unsignedToken(header, hostileClaims());
    const verify = ['--secret', 'a-secret-of-thirty-two-bytes-or-more!', '--alg', 'HS256'];
    const [decoded, decodedJson, refused, refusedJson] = await Promise.all(
      [[], ['--json'], verify, [...verify, '--json']].map((more) => cliProcess(['inspect', token, ...more])),
    );
    for (const run of [decoded, decodedJson, refused, refusedJson]) assertTerminalSafe(run as NonNullable<typeof run>);
    assert.match(decoded?.stdout ?? '', /^Not verified/m);
    assert.match(refused?.stdout ?? '', /^Verification FAILED: /m);
    assert.doesNotMatch(refused?.stdout ?? '', /^Verified/m);
    assert.deepEqual(JSON.parse(decodedJson?.stdout ?? '').header, header, '--json still gives the exact values');
    assert.equal(JSON.parse(refusedJson?.stdout ?? '').failure.reason, 'ALG_NOT_ALLOWED');
  });

  it('serve-issuer: starts, answers discovery and the token endpoint, stops cleanly on SIGTERM', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve-issuer', '--json', '--client', 'worker:dev-secret'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The first line is the JSON; an early exit (a crash) must fail the test rather than hang it.
    const exited = once(child, 'exit').then(([code]) => Promise.reject(new Error(`serve-issuer exited early (${code}): ${stderr}`)));
    const [firstChunk] = (await Promise.race([once(child.stdout, 'data'), exited])) as [Buffer];
    const facts = JSON.parse(firstChunk.toString().split('\n')[0] ?? '');
    try {
      const discovery = (await (await fetch(facts.discoveryUrl)).json()) as { issuer: string; jwks_uri: string };
      assert.equal(discovery.issuer, facts.issuer);
      assert.equal(discovery.jwks_uri, facts.jwksUri);
      const answer = await fetch(facts.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('worker:dev-secret').toString('base64')}` },
        body: 'grant_type=client_credentials',
      });
      assert.equal(answer.status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.match(stderr, /stopped \(SIGTERM\)/);
  });
});
