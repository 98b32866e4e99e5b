/**
 * What a command reads and writes. Commands never touch `process` directly, so tests run them in-process
 * with captured output.
 */
import { UsageError } from './args.ts';

/** The most standard input read: a token is kilobytes. */
const MAX_STDIN_BYTES = 1024 * 1024;

/**
 * The program's input and output, raw: `runCli` hands commands a {@link CommandIo} over it that escapes
 * what they write, so nothing else should write here.
 *
 * @example
 * ```ts
 * // Captured output, as the tests run the CLI in-process:
 * let stdout = '';
 * const io: CliIo = {
 *   out: (text) => void (stdout += `${text}\n`),
 *   err: (text) => console.error(text),
 *   readStdin: async () => '',
 *   stopRequested: () => new Promise(() => undefined),
 *   now: Date.now,
 * };
 * ```
 */
export interface CliIo {
  /** Writes `text` to standard output as it is, then a newline. */
  out(text: string): void;
  /** Writes `text` to standard error as it is, then a newline. */
  err(text: string): void;
  /** Reads standard input to its end (at most 1 MiB: more is a usage error). */
  readStdin(): Promise<string>;
  /** Resolves when the user asks to stop (Ctrl-C, SIGTERM); for long-running commands. */
  stopRequested(): Promise<string>;
  /** Milliseconds since the epoch. */
  now(): number;
}

/**
 * What a command reads and writes. Each line it writes is escaped for the terminal on the way out
 * (`terminalSafeIo`): a newline, control or bidi character inside a line is shown as an escape, never
 * acted on, so text from a token cannot rewrite the screen or forge a line.
 *
 * @example
 * ```ts
 * import { lines } from './format.ts';
 * declare const io: CommandIo;
 * io.out('Header', ...lines([['alg', 'ES256'], ['kid', 'key-1']])); // three lines
 * io.out(...ownLines(JSON.stringify({ alg: 'ES256' }, null, 2)));
 * ```
 */
export interface CommandIo extends Omit<CliIo, 'out' | 'err'> {
  /** Writes lines to standard output. */
  out(...lines: string[]): void;
  /** Writes lines to standard error. */
  err(...lines: string[]): void;
}

/**
 * Splits text the program composed itself at its newlines, for {@link CommandIo}: a help text, or
 * `JSON.stringify` output (which never holds a raw newline inside a string). Never for text that
 * carries token content raw: there a newline must stay escaped.
 *
 * @example
 * ```ts
 * ownLines(JSON.stringify({ alg: 'ES256' }, null, 2)); // ['{', '  "alg": "ES256"', '}']
 * ```
 */
export function ownLines(text: string): string[] {
  return text.split('\n');
}

/**
 * Exit codes: success, a failed check (e.g. a token that does not verify), a usage error.
 *
 * @example
 * ```ts
 * declare const refused: boolean;
 * process.exitCode = refused ? EXIT.FAILED : EXIT.OK;
 * ```
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/**
 * The real process's input and output.
 *
 * @example
 * ```ts
 * import { runCli } from './run.ts';
 * process.exitCode = await runCli(process.argv.slice(2), processIo());
 * ```
 */
export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    async readStdin() {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of process.stdin) {
        size += (chunk as Buffer).length;
        // `--token - < /dev/zero` (or a pipe from the wrong command) must not grow until the machine
        // swaps: a token is kilobytes, so a megabyte is a mistake, reported as one (exit 2).
        if (size > MAX_STDIN_BYTES) {
          process.stdin.destroy();
          throw new UsageError(`standard input is larger than ${MAX_STDIN_BYTES} bytes: not a token`);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks).toString('utf8');
    },
    stopRequested: () =>
      new Promise((resolve) => {
        const signals = ['SIGINT', 'SIGTERM'] as const;
        const stop = (signal: NodeJS.Signals): void => {
          // Only the first signal is ours: a second Ctrl-C during shutdown kills the process as usual.
          for (const other of signals) process.off(other, stop);
          resolve(signal);
        };
        for (const signal of signals) process.on(signal, stop);
      }),
    now: Date.now,
  };
}
