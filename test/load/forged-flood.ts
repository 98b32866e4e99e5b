/**
 * Admitted callers under a flood of forged tokens: does the bound on concurrent full verifications
 * (`maxConcurrentVerifications`) keep them served? Three processes on loopback: the server (two Echo
 * servers behind the interceptor, one with the bound under test, one without), a generator of admitted
 * calls (valid tokens already in the verified-token cache, at a fixed rate) and a generator of forged
 * calls (distinct ES256 and RS256 tokens whose signatures do not verify, as fast as FLOOD_CONCURRENCY
 * calls in flight allow). Scenarios, interleaved over two rounds:
 *
 * - `no flood`: admitted calls alone;
 * - `flood, no bound`: admitted calls and the flood, against the server without a bound;
 * - `flood, bound N`: the same against the server with the bound.
 *
 * Prints p50/p99/max latency of admitted calls per scenario (pooled over the rounds), the server's event
 * loop delay and CPU, what the flood got back, and the machine's load average. Stops by itself: about 40
 * s, never more than 60 (then it kills its children and exits 1). Not a test: figures, no assertion.
 *
 * Run: `npm run load -- flood` (or `node --import tsx test/load/forged-flood.ts`). Knobs: FLOOD_BOUND (default: the library's),
 * FLOOD_SECONDS (per scenario and round, 5), FLOOD_RATE (admitted calls/s, 200), FLOOD_CONCURRENCY (256).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { keyToken } from '../security/forge.ts';
import { DEFAULT_MAX_CONCURRENT_VERIFICATIONS } from '../../src/verify/verification-limit.ts';
import type { ForgedTemplate } from './flood-client.ts';
import { FLOOD_AUDIENCE, FLOOD_ISSUER } from './flood-server.ts';

const BOUND = Number(process.env.FLOOD_BOUND ?? DEFAULT_MAX_CONCURRENT_VERIFICATIONS);
const SECONDS = Number(process.env.FLOOD_SECONDS ?? 5);
const RATE = Number(process.env.FLOOD_RATE ?? 200);
const CONCURRENCY = Number(process.env.FLOOD_CONCURRENCY ?? 256);
const HARD_LIMIT_MS = 60_000;
/** The flood starts this long before the admitted calls and ends this long after them. */
const RAMP_MS = 500;

const startedAt = Date.now();
const children: ChildProcess[] = [];

/** A child and a request/reply channel to it. */
function start(file: string) {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  let nextId = 0;
  const waiting = new Map<number, { resolve: (reply: any) => void; reject: (error: Error) => void }>();
  child.on('message', (reply: { id: number; error?: string }) => {
    const waiter = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(reply);
  });
  child.on('exit', () => {
    for (const waiter of waiting.values()) waiter.reject(new Error(`${file} exited`));
  });
  return (request: object): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ id, ...request });
    });
}

const hardStop = setTimeout(() => {
  console.error(`forged-flood: over ${HARD_LIMIT_MS / 1000} s, stopped`);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}, HARD_LIMIT_MS);
hardStop.unref();

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const ms = (value: number): string => value.toFixed(2).padStart(8);

interface Scenario {
  readonly name: string;
  readonly port: number | undefined;
  readonly flood: boolean;
  latencies: number[];
  failures: number;
  delays: Array<{ p50: number; p99: number; max: number }>;
  cpuPerSecond: number[];
  floodSent: number;
  floodStatuses: Record<string, number>;
}

