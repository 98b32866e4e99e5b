/**
 * Every CLI command refuses a single-valued string flag given twice (parseArgs alone keeps the last
 * value: `sign --sub alice --sub bob` signed for bob, `revoke --subject alice --subject bob` revoked bob
 * only). Attacks, for every command and every such flag: `--f a --f b`, `--f=a --f=b`, mixed forms,
 * equal values, empty values, negative numbers; after the `--` terminator; booleans and `-h` repeated
 * (allowed: no value to lose); flags declared repeatable still repeat. Exit code 2, the flag named, the
 * values (possibly secrets) never echoed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from '../../src/cli/args.ts';
import { inspectCommand } from '../../src/cli/inspect.ts';
import { revokeCommand, unrevokeCommand } from '../../src/cli/revoke.ts';
import { serveIssuerCommand } from '../../src/cli/serve-issuer.ts';
import { signCommand } from '../../src/cli/sign.ts';
import { cli } from '../support/cli.ts';

const COMMANDS: ReadonlyArray<readonly [string, Command]> = [
  ['sign', signCommand],
  ['inspect', inspectCommand],
  ['serve-issuer', serveIssuerCommand],
  ['revoke', revokeCommand],
  ['unrevoke', unrevokeCommand],
];
const USAGE = 2;
const REPEATED = (flag: string): RegExp => new RegExp(`^grpc-jwt-auth [a-z-]+: --${flag} is given more than once: give it once\\n`);

describe('cli: a single-valued flag given twice → exit 2 naming the flag, whatever the command', () => {
  for (const [name, command] of COMMANDS) {
    const single = Object.entries(command.options)
      .filter(([, option]) => option.type === 'string' && option.multiple !== true)
      .map(([flag]) => flag);
    it(`${name}: every single-valued flag (${single.join(', ')}) given twice, in each form, is refused before anything runs`, async () => {
      assert.ok(single.length > 0);
      for (const flag of single) {
        const forms: ReadonlyArray<readonly string[]> = [
          [`--${flag}`, 'first-value-1', `--${flag}`, 'second-value-2'],
          [`--${flag}=first-value-1`, `--${flag}=second-value-2`],
          [`--${flag}`, 'first-value-1', `--${flag}=second-value-2`],
          [`--${flag}=same-value-3`, `--${flag}=same-value-3`],
          [`--${flag}=`, `--${flag}=second-value-2`],
          [`--${flag}=-60`, `--${flag}=-60`],
          // --help does not rescue a contradictory command line: the repeat is reported first.
          [`--${flag}=first-value-1`, '--help', `--${flag}=second-value-2`],
        ];
        for (const form of forms) {
          const run = await cli([name, ...form]);
          assert.equal(run.code, USAGE, `${name} ${form.join(' ')}: ${run.stderr}`);
          assert.match(run.stderr, REPEATED(flag), `${name} ${form.join(' ')}`);
          // A value may be a secret (--secret, --redis with a password, --token): never echoed back.
          assert.doesNotMatch(run.stderr, /first-value-1|second-value-2|same-value-3/u);
          assert.equal(run.stdout, '');
        }
      }
    });
  }

  it('a flag after the -- terminator is a positional, not a repeat: sign refuses it as an unexpected argument', async () => {
    const run = await cli(['sign', '--sub', 'alice', '--', '--sub', 'bob']);
    assert.equal(run.code, USAGE);
    assert.match(run.stderr, /unexpected argument "--sub"/u);
    assert.doesNotMatch(run.stderr, /more than once/u);
  });

  it('inspect: --jwks a -- --jwks → the second is the token positional (not a repeat); a third word is refused', async () => {
    const run = await cli(['inspect', '--jwks', 'a', '--', '--jwks', 'extra']);
    assert.equal(run.code, USAGE);
    assert.match(run.stderr, /unexpected argument "extra"/u);
  });

  it('a negative number without = stays ambiguous (parseArgs), before any repeat check', async () => {
    const run = await cli(['sign', '--expires-in', '-60', '--expires-in', '-60']);
    assert.equal(run.code, USAGE);
    assert.match(run.stderr, /argument is ambiguous/u);
  });
});

describe('cli: repeats that stay allowed', () => {
  const SECRET = 'a-secret-of-thirty-two-bytes-or-more!';

  it('sign --json --json (a boolean has no value to lose) → exit 0', async () => {
    const run = await cli(['sign', '--secret', SECRET, '--json', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(JSON.parse(run.stdout));
  });

  it('sign -h -h and --help -h → help, exit 0', async () => {
    for (const args of [
      ['sign', '-h', '-h'],
      ['sign', '--help', '-h'],
    ]) {
      const run = await cli(args);
      assert.equal(run.code, 0);
      assert.match(run.stdout, /sign/u);
    }
  });

  it('sign --aud a --aud b and --claim twice (declared repeatable) → a token for both audiences and both claims', async () => {
    const run = await cli(['sign', '--secret', SECRET, '--aud', 'a', '--aud=b', '--claim', 'x=1', '--claim', 'y=2']);
    assert.equal(run.code, 0, run.stderr);
    const payload = JSON.parse(Buffer.from(run.stdout.trim().split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(payload.aud, ['a', 'b']);
    assert.equal(payload.x, 1);
    assert.equal(payload.y, 2);
  });

  it('inspect --alg, --iss, --aud and serve-issuer --client repeated → never refused as a repeat', async () => {
    for (const args of [
      ['inspect', '--alg', 'ES256', '--alg', 'RS256', '--iss', 'a', '--iss', 'b', '--aud', 'a', '--aud', 'b', '--secret', SECRET, 'not-a-token'],
      ['serve-issuer', '--client', 'a:one', '--client', 'b:two', '--port', 'not-a-port'],
    ]) {
      const run = await cli(args);
      assert.doesNotMatch(run.stderr, /more than once/u, `${args.join(' ')}: ${run.stderr}`);
      assert.notEqual(run.code, 0);
    }
  });
});
