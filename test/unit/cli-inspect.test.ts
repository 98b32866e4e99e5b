import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { cli } from '../support/cli.ts';

const now = (): number => Math.floor(Date.now() / 1000);

/** Runs `inspect --json` and returns the exit code and the diagnosis, whose texts are not wrapped there. */
async function diagnosis(args: readonly string[]): Promise<{ code: number; failure: Record<string, string> | null }> {
  const run = await cli(['inspect', ...args, '--json']);
  return { code: run.code, failure: JSON.parse(run.stdout).failure };
}

describe('cli inspect: decoding and verifying with the library, and diagnosing refusals', () => {
  let dir: string;
  let idp: TestIssuer;
  let jwksFile: string;
  /** A key set of RSA keys only, and one whose only key has another kid. */
  let rsaJwksFile: string;
  let otherJwksFile: string;
  /** Verification flags a server of `idp` would use. */
  let server: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grpc-jwt-auth-cli-'));
    idp = await createTestIssuer({ alg: 'ES256', issuer: 'https://idp.example', audience: 'orders-api' });
    const rsa = await createTestIssuer({ alg: 'RS256', kid: 'rsa-key' });
    const other = await createTestIssuer({ alg: 'ES256', kid: 'other-key' });
    jwksFile = join(dir, 'jwks.json');
    rsaJwksFile = join(dir, 'rsa-jwks.json');
    otherJwksFile = join(dir, 'other-jwks.json');
    writeFileSync(jwksFile, JSON.stringify(idp.jwks));
    writeFileSync(rsaJwksFile, JSON.stringify(rsa.jwks));
    writeFileSync(otherJwksFile, JSON.stringify(other.jwks));
    server = ['--jwks', jwksFile, '--alg', 'ES256', '--iss', 'https://idp.example', '--aud', 'orders-api'];
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without keys: header and claims with human times, nothing verified, exit 0', async () => {
    const token = await idp.sign({ sub: 'alice' }, { issuedAt: now() - 180, expiresIn: 3600 });
    const run = await cli(['inspect', token]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /kid\s+test-key-1/);
    assert.match(run.stdout, /sub\s+alice/);
    assert.match(run.stdout, /iat\s+\d{4}-\d\d-\d\dT[\d:.]+Z \(issued 3 minutes ago\)/);
    assert.match(run.stdout, /exp\s+\d{4}-\d\d-\d\dT[\d:.]+Z \(expires in 57 minutes\)/);
    assert.match(run.stdout, /Not verified/);
  });

  it('a valid token: verified, with what was checked, exit 0', async () => {
    const run = await cli(['inspect', await idp.sign(), ...server]);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /Verified: a server with these settings accepts this token/);
    assert.match(run.stdout, /signature {2}verified with key "test-key-1"/);
    assert.match(run.stdout, /audience {3}orders-api, accepted/);
  });

  it('expired token → token lifecycle problem: expired at <time>, N minutes ago, and how to fix it; exit 1', async () => {
    const token = await idp.sign({}, { issuedAt: now() - 3780, expiresIn: 3600 });
    const run = await cli(['inspect', token, ...server]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /Verification FAILED: token lifecycle problem/);
    assert.match(run.stdout, /check\s+expiry \(exp\)/);
    assert.match(run.stdout, /problem\s+the token expired at \d{4}-\d\d-\d\dT[\d:.]+Z, 3 minutes ago/);
    assert.match(run.stdout, /fix\s+get a new token/);
    assert.match(run.stdout, /ERR_AUTH_TOKEN_EXPIRED; a server answers UNAUTHENTICATED with reason TOKEN_EXPIRED/);
  });

  it('wrong audience → configuration problem: the token audience next to the expected one; exit 1', async () => {
    const { code, failure } = await diagnosis([await idp.sign({ aud: 'billing-api' }), ...server]);
    assert.equal(code, 1);
    assert.equal(failure?.kind, 'configuration');
    assert.equal(failure?.check, 'audience (aud)');
    assert.equal(failure?.problem, 'the token is for audience "billing-api", the verifier expects "orders-api"');
    assert.equal(failure?.reason, 'AUDIENCE_INVALID');
  });

  it('unknown kid → configuration problem listing the kids the key set has; exit 1', async () => {
    const { code, failure } = await diagnosis([await idp.sign(), '--jwks', otherJwksFile, '--alg', 'ES256']);
    assert.equal(code, 1);
    assert.equal(failure?.check, 'key lookup (kid)');
    assert.equal(failure?.problem, `${otherJwksFile} has no key "test-key-1"; it holds "other-key" for ES256`);
    assert.match(failure?.fix ?? '', /its iss is https:\/\/idp\.example/);
    assert.equal(failure?.reason, 'KEY_NOT_FOUND');
  });

  it('wrong algorithm → configuration problem: the token alg next to the allowlist; exit 1', async () => {
    const { code, failure } = await diagnosis([await idp.sign(), '--jwks', rsaJwksFile, '--alg', 'RS256']);
    assert.equal(code, 1);
    assert.equal(failure?.check, 'algorithm (alg)');
    assert.equal(failure?.problem, 'the token is signed with ES256, but the allowlist is [RS256]');
    assert.match(failure?.fix ?? '', /--alg ES256/);
    assert.equal(failure?.reason, 'ALG_NOT_ALLOWED');
  });

  it('an unsigned token → broken or forged token', async () => {
    const { code, failure } = await diagnosis([idp.unsignedToken(), ...server]);
    assert.equal(code, 1);
    assert.equal(failure?.kind, 'token');
    assert.equal(failure?.problem, 'the token is unsigned (alg "none")');
  });

  it('issuer differing by a trailing slash → says so', async () => {
    const { failure } = await diagnosis([await idp.sign(), '--jwks', jwksFile, '--alg', 'ES256', '--iss', 'https://idp.example/']);
    assert.equal(
      failure?.problem,
      'the token\'s iss is "https://idp.example", the verifier expects "https://idp.example/" (they differ only by a trailing slash: issuers are compared exactly)',
    );
  });

  it('not yet valid → lifecycle problem naming nbf', async () => {
    const { failure } = await diagnosis([await idp.notYetValidToken(), ...server]);
    assert.equal(failure?.kind, 'lifecycle');
    assert.match(failure?.problem ?? '', /^the token is valid only from \S+ \(nbf\), in 60 minutes$/);
  });

  it('a wrong secret → signature problem', async () => {
    const hs = await createTestIssuer({ alg: 'HS256' });
    const { failure } = await diagnosis([await hs.sign(), '--secret', 'a-secret-of-thirty-two-bytes-or-more!', '--alg', 'HS256']);
    assert.equal(failure?.check, 'signature');
    assert.equal(failure?.problem, 'the signature does not verify with key "test-key-1" of the secret given');
  });

  it('not a JWT → cannot decode, exit 1; a pasted "Bearer " prefix is accepted', async () => {
    const broken = await cli(['inspect', 'not-a-token']);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /Cannot decode the token: broken or forged token/);
    assert.match(broken.stdout, /TOKEN_MALFORMED/);
    const pasted = await cli(['inspect', '-'], `Bearer ${await idp.sign()}\n`);
    assert.equal(pasted.code, 0);
  });

  it('--json: the report as JSON, with the diagnosis fields', async () => {
    const token = await idp.sign({}, { issuedAt: now() - 3780, expiresIn: 3600 });
    const run = await cli(['inspect', token, ...server, '--json']);
    assert.equal(run.code, 1);
    const report = JSON.parse(run.stdout);
    assert.equal(report.verified, false);
    assert.equal(report.header.kid, 'test-key-1');
    assert.equal(report.times.exp.summary, 'expired 3 minutes ago');
    assert.equal(report.failure.kind, 'lifecycle');
    assert.equal(report.failure.code, 'ERR_AUTH_TOKEN_EXPIRED');
    assert.equal(report.failure.reason, 'TOKEN_EXPIRED');
    assert.equal(report.failure.grpcStatus, 'UNAUTHENTICATED');
    assert.match(report.failure.problem, /3 minutes ago/);
    const decoded = JSON.parse((await cli(['inspect', token, '--json'])).stdout);
    assert.equal(decoded.verified, null);
  });

  describe('bad arguments → exit 2 with a message on stderr', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['no token', ['inspect'], /give a token/],
      ['unknown option', ['inspect', 'x', '--audience', 'a'], /Unknown option '--audience'/],
      ['--aud without keys', ['inspect', 'x', '--aud', 'a'], /--aud needs keys to verify with/],
      ['two key sources', ['inspect', 'x', '--secret', 's', '--pem', 'p'], /give one key source, not --secret and --pem/],
      ['keys without --alg', ['inspect', 'x', '--secret', 'a-secret-of-thirty-two-bytes-or-more!'], /--alg is required/],
      ['an unsupported --alg', ['inspect', 'x', '--secret', 'a-secret-of-thirty-two-bytes-or-more!', '--alg', 'none'], /--alg "none" is not supported/],
      [
        '--clock-tolerance out of range',
        ['inspect', 'x', '--secret', 'a-secret-of-thirty-two-bytes-or-more!', '--alg', 'HS256', '--clock-tolerance', '900'],
        /--clock-tolerance must be a number from 0 to 300/,
      ],
      ['a short secret', ['inspect', 'x', '--secret', 'short', '--alg', 'HS256'], /--secret: secret has 5 bytes/],
      ['a missing file', ['inspect', 'x', '--pem', '/nonexistent/key.pem', '--alg', 'ES256'], /--pem: cannot read "\/nonexistent\/key\.pem": ENOENT/],
      ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
      ['no command', [], /Usage: grpc-jwt-auth <command>/],
    ];
    for (const [label, args, message] of cases) {
      it(label, async () => {
        const run = await cli(args);
        assert.equal(run.code, 2);
        assert.match(run.stderr, message);
      });
    }

    it('algorithms the keys cannot verify: names --alg and the token alg', async () => {
      const run = await cli(['inspect', await idp.sign(), '--jwks', jwksFile, '--alg', 'RS256']);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--alg: RS256 cannot be verified with the keys of .*; the token is signed with ES256/);
    });
  });
});
