/**
 * `npm run bench`: server and load generator in separate processes on loopback, scenarios interleaved
 * (A B C ... A B C ...) for several rounds, medians reported. The server measures its own CPU time per
 * call: on a 2-core machine where the load generator competes for CPU, that is the robust figure.
 * Then the verify-path micro-benchmark and the memory run. Prints a table and writes
 * bench/results/latest.json. `npm run bench -- revocations` runs the revocation part alone; so do
 * `-- floor`, `-- floor-path`, `-- fresh`, `-- fresh-grpc`, `-- mixed` and `-- import` (issue 16, bench/parts.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freshGrpcSummary } from './fresh-grpc.ts';
import { CHILD_PARTS, floorSummary, isIssue16Part, PRINT_PART, runChildPart, type Issue16Part } from './parts.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
// The floor part's 16 scenarios (4 algorithms × baseline, floor, lib, fast-jwt) within ~90 s.
const FLOOR_ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 4);
const FLOOR_DURATION_MS = Number(process.env.BENCH_FLOOR_DURATION_MS ?? 1000);
// The fresh-grpc part's 16 scenarios, the same way (plus signing its token pools, ~20 s).
const FRESH_GRPC_ROUNDS = Number(process.env.BENCH_FRESH_GRPC_ROUNDS ?? 4);
const FRESH_GRPC_DURATION_MS = Number(process.env.BENCH_FRESH_GRPC_DURATION_MS ?? 1000);
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

interface ScenarioInfo {
  readonly name: string;
  readonly port: number;
  readonly tokens: string[];
}

// Benchmark what users run: the built package, not the TypeScript sources.
execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
const env = { ...process.env, BENCH_LIBRARY: fileURLToPath(new URL('../dist/index.js', import.meta.url)) };

function start(file: string, execArgv: string[] = [], part?: string): ChildProcess {
  const childEnv = part === undefined ? env : { ...env, BENCH_PART: part };
  return fork(here(file), [], { execArgv: ['--import', 'tsx', ...execArgv], env: childEnv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

let nextId = 0;
function request<T>(child: ChildProcess, message: Record<string, unknown>, type: string): Promise<T> {
  const id = nextId++;
  return new Promise((resolve) => {
    const onMessage = (reply: { type: string; id?: number }) => {
      if (reply.type === type && reply.id === id) {
        child.off('message', onMessage);
        resolve(reply as T);
      }
    };
    child.on('message', onMessage);
    child.send({ ...message, id });
  });
}

function once<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (reply: { type: string }) => {
      if (reply.type === type) {
        child.off('message', onMessage);
        resolve(reply as T);
      }
    };
    child.on('message', onMessage);
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

interface Mark {
  cpuMicros: number;
  calls: Record<string, number>;
}
interface RunResult {
  calls: number;
  errors: number;
  p50: number;
  p99: number;
  /** Whether the load generator went round the scenario's tokens (a pool meant to be one-shot was too small). */
  tokensReused: boolean;
}

async function measure(server: ChildProcess, client: ChildProcess, scenario: ScenarioInfo, durationMs: number) {
  const before = await request<Mark>(server, { type: 'mark' }, 'mark');
  const run = await request<RunResult>(client, { type: 'run', port: scenario.port, tokens: scenario.tokens, durationMs, concurrency: CONCURRENCY }, 'result');
  const after = await request<Mark>(server, { type: 'mark' }, 'mark');
  const served = (after.calls[scenario.name] ?? 0) - (before.calls[scenario.name] ?? 0);
  return {
    throughput: run.calls / (durationMs / 1000),
    cpuPerCallMicros: served > 0 ? (after.cpuMicros - before.cpuMicros) / served : Number.NaN,
    errors: run.errors,
    p50: run.p50,
    p99: run.p99,
    tokensReused: run.tokensReused,
  };
}

