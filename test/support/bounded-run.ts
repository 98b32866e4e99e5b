/**
 * Runs a command the way a reader of the README would, for the tests that run what the docs say
 * (`npx tsx quickstart.ts`): to its end, bounded in time, and leaving nothing behind. `execFile`'s
 * `timeout` kills only the process it started: npx died, while tsx and the node it runs went on, orphaned,
 * holding the quick start's port after the test had failed and deleted their directory.
 *
 * So the command runs in a process group of its own, and when the run ends (at the bound, or once its
 * output closes) the whole group is killed. A run that ends but leaves a process holding its output is a
 * run that did not end by itself: it fails at the bound like one that hangs.
 */
import { spawn } from 'node:child_process';

/** What a run printed. */
export interface RunOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** Kills every process of the group `pid` leads; nothing to do when none is left. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already empty.
  }
}

/**
 * Runs `command` in `cwd` and resolves with its output once it exited 0 and every process it started is
 * gone; rejects (the error carries `stdout` and `stderr`) on another exit or when `timeout` milliseconds
 * pass first. Either way, no process of the run is left.
 *
 * @example
 * ```ts
 * const { stdout } = await runBounded('npx', ['tsx', 'quickstart.ts'], { cwd: project, timeout: 60_000 });
 * ```
 */
export function runBounded(command: string, args: readonly string[], options: { readonly cwd?: string; readonly timeout: number }): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeout);
    const fail = (message: string): void => reject(Object.assign(new Error(message), { stdout, stderr }));
    child.on('error', (error) => {
      clearTimeout(timer);
      killGroup(child.pid);
      fail(`${command} could not run: ${error.message}`);
    });
    // 'close' comes once the output pipes close: after the command and everything that shares its output.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(child.pid);
      if (timedOut) fail(`${command} ${args.join(' ')} did not end within ${options.timeout} ms`);
      else if (code !== 0) fail(`${command} ${args.join(' ')} ended with ${code ?? signal}:\n${stderr}`);
      else resolve({ stdout, stderr });
    });
  });
}
