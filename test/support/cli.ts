import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/run.ts';

/** What one CLI run printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in this process with captured output; `stdin` is what `-` reads. */
export async function cli(args: readonly string[], stdin = ''): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (text) => void (stdout += `${text}\n`),
    err: (text) => void (stderr += `${text}\n`),
    readStdin: async () => stdin,
    stopRequested: () => new Promise(() => undefined),
    now: Date.now,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/** The path of the CLI's entry point, for tests that run it themselves. */
export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Runs the CLI as a child process (`node --import tsx src/cli/main.ts`), feeding `stdin`. */
export function cliProcess(args: readonly string[], stdin = ''): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : undefined;
      if (code === undefined) reject(error);
      else resolve({ code, stdout, stderr });
    });
    // A command may stop reading early (input too large): the rest of `stdin` then meets a closed pipe.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(stdin);
  });
}