async function main(): Promise<void> {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: FLOOD_ISSUER, aud: FLOOD_AUDIENCE, iat: now, exp: now + 3600 };
  const tokens = Array.from({ length: 20 }, (_, i) => keyToken('ES256', ec.privateKey, { kid: 'ec-1' }, { ...claims, sub: `caller-${i}` }));
  const header = (alg: string, kid: string): string => Buffer.from(JSON.stringify({ alg, kid })).toString('base64url');
  const templates: ForgedTemplate[] = [
    { header: header('ES256', 'ec-1'), claims: { ...claims, sub: 'attacker' }, signatureBytes: 64 },
    { header: header('RS256', 'rsa-1'), claims: { ...claims, sub: 'attacker' }, signatureBytes: 256 },
  ];

  const server = start('./flood-server.ts');
  const callers = start('./flood-client.ts');
  const attacker = start('./flood-client.ts');
  const ports = await server({
    start: {
      ecPem: ec.publicKey.export({ type: 'spki', format: 'pem' }),
      rsaPem: rsa.publicKey.export({ type: 'spki', format: 'pem' }),
      bound: BOUND,
    },
  });
  const load = [loadavg()];
  const scenario = (name: string, port: number, flood: boolean): Scenario => ({
    name,
    port,
    flood,
    latencies: [],
    failures: 0,
    delays: [],
    cpuPerSecond: [],
    floodSent: 0,
    floodStatuses: {},
  });
  const base = scenario('no flood', ports.bounded, false);
  const unbounded = scenario('flood, no bound', ports.unbounded, true);
  const bounded = scenario(`flood, bound ${BOUND}`, ports.bounded, true);

  async function run(target: Scenario): Promise<void> {
    await server({ mark: true });
    const began = performance.now();
    const flooding = target.flood
      ? attacker({ flood: { port: target.port, templates, concurrency: CONCURRENCY, seconds: SECONDS + (2 * RAMP_MS) / 1000 } })
      : Promise.resolve({ sent: 0, statuses: {} });
    if (target.flood) await new Promise((resolve) => setTimeout(resolve, RAMP_MS));
    const served = await callers({ admitted: { port: target.port, tokens, rate: RATE, seconds: SECONDS } });
    const flooded = await flooding;
    const mark = await server({ mark: true });
    target.latencies.push(...served.latencies);
    target.failures += served.failures;
    target.delays.push(mark.delay);
    target.cpuPerSecond.push(mark.cpu / 1000 / ((performance.now() - began) / 1000));
    target.floodSent += flooded.sent;
    for (const [status, count] of Object.entries(flooded.statuses as Record<string, number>))
      target.floodStatuses[status] = (target.floodStatuses[status] ?? 0) + count;
  }

  // Two rounds in mirrored order, so a drift of the machine's load weighs on every scenario alike.
  for (const target of [base, unbounded, bounded, bounded, unbounded, base]) await run(target);
  load.push(loadavg());
  await Promise.all([server({ stop: true }), callers({ stop: true }), attacker({ stop: true })]).catch(() => undefined);

  const lines = [
    `forged-flood: ${RATE} admitted calls/s (cached ES256 tokens) for ${SECONDS} s per scenario and round, 2 rounds; flood of distinct forged ES256/RS256 tokens, ${CONCURRENCY} in flight`,
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average ${load.map((l) => l.map((v) => v.toFixed(2)).join('/')).join(' → ')} (1/5/15 min, before → after)`,
    '',
    'scenario              admitted p50   p99 (ms)    max  failed | server loop delay p99 (ms)  CPU ms/s | flood calls/s  statuses',
  ];
  for (const target of [base, unbounded, bounded]) {
    const sorted = [...target.latencies].sort((a, b) => a - b);
    const loopP99 = Math.max(...target.delays.map((delay) => delay.p99));
    const cpu = target.cpuPerSecond.reduce((sum, value) => sum + value, 0) / target.cpuPerSecond.length;
    const floodRate = target.floodSent / (2 * (SECONDS + (2 * RAMP_MS) / 1000));
    const statuses = Object.entries(target.floodStatuses)
      .map(([status, count]) => `${status} ${count}`)
      .join(', ');
    lines.push(
      `${target.name.padEnd(20)} ${ms(percentile(sorted, 50))} ${ms(percentile(sorted, 99))} ${ms(sorted.at(-1) ?? Number.NaN)} ${String(target.failures).padStart(6)} | ${ms(loopP99).padStart(26)} ${cpu.toFixed(0).padStart(9)} | ${floodRate.toFixed(0).padStart(13)}  ${statuses || '-'}`,
    );
  }
  lines.push('', `total wall time ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  console.log(lines.join('\n'));
}

main().then(
  () => {
    clearTimeout(hardStop);
  },
  (error: unknown) => {
    console.error(error);
    for (const child of children) child.kill('SIGKILL');
    process.exitCode = 1;
  },
);
