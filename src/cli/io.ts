/**
 * What a command reads and writes. Commands never touch `process` directly, so tests run them in-process
 * with captured output.
 */

/**
 * The command's input and output.
 *
 * @example
 * ```ts
 * const io: CliIo = { out: (text) => process.stdout.write(`${text}\n`), err: (text) => process.stderr.write(`${text}\n`), readStdin };
 * ```
 */
export interface CliIo {
  /** Writes one line (or several, joined by newlines) to standard output. */
  out(text: string): void;
  /** Writes one line to standard error. */
  err(text: string): void;
  /** Reads standard input to its end. */
  readStdin(): Promise<string>;
  /** Resolves when the user asks to stop (Ctrl-C, SIGTERM); for long-running commands. */
  stopRequested(): Promise<string>;
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Exit codes: success, a failed check (e.g. a token that does not verify), a usage error. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/**
 * The real process's input and output.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), processIo());
 * ```
 */
export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
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
