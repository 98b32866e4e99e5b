/**
 * A token is attacker-controlled text: nothing in it may reach the terminal raw. An ESC sequence could set
 * the window title, erase the verdict line or recolour it, a C1 CSI (U+009B) does the same on terminals
 * that honour 8-bit controls, a bidi override (U+202E) reorders what is shown, and a newline or U+2028
 * could forge a line such as "Verified: ...". Every run below goes through `runCli`, like the program.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createTestIssuer } from '../../src/testing/index.ts';
import { cli, type CliRun } from '../support/cli.ts';
import { HOSTILE, assertTerminalSafe, hostile, hostileClaims, unsignedToken } from '../support/hostile-text.ts';

const SECRET = 'a-secret-of-thirty-two-bytes-or-more!';
const HS256 = ['--secret', SECRET, '--alg', 'HS256'];
const now = (): number => Math.floor(Date.now() / 1000);

function signHs256(header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...header }).sign(new TextEncoder().encode(SECRET));
}

/** Text output: safe, and the failure line still stands at the start of a line, unforged. */
function assertFailedSafely(run: CliRun): void {
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assertTerminalSafe(run);
  assert.match(run.stdout, /^Verification FAILED: /m);
  assert.doesNotMatch(run.stdout, /^Verified:/m, 'a newline in the token forged a verdict line');
}

/** JSON output: safe on the terminal, and still JSON that gives back the token's exact values. */
function parsedSafely(run: CliRun): { header: Record<string, unknown>; claims: Record<string, unknown>; failure: Record<string, string> | null } {
  assertTerminalSafe(run);
  return JSON.parse(run.stdout);
}

describe('cli: token text never reaches the terminal raw', () => {
  let dir: string;
  let otherJwksFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grpc-jwt-auth-cli-safety-'));
    otherJwksFile = join(dir, 'other-jwks.json');
    writeFileSync(otherJwksFile, JSON.stringify((await createTestIssuer({ alg: 'ES256', kid: 'other-key' })).jwks));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('decode only: hostile header and claim names and values are shown escaped, visibly', async () => {
    const token = unsignedToken({ alg: hostile('ES256'), kid: hostile('kid'), typ: hostile('JWT'), [hostile('x-header')]: 1 }, hostileClaims());
    const run = await cli(['inspect', token]);
    assert.equal(run.code, 0);
    assertTerminalSafe(run);
    assert.match(run.stdout, /^Not verified/m);
    assert.ok(run.stdout.includes('\\u001b]0;'), 'the ESC is shown as \\u001b, so the user sees something was there');
    assert.ok(run.stdout.includes('\\u009b') && run.stdout.includes('\\u202e') && run.stdout.includes('\\u2028'));
  });

  it('decode only, --json: escaped on the terminal, exact values once parsed', async () => {
    const header = { alg: hostile('ES256'), kid: hostile('kid'), typ: hostile('JWT') };
    const claims = hostileClaims();
    const report = parsedSafely(await cli(['inspect', unsignedToken(header, claims), '--json']));
    assert.deepEqual(report.header, header);
    assert.deepEqual(report.claims, claims);
  });

  it('a hostile alg refused by the allowlist: the diagnosis quotes it escaped', async () => {
    const token = unsignedToken({ alg: hostile('HS256'), typ: 'JWT' }, { sub: 'x', exp: now() + 60 });
    assertFailedSafely(await cli(['inspect', token, ...HS256]));
    const { failure } = parsedSafely(await cli(['inspect', token, ...HS256, '--json']));
    assert.equal(failure?.reason, 'ALG_NOT_ALLOWED');
  });

  it('a hostile kid nobody publishes, and a hostile iss in the fix text', async () => {
    const issuer = await createTestIssuer({ alg: 'ES256', kid: hostile('kid'), issuer: hostile('https://idp.example') });
    const token = await issuer.sign();
    assertFailedSafely(await cli(['inspect', token, '--jwks', otherJwksFile, '--alg', 'ES256']));
    const { failure } = parsedSafely(await cli(['inspect', token, '--jwks', otherJwksFile, '--alg', 'ES256', '--json']));
    assert.equal(failure?.reason, 'KEY_NOT_FOUND');
  });

  it('a hostile iss and aud refused by the verifier', async () => {
    const token = await signHs256({}, { sub: 'x', iss: hostile('https://idp.example'), aud: [hostile('orders-api')], exp: now() + 60 });
    for (const check of [
      ['--iss', 'https://idp.example'],
      ['--aud', 'orders-api'],
    ]) {
      assertFailedSafely(await cli(['inspect', token, ...HS256, ...check]));
      const { failure } = parsedSafely(await cli(['inspect', token, ...HS256, ...check, '--json']));
      assert.match(failure?.reason ?? '', /^(ISSUER|AUDIENCE)_INVALID$/);
    }
  });

  it("the library's own message quoting a claim (a hostile exp): escaped in the problem and the log message", async () => {
    const token = await signHs256({}, { sub: 'x', exp: hostile('soon') });
    assertFailedSafely(await cli(['inspect', token, ...HS256]));
    const { failure } = parsedSafely(await cli(['inspect', token, ...HS256, '--json']));
    assert.equal(failure?.code, 'ERR_AUTH_CLAIM_INVALID');
  });

  it('a verified token with a hostile kid and claims: the success report is escaped too', async () => {
    const token = await signHs256({ kid: hostile('kid'), typ: hostile('JWT') }, { ...hostileClaims(), exp: now() + 60 });
    const run = await cli(['inspect', token, ...HS256]);
    assert.equal(run.code, 0, run.stdout);
    assertTerminalSafe(run);
    assert.match(run.stdout, /^Verified: /m);
    assert.equal(JSON.parse((await cli(['inspect', token, ...HS256, '--json'])).stdout).header.kid, hostile('kid'));
  });

  it("an error message quoting the token's alg (keys that cannot verify it): stderr is escaped", async () => {
    const token = unsignedToken({ alg: hostile('ES256') }, { sub: 'x' });
    const run = await cli(['inspect', token, '--jwks', otherJwksFile, '--alg', 'RS256']);
    assert.equal(run.code, 2);
    assertTerminalSafe(run);
    assert.match(run.stderr, /the token is signed with/);
  });

  it('sign: claims given on the command line are escaped in the text and --json output', async () => {
    const run = await cli(['sign', '--secret', SECRET, '--sub', HOSTILE.osc, '--claim', `${HOSTILE.c1Csi}=${HOSTILE.rlo}`, '--json']);
    assert.equal(run.code, 0);
    assertTerminalSafe(run);
    assert.equal(JSON.parse(run.stdout).claims.sub, HOSTILE.osc);
  });
});
