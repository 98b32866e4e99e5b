/**
 * The runner of commands that the tests of README and examples start (`npx tsx quickstart.ts`): bounded in
 * time, and nothing it started outlives it. `execFile`'s own timeout killed npx alone: tsx and node ran
 * on, orphaned, with the quick start's open port, after the test had failed and deleted their directory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBounded } from '../support/bounded-run.ts';

/** A node program that starts a child that never ends, prints the child's pid, then `then`. */
function parentOf(then: 'wait' | 'exit'): string[] {
  const child = `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' })`;
  return ['-e', `const c = ${child}; console.log(c.pid); ${then === 'wait' ? 'setInterval(() => {}, 1000);' : 'c.unref();'}`];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` is gone within 5 s (a killed orphan is reaped by init, not at once). */
async function goneSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return !alive(pid);
}

/** Runs {@link parentOf}(`then`) with a bound of 1.5 s, asserts that the run failed, and gives the child's pid. */
async function childOfFailedRun(then: 'wait' | 'exit'): Promise<number> {
  const error = await runBounded(process.execPath, parentOf(then), { timeout: 1500 }).then(
    () => undefined,
    (e: unknown) => e as { stdout?: string },
  );
  assert.ok(error !== undefined, 'a run that leaves a process running did not end by itself: it must fail');
  const pid = Number(String(error.stdout).trim());
  assert.ok(pid > 0, `the child's pid in the output: ${String(error.stdout)}`);
  return pid;
}

describe('runBounded: a command and everything it started end within the bound', () => {
  it('a command that outlives the bound is killed with its children: it rejects, and no child is left', async () => {
    const pid = await childOfFailedRun('wait');
    assert.ok(await goneSoon(pid), `child ${pid} still runs after the bound`);
  });

  it('a command that ends but leaves a child behind: it rejects, and the child is killed', async () => {
    const pid = await childOfFailedRun('exit');
    assert.ok(await goneSoon(pid), `child ${pid} still runs after the run`);
  });

  it('a command that ends by itself: its output', async () => {
    const { stdout } = await runBounded(process.execPath, ['-e', 'console.log("done")'], { timeout: 10_000 });
    assert.equal(stdout.trim(), 'done');
  });
});
