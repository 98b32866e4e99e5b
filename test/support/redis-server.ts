/**
 * A real redis-server for tests: started on a free loopback port in a temporary directory, without
 * persistence, stopped after the test. Kill, restart (same port, empty data), pause (SIGSTOP: a hung
 * Redis whose sockets stay open) and slow writes (`CLIENT PAUSE`) let tests play outages.
 *
 * Without the `redis-server` binary, tests skip, unless GRPC_JWT_AUTH_REQUIRE_REDIS=1 (set by .ci/run):
 * then they fail, so CI never passes without having run them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext } from 'node:test';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** `SHUTDOWN NOSAVE` (SIGKILL after 2 s) and removes the directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, waits for the exit: connections drop at once. */
  kill(): Promise<void>;
  /** Starts again on the same port, with empty data (no persistence), after a kill or stop. */
  restart(): Promise<void>;
  /** SIGSTOP: the process hangs with its sockets open (a frozen or partitioned Redis). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Sends one command on a fresh connection and resolves with the raw reply text (for `CLIENT PAUSE`, `FLUSHALL`). */
  command(...args: string[]): Promise<string>;
}

/** True when the binary is on PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Skips the test (or fails it under GRPC_JWT_AUTH_REQUIRE_REDIS=1) when redis-server is missing; true
 * when the test may go on.
 */
export function redisAvailable(t: TestContext): boolean {
  if (hasRedisServer()) return true;
  if (process.env.GRPC_JWT_AUTH_REQUIRE_REDIS === '1') throw new Error('redis-server is not installed and GRPC_JWT_AUTH_REQUIRE_REDIS=1');
  t.skip('redis-server not installed (.ci/run installs it)');
  return false;
}

/** A loopback port nothing listens on now (bound, read, closed): a free port, or an unreachable Redis. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Encodes a command in RESP. */
function resp(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

function sendCommand(port: number, args: readonly string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${args[0]} timed out`));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.write(resp(args));
  });
}

async function waitForPong(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    try {
      if ((await sendCommand(port, ['PING'], 500)).startsWith('+PONG')) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within 5 s`);
}

function spawnRedis(port: number, dir: string): { child: ChildProcess; output: () => string } {
  const child = spawn(
    'redis-server',
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--daemonize', 'no',
      '--protected-mode', 'yes',
      '--loglevel', 'warning',
    ], // prettier-ignore
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { child, output: () => text };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a redis-server on a free loopback port; it is stopped after the test file (also when a test
 * fails). A port taken between the probe and the start is retried with another, five times. Call it at
 * the top level of a test file or inside a test, not in a `before` hook: Node 20 runs an `after`
 * registered inside a hook as soon as that hook ends, which would stop the server before the first test.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-jwt-auth-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  let lastError: unknown;

  async function launch(onPort: number): Promise<ChildProcess> {
    const started = spawnRedis(onPort, dir);
    try {
      await waitForPong(onPort, started.child);
      return started.child;
    } catch (error) {
      started.child.kill('SIGKILL');
      await exited(started.child);
      throw new Error(`${(error as Error).message}: ${started.output().trim()}`, { cause: error });
    }
  }

  for (let attempt = 0; attempt < 5 && child === undefined; attempt += 1) {
    port = await freePort();
    try {
      child = await launch(port);
    } catch (error) {
      lastError = error;
    }
  }
  if (child === undefined) throw new Error(`could not start redis-server: ${String(lastError)}`);

  let stopped = false;
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      if (child === undefined) return;
      const running = child;
      child = undefined;
      running.kill('SIGCONT');
      running.kill('SIGKILL');
      await exited(running);
    },
    async restart() {
      await server.kill();
      child = await launch(port);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    command: (...args) => sendCommand(port, args),
    async stop() {
      if (stopped) return;
      stopped = true;
      const running = child;
      child = undefined;
      if (running !== undefined) {
        running.kill('SIGCONT');
        const killer = setTimeout(() => running.kill('SIGKILL'), 2000);
        sendCommand(port, ['SHUTDOWN', 'NOSAVE'], 1000).catch(() => running.kill('SIGKILL'));
        await exited(running);
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  after(() => server.stop());
  return server;
}
