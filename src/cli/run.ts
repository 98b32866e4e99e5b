/** The `grpc-jwt-auth` command line: picks the command, turns errors into messages and exit codes. */
import { readFileSync } from 'node:fs';
import { UsageError, parseCommandArgs, type Command } from './args.ts';
import { EXIT, ownLines, type CliIo } from './io.ts';
import { terminalSafeIo } from './terminal-text.ts';

// Loaded on demand: `inspect` never loads grpc-js, which only the test issuer needs.
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  inspect: async () => (await import('./inspect.ts')).inspectCommand,
  sign: async () => (await import('./sign.ts')).signCommand,
  'serve-issuer': async () => (await import('./serve-issuer.ts')).serveIssuerCommand,
  // Only these two load the redis client (an optional peer dependency).
  revoke: async () => (await import('./revoke.ts')).revokeCommand,
  unrevoke: async () => (await import('./revoke.ts')).unrevokeCommand,
};

const MAIN_HELP = `Usage: grpc-jwt-auth <command> [options]

Commands:
  inspect <token | ->   show a token's header and claims; with keys, verify it as a server would
                        and explain exactly which check fails and how to fix it
  sign                  mint a development token, with a fresh test key or a key you give
  serve-issuer          run a loopback identity provider (discovery, JWKS, /token) for development
  revoke                revoke a token, a subject or a client on every server sharing a Redis;
                        --list shows the revocations
  unrevoke              remove a revocation (or all of them)

Run 'grpc-jwt-auth <command> --help' for a command's options.
Exit status: 0 success, 1 a token was refused, Redis failed (or another failure), 2 a usage error.`;

function version(): string {
  // The same relative path from src/cli/ and from dist/cli/.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/**
 * Runs the command line `args` (without `node` and the script) and resolves with the exit code.
 * Everything written goes through {@link terminalSafeIo}: this is the one place text leaves the
 * program, so no output path (a report, a diagnosis, an error quoting a token) can skip the escaping.
 *
 * @example
 * ```ts
 * import { processIo } from './io.ts';
 * process.exitCode = await runCli(process.argv.slice(2), processIo());
 * ```
 */
export async function runCli(args: readonly string[], rawIo: CliIo): Promise<number> {
  const io = terminalSafeIo(rawIo);
  const [first, ...rest] = args;
  if (first === '--help' || first === '-h') {
    io.out(...ownLines(MAIN_HELP));
    return EXIT.OK;
  }
  if (first === '--version') {
    io.out(version());
    return EXIT.OK;
  }
  if (first === undefined) {
    io.err(...ownLines(MAIN_HELP));
    return EXIT.USAGE;
  }
  // `help <command>` is `<command> --help`; `help` alone is `--help`.
  if (first === 'help' && rest[0] === undefined) {
    io.out(...ownLines(MAIN_HELP));
    return EXIT.OK;
  }
  const [name, commandArgs] = first === 'help' ? [rest[0] as string, ['--help']] : [first, rest];
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load === undefined) {
    io.err(`grpc-jwt-auth: unknown command ${JSON.stringify(name)}; the commands are ${Object.keys(COMMANDS).join(', ')}`);
    return EXIT.USAGE;
  }
  try {
    const command = await load();
    const parsed = parseCommandArgs(commandArgs, command.options, command.maxPositionals);
    if (parsed.values.help) {
      io.out(...ownLines(command.help));
      return EXIT.OK;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`grpc-jwt-auth ${name}: ${error.message}`);
      io.err(`Run 'grpc-jwt-auth ${name} --help' for usage.`);
      return EXIT.USAGE;
    }
    io.err(`grpc-jwt-auth ${name}: ${(error as Error)?.message ?? String(error)}`);
    return EXIT.FAILED;
  }
}