/** `part`: another scenario set of bench/server.ts (`floor`: bench/floor.ts). */
async function loadBenchmark(part?: string, rounds = ROUNDS, durationMs = DURATION_MS) {
  const server = start('./server.ts', [], part);
  const { scenarios } = await once<{ scenarios: ScenarioInfo[] }>(server, 'ready');
  const client = start('./client.ts');
  await once(client, 'ready');
  for (const scenario of scenarios) await measure(server, client, scenario, 500); // warm-up: JIT, keys, caches
  const samples = new Map<string, Array<Awaited<ReturnType<typeof measure>>>>();
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) {
      const sample = await measure(server, client, scenario, durationMs);
      samples.set(scenario.name, [...(samples.get(scenario.name) ?? []), sample]);
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }
  server.send({ type: 'exit' });
  client.send({ type: 'exit' });
  const rows = scenarios.map((scenario) => {
    const list = samples.get(scenario.name) ?? [];
    return {
      scenario: scenario.name,
      callsPerSecond: median(list.map((s) => s.throughput)),
      serverCpuMicrosPerCall: median(list.map((s) => s.cpuPerCallMicros)),
      p50Ms: median(list.map((s) => s.p50)),
      p99Ms: median(list.map((s) => s.p99)),
      errors: list.reduce((sum, s) => sum + s.errors, 0),
      tokensReused: list.some((s) => s.tokensReused),
    };
  });
  const baseline = rows[0] as (typeof rows)[number];
  return rows.map((row) => ({
    ...row,
    throughputRatio: row.callsPerSecond / baseline.callsPerSecond,
    cpuOverBaselineMicros: row.serverCpuMicrosPerCall - baseline.serverCpuMicrosPerCall,
  }));
}

function microBenchmark(): Record<string, unknown> {
  const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', here('./micro.ts')], { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  return JSON.parse(output) as Record<string, unknown>;
}

