/**
 * Every `grpc-jwt-auth` command line the docs show parses with the CLI's own flags: the README's blocks
 * and the ```sh blocks of TSDoc `@example`s (the one language the example checker does not compile). A
 * renamed or removed flag fails here, not in a reader's terminal.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCommandArgs, type Command } from '../../src/cli/args.ts';
import { inspectCommand } from '../../src/cli/inspect.ts';
import { revokeCommand, unrevokeCommand } from '../../src/cli/revoke.ts';
import { serveIssuerCommand } from '../../src/cli/serve-issuer.ts';
import { signCommand } from '../../src/cli/sign.ts';
import { README } from './readme-sections.ts';
import { sourceFiles } from './tsdoc-examples.ts';

const COMMANDS: Readonly<Record<string, Command>> = {
  inspect: inspectCommand,
  sign: signCommand,
  'serve-issuer': serveIssuerCommand,
  revoke: revokeCommand,
  unrevoke: unrevokeCommand,
};

/** The words of a shell line: quotes group, a `#` after a space starts a comment. */
function words(line: string): string[] {
  const found: string[] = [];
  for (const [, double, single, bare] of line.matchAll(/"([^"]*)"|'([^']*)'|(#.*$|[^\s"']+)/g)) {
    if (bare?.startsWith('#')) break;
    found.push(double ?? single ?? bare ?? '');
  }
  return found;
}

/** Each `grpc-jwt-auth ...` (or `npx grpc-jwt-auth ...`) line of the shell blocks of `text`, with where it is. */
function commandLines(text: string, where: string, fence: RegExp): Array<{ readonly where: string; readonly args: string[] }> {
  const lines: Array<{ where: string; args: string[] }> = [];
  for (const [, block = ''] of text.matchAll(fence)) {
    for (const line of block.split('\n')) {
      const args = words(line.replace(/^\s*\*\s?/, ''));
      if (args[0] === 'npx') args.shift();
      if (args.shift() === 'grpc-jwt-auth') lines.push({ where, args });
    }
  }
  return lines;
}

describe('CLI command lines in the docs', () => {
  const readme = commandLines(README, 'README.md', /```sh\n([\s\S]*?)```/g);
  const tsdoc = sourceFiles().flatMap((file) => commandLines(readFileSync(file, 'utf8'), file, /```sh\n([\s\S]*?)\*\s*```/g));

  it('the README and the TSDoc examples show command lines (the reader is still reading them)', () => {
    assert.ok(readme.length >= 4, `README: ${readme.length}`);
    assert.ok(tsdoc.length >= 1, `TSDoc: ${tsdoc.length}`);
  });

  it('each names a command and parses with its flags', () => {
    const broken: string[] = [];
    for (const { where, args } of [...readme, ...tsdoc]) {
      const [name = '', ...rest] = args;
      if (name === '--help' || name === '--version') continue;
      const command = COMMANDS[name];
      if (command === undefined) {
        broken.push(`${where}: grpc-jwt-auth ${args.join(' ')}: no command ${name}`);
        continue;
      }
      try {
        parseCommandArgs(rest, command.options, command.maxPositionals);
      } catch (error) {
        broken.push(`${where}: grpc-jwt-auth ${args.join(' ')}: ${(error as Error).message}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
