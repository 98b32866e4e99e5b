import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { cli } from '../support/cli.ts';

const SECRET = 'a-development-secret-of-32-bytes!!';

describe('cli sign: development tokens that inspect (the library) verifies', () => {
  let dir: string;
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'grpc-jwt-auth-cli-sign-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a fresh test key: test issuer defaults, claims from flags, --claim values as JSON or text', async () => {
    const run = await cli([
      'sign',
      '--sub',
      'alice',
      '--aud',
      'a',
      '--aud',
      'b',
      '--scope',
      'orders:read',
      '--claim',
      'roles=["admin"]',
      '--claim',
      'tenant=acme',
      '--claim',
      'level=3',
    ]);
    assert.equal(run.code, 0);
    const token = run.stdout.trim();
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
    const claims = decodeJwt(token);
    assert.equal(claims.iss, 'https://issuer.test');
    assert.equal(claims.sub, 'alice');
    assert.deepEqual(claims.aud, ['a', 'b']);
    assert.equal(claims.scope, 'orders:read');
    assert.deepEqual(claims.roles, ['admin']);
    assert.equal(claims.tenant, 'acme');
    assert.equal(claims.level, 3);
    assert.equal((claims.exp as number) - (claims.iat as number), 3600);
  });

  it('sign → inspect round trip: --print-jwks gives the key set that verifies the token', async () => {
    const run = await cli(['sign', '--alg', 'EdDSA', '--kid', 'dev-1', '--iss', 'https://dev.example', '--aud', 'orders-api', '--print-jwks']);
    assert.equal(run.code, 0);
    const [token = '', jwks = ''] = run.stdout.trim().split('\n');
    const checked = await cli([
      'inspect',
      token,
      '--jwks',
      file('round-trip.json', jwks),
      '--alg',
      'EdDSA',
      '--iss',
      'https://dev.example',
      '--aud',
      'orders-api',
    ]);
    assert.equal(checked.code, 0, checked.stdout);
    assert.match(checked.stdout, /verified with key "dev-1"/);
  });

  it('--secret-file and --expires-in=-60: inspect with the same secret diagnoses expiry', async () => {
    const secretFile = file('secret', `${SECRET}\n`);
    const run = await cli(['sign', '--secret-file', secretFile, '--expires-in=-60', '--sub', 'bob']);
    assert.equal(run.code, 0);
    const token = run.stdout.trim();
    assert.equal(decodeProtectedHeader(token).alg, 'HS256');
    const checked = await cli(['inspect', token, '--secret', SECRET, '--alg', 'HS256', '--json']);
    assert.equal(checked.code, 1);
    assert.equal(JSON.parse(checked.stdout).failure.code, 'ERR_AUTH_TOKEN_EXPIRED');
  });

  it('--key: a private PEM signs with the algorithm it suits, and --print-jwks publishes its public half', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = file('rsa.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const run = await cli(['sign', '--key', keyFile, '--kid', 'rsa-1', '--sub', 'carol', '--json', '--print-jwks']);
    assert.equal(run.code, 0);
    const signed = JSON.parse(run.stdout);
    assert.equal(signed.header.alg, 'RS256');
    assert.equal(signed.jwks.keys[0].kid, 'rsa-1');
    assert.equal(signed.jwks.keys[0].d, undefined, 'no private member');
    const checked = await cli(['inspect', signed.token, '--jwks', file('rsa-jwks.json', JSON.stringify(signed.jwks)), '--alg', 'RS256']);
    assert.equal(checked.code, 0, checked.stdout);
  });

  describe('bad arguments → exit 2', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['a short secret', ['sign', '--secret', 'short'], /the secret has 5 bytes; HS256 needs at least 32/],
      ['an HS algorithm without a secret', ['sign', '--alg', 'HS256'], /HS256 needs --secret or --secret-file/],
      ['a secret with an RS algorithm', ['sign', '--secret', SECRET, '--alg', 'RS256'], /--alg RS256 needs a private key/],
      ['two keys', ['sign', '--secret', SECRET, '--key', 'k.pem'], /give one key, not --secret and --key/],
      ['--print-jwks with a secret', ['sign', '--secret', SECRET, '--print-jwks'], /a secret has no public key set/],
      ['a malformed --claim', ['sign', '--claim', 'novalue'], /--claim "novalue": expected <name>=<value>/],
      ['a fractional --expires-in', ['sign', '--expires-in', '1.5'], /--expires-in must be a whole number/],
      ['a negative --expires-in without =', ['sign', '--expires-in', '-60'], /argument is ambiguous/],
      ['a positional argument', ['sign', 'extra'], /unexpected argument "extra"/],
      // parseArgs alone keeps the last value: a token for bob while the command line also says alice.
      ['a single-valued flag given twice (--sub alice --sub bob)', ['sign', '--sub', 'alice', '--sub', 'bob'], /--sub is given more than once/],
      ['a single-valued flag given twice as --flag=value', ['sign', '--expires-in=60', '--expires-in=3600'], /--expires-in is given more than once/],
    ];
    for (const [label, args, message] of cases) {
      it(label, async () => {
        const run = await cli(args);
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, message);
      });
    }

    it('a public key given to --key', async () => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const run = await cli(['sign', '--key', file('public.pem', publicKey.export({ type: 'spki', format: 'pem' }) as string)]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--key must be a private key/);
    });

    it('an algorithm the key does not suit', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const run = await cli(['sign', '--key', file('ec.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), '--alg', 'ES384']);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--alg ES384 does not fit this key, which signs ES256/);
    });
  });
});
