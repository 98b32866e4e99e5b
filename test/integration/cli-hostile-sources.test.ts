/**
 * Attacker text that reaches the CLI by other ways than the token: kids and key members published in
 * a remote JWKS (listed in a diagnosis), an issuer named by a discovery document (quoted in the fetch
 * failure), a file name given on the command line, and `serve-issuer`'s own options. Every one goes
 * through the same escaper as token text: nothing reaches the terminal raw, and `--json` still parses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/run.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { cli, type CliRun } from '../support/cli.ts';
import { json, startFakeProvider, type FakeProvider } from '../support/fake-provider.ts';
import { HOSTILE, assertTerminalSafe, hostile } from '../support/hostile-text.ts';

let provider: FakeProvider;
let idp: TestIssuer;
before(async () => {
  provider = await startFakeProvider();
  idp = await createTestIssuer({ alg: 'ES256', kid: 'real', issuer: `${provider.url}` });
});
after(() => provider.close());

describe('cli: hostile text from remote documents and arguments', () => {
  it('--jwks URL whose set publishes hostile kids and a skipped key with a hostile kty: the key listing is escaped, --json parses', async () => {
    const [real] = idp.jwks.keys;
    provider.on(
      '/hostile-jwks.json',
      json({
        keys: [
          { ...real, kid: hostile('listed') },
          { kty: hostile('RSA'), kid: hostile('skipped') },
          { ...real, kid: 'x', use: hostile('enc') },
        ],
      }),
    );
    const stranger = await createTestIssuer({ alg: 'ES256', kid: hostile('wanted'), issuer: idp.issuer });
    const args = ['inspect', await stranger.sign(), '--jwks', `${provider.url}/hostile-jwks.json`, '--alg', 'ES256'];
    const text = await cli(args);
    assert.equal(text.code, 1, text.stdout + text.stderr);
    assertTerminalSafe(text);
    assert.match(text.stdout, /^Verification FAILED: /m);
    assert.ok(text.stdout.includes('listed\\u001b]0;'), 'the published kid is listed, escaped');
    const report = parsed(await cli([...args, '--json']));
    assert.equal(report.failure?.reason, 'KEY_NOT_FOUND');
  });

  it('--issuer-url whose discovery document names a hostile issuer: the fetch failure quoting it is escaped', async () => {
    provider.on('/.well-known/openid-configuration', json({ issuer: hostile('https://evil.example'), jwks_uri: `${provider.url}/hostile-jwks.json` }));
    const args = ['inspect', await idp.sign(), '--issuer-url', provider.url, '--alg', 'ES256'];
    const text = await cli(args);
    assert.equal(text.code, 1, text.stdout + text.stderr);
    assertTerminalSafe(text);
    assert.ok((text.stdout + text.stderr).includes('\\u202e'), 'the issuer is quoted, escaped');
    assert.equal(parsed(await cli([...args, '--json'])).failure?.reason, 'KEYS_UNAVAILABLE');
  });

  it('a hostile file name (--jwks, --pem, --secret-file): the error naming it is escaped', async () => {
    for (const flag of ['--jwks', '--pem', '--secret-file']) {
      const run = await cli(['inspect', await idp.sign(), flag, `/nonexistent/${hostile('file')}`, '--alg', 'ES256']);
      assert.equal(run.code, 2, `${flag}: ${run.stderr}`);
      assertTerminalSafe(run);
    }
  });

  it('serve-issuer with a hostile --aud and --client id: its report (text and --json) is escaped', async () => {
    for (const extra of [[], ['--json']]) {
      const run = await serveIssuer(['--aud', hostile('aud'), '--client', `${HOSTILE.osc}id:secret`, ...extra]);
      assert.equal(run.code, 0, run.stderr);
      assertTerminalSafe(run);
      if (extra.length > 0) assert.equal(JSON.parse(run.stdout.split('\n')[0] ?? '').audience, hostile('aud'));
    }
  });
});

function parsed(run: CliRun): { failure: { reason: string } | null } {
  assertTerminalSafe(run);
  return JSON.parse(run.stdout);
}

/** Runs serve-issuer in this process and stops it as soon as it has printed its report. */
async function serveIssuer(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let printed: () => void = () => undefined;
  const report = new Promise<void>((resolve) => {
    printed = resolve;
  });
  const io: CliIo = {
    out: (text) => {
      stdout += `${text}\n`;
      printed();
    },
    err: (text) => void (stderr += `${text}\n`),
    readStdin: async () => '',
    stopRequested: () => report.then(() => 'SIGTERM'),
    now: Date.now,
  };
  const code = await runCli(['serve-issuer', ...args], io);
  return { code, stdout, stderr };
}
