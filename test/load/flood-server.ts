/**
 * The server side of `test/load/forged-flood.ts`, a child process: two Echo servers behind the real
 * interceptor (ES256 and RS256 keys from PEM), one with `maxConcurrentVerifications` at the bound under
 * test, one with the bound out of the way (1,000,000). Talks to the parent over IPC, each request
 * carrying an `id` its reply repeats:
 * `{ start: { ecPem, rsaPem, bound } }` → `{ bounded, unbounded }` (ports);
 * `{ mark: true }` → `{ cpu, delay }` (CPU time since the last mark, in µs, and the event loop delay
 * percentiles over that span, in ms); `{ stop: true }` → `{ stopped }`, then the process exits.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAuthInterceptor, fromPem } from '../../src/index.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { answerParent } from './parent-channel.ts';

export const FLOOD_ISSUER = 'https://idp.flood.test/';
export const FLOOD_AUDIENCE = 'flood-api';
/** The bound that stands for "no bound": the largest the option takes. */
export const NO_BOUND = 1_000_000;

type Request = { readonly id: number } & ({ start: { ecPem: string; rsaPem: string; bound: number } } | { mark: true } | { stop: true });

const servers: EchoServer[] = [];
const delay = monitorEventLoopDelay({ resolution: 10 });
let lastCpu = process.cpuUsage();

async function serve(ecPem: string, rsaPem: string, bound: number): Promise<number> {
  const auth = createAuthInterceptor({
    keys: fromPem({ 'ec-1': ecPem, 'rsa-1': rsaPem }),
    algorithms: ['ES256', 'RS256'],
    issuer: FLOOD_ISSUER,
    audience: FLOOD_AUDIENCE,
    maxConcurrentVerifications: bound,
  });
  const echo = await startEchoServer({ interceptors: [auth] });
  servers.push(echo);
  return echo.port;
}

async function handle(request: Request): Promise<unknown> {
  if ('start' in request) {
    const { ecPem, rsaPem, bound } = request.start;
    const bounded = await serve(ecPem, rsaPem, bound);
    const unbounded = await serve(ecPem, rsaPem, NO_BOUND);
    delay.enable();
    return { bounded, unbounded };
  }
  if ('mark' in request) {
    const cpu = process.cpuUsage(lastCpu);
    lastCpu = process.cpuUsage();
    const ms = (nanoseconds: number): number => Math.round(nanoseconds / 1e4) / 100;
    const reply = { cpu: cpu.user + cpu.system, delay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) } };
    delay.reset();
    return reply;
  }
  delay.disable();
  await Promise.all(servers.map((server) => server.close()));
  return { stopped: true };
}

answerParent(handle, { exitWithParent: true });