/** The cost of sender-constrained tokens: DPoP proofs made (client) and checked (server), against a jwtVerify in the same run. */
function senderConstraintBenchmark(): { client: Record<string, number>; server: Record<string, number> } {
  const output = execFileSync(process.execPath, ['--import', 'tsx', here('./dpop.ts')], { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  return JSON.parse(output) as { client: Record<string, number>; server: Record<string, number> };
}

/** What revocations cost: the cached path per store, 100,000 entries in Redis, propagation, replay adds. */
function revocationsBenchmark(): Record<string, unknown> {
  const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', here('./revocations.ts')], { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  return JSON.parse(output) as Record<string, unknown>;
}

function printRevocations(result: Record<string, unknown>, section = 'revocations'): void {
  if (section === 'revocations') console.log('\nrevocations (bench/revocations.ts; the Redis stores share one process):');
  for (const [name, value] of Object.entries(result)) {
    if (name === 'settings') continue;
    if (typeof value === 'object' && value !== null) printRevocations(value as Record<string, unknown>, name);
    else console.log(`  ${section.padEnd(12)} ${name.padEnd(56)} ${typeof value === 'number' ? Number(value.toFixed(3)) : String(value)}`);
  }
}

// `npm run bench -- revocations`: that part alone; its entry replaces the one in bench/results/latest.json.
if (process.argv[2] === 'revocations') {
  const revocations = revocationsBenchmark();
  printRevocations(revocations);
  const latest = here('./results/latest.json');
  const previous = existsSync(latest) ? (JSON.parse(readFileSync(latest, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(latest, `${JSON.stringify({ ...previous, revocations }, null, 2)}\n`);
  console.log('\nwritten: the revocations entry of bench/results/latest.json');
  process.exit(0);
}

/** An issue-16 part: the floor's load run (its own scenarios, rounds and window) or a child process. */
async function issue16Part(part: Issue16Part): Promise<Record<string, unknown>> {
  if (part === 'floor') return floorSummary(await loadBenchmark('floor', FLOOR_ROUNDS, FLOOR_DURATION_MS));
  if (part === 'fresh-grpc') return freshGrpcSummary(await loadBenchmark('fresh-grpc', FRESH_GRPC_ROUNDS, FRESH_GRPC_DURATION_MS));
  return runChildPart(part as keyof typeof CHILD_PARTS, env);
}

// `npm run bench -- floor` (or floor-path, fresh, fresh-grpc, mixed, import): that part alone; its entry replaces the one in latest.json.
const requested = process.argv[2];
if (isIssue16Part(requested)) {
  const result = await issue16Part(requested);
  PRINT_PART[requested](result);
  const latest = here('./results/latest.json');
  const previous = existsSync(latest) ? (JSON.parse(readFileSync(latest, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(latest, `${JSON.stringify({ ...previous, [requested]: result }, null, 2)}\n`);
  console.log(`\nwritten: the ${requested} entry of bench/results/latest.json`);
  process.exit(0);
}

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
process.stderr.write(`load benchmark: ${ROUNDS} rounds × ${DURATION_MS} ms per scenario, concurrency ${CONCURRENCY}\n`);
const load = await loadBenchmark();
process.stderr.write('verify-path micro-benchmark and memory run...\n');
const micro = microBenchmark();
process.stderr.write('DPoP proof cost...\n');
const senderConstraint = senderConstraintBenchmark();
process.stderr.write('revocations...\n');
const revocations = revocationsBenchmark();
const issue16: Partial<Record<Issue16Part, Record<string, unknown>>> = {};
for (const part of Object.keys(PRINT_PART) as Issue16Part[]) {
  process.stderr.write(`${part}...\n`);
  issue16[part] = await issue16Part(part);
}

const pad = (text: string, width: number) => text.padEnd(width);
const num = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);
console.log(
  `${pad('scenario', 28)} ${pad('calls/s', 9)} ${pad('ratio', 6)} ${pad('CPU µs/call', 12)} ${pad('Δ µs', 7)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} errors`,
);
for (const row of load) {
  console.log(
    `${pad(row.scenario, 28)} ${pad(num(row.callsPerSecond, 0), 9)} ${pad(num(row.throughputRatio, 3), 6)} ${pad(num(row.serverCpuMicrosPerCall), 12)} ${pad(num(row.cpuOverBaselineMicros), 7)} ${pad(num(row.p50Ms, 2), 7)} ${pad(num(row.p99Ms, 2), 7)} ${row.errors}`,
  );
}
const telemetryOff = load.find((row) => row.scenario === 'lib HS256 reused, telemetry off');
if (telemetryOff !== undefined) {
  console.log('\ntelemetry on the cached path (HS256, one token), against telemetry off in this run:');
  for (const row of load.filter((r) => r.scenario === 'lib HS256 reused' || r.scenario.startsWith('lib HS256 reused, SDK'))) {
    const label = row.scenario === 'lib HS256 reused' ? 'default, no SDK (api no-op)' : row.scenario.replace('lib HS256 reused, ', '');
    console.log(
      `  ${pad(label, 30)} CPU ${num(row.serverCpuMicrosPerCall / telemetryOff.serverCpuMicrosPerCall, 3)}× (Δ ${num(row.serverCpuMicrosPerCall - telemetryOff.serverCpuMicrosPerCall)} µs/call), throughput ${num(row.callsPerSecond / telemetryOff.callsPerSecond, 3)}×`,
    );
  }
}
console.log('\ninterceptor, cached path without the network (HS256, one token), by telemetry setting:');
for (const [name, value] of Object.entries(micro.interceptorPath as Record<string, number>)) {
  console.log(`  ${pad(name, 50)} ${name.endsWith('(× off)') ? `${num(value, 3)}×` : `${num(value / 1000, 2)} µs`}`);
}
console.log('\nDPoP client, CPU per proof against a jose.jwtVerify (ES256) in the same run:');
for (const [name, value] of Object.entries(senderConstraint.client))
  console.log(`  ${pad(name, 50)} ${name.endsWith('baseline)') ? `${num(value, 3)}×` : `${num(value, 1)} µs`}`);
console.log('\nDPoP server, CPU per proof check against a jose.jwtVerify (ES256) in the same run:');
for (const [name, value] of Object.entries(senderConstraint.server))
  console.log(`  ${pad(name, 50)} ${name.includes('(×') ? `${num(value, 3)}×` : `${num(value, 1)} µs`}`);
console.log('\nverify path alone:');
for (const [name, value] of Object.entries(micro.verifyPath as Record<string, number>)) console.log(`  ${pad(name, 50)} ${num(value / 1000, 2)} µs`);
printRevocations(revocations);
for (const [part, result] of Object.entries(issue16) as Array<[Issue16Part, Record<string, unknown>]>) PRINT_PART[part](result);
const memory = micro.memory as {
  calls: number;
  distinctTokens: number;
  seconds: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssAfterMiB: number;
  rssGrowthMiB: number;
  rssGrowthAfterGcMiB: number;
  heapRetainedMiB: number;
};
console.log(
  `\nmemory: ${memory.calls} calls over ${memory.distinctTokens} distinct tokens in ${num(memory.seconds)} s; RSS ${num(memory.rssBeforeMiB)} → peak ${num(memory.rssPeakMiB)} MiB (growth ${num(memory.rssGrowthMiB)} MiB), after GC ${num(memory.rssAfterMiB)} MiB (growth ${num(memory.rssGrowthAfterGcMiB)} MiB); heap retained after GC ${num(memory.heapRetainedMiB)} MiB`,
);

mkdirSync(here('./results'), { recursive: true });
writeFileSync(
  here('./results/latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), machine, settings: { rounds: ROUNDS, durationMs: DURATION_MS, concurrency: CONCURRENCY }, load, micro, senderConstraint, revocations, ...issue16 }, null, 2)}\n`,
);
console.log('\nwritten: bench/results/latest.json');
