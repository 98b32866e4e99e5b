/**
 * The parts of `npm run bench` added for issue 16 — floor, floor-path, fresh, fresh-grpc, mixed, import —
 * each runnable alone (`npm run bench -- floor`): how the in-process ones run, and how each one's figures
 * and ratios are printed. The floor's and fresh-grpc's load runs are bench/run.ts's, with the scenarios of
 * bench/floor.ts and bench/fresh-grpc.ts.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FLOOR_ALGORITHMS } from './floor.ts';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** The parts that run as one child process printing one JSON object, and the node flags they need. */
export const CHILD_PARTS = {
  'floor-path': { file: './floor-path.ts', execArgv: ['--expose-gc'] },
  fresh: { file: './fresh.ts', execArgv: ['--expose-gc'] },
  mixed: { file: './mixed.ts', execArgv: ['--expose-gc'] },
  import: { file: './import-time.ts', execArgv: [] },
} as const;

export function runChildPart(part: keyof typeof CHILD_PARTS, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const { file, execArgv } = CHILD_PARTS[part];
  const output = execFileSync(process.execPath, [...execArgv, '--import', 'tsx', here(file)], { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  return JSON.parse(output) as Record<string, unknown>;
}

interface LoadRow {
  readonly scenario: string;
  readonly callsPerSecond: number;
  readonly serverCpuMicrosPerCall: number;
  readonly errors: number;
}

/**
 * Per algorithm, each scenario's server CPU per call and its ratios: to the floor, to the baseline, and
 * the cached path's distance from the floor as a share of the baseline (the issue's "within 2%").
 */
export function floorSummary(rows: readonly LoadRow[]): Record<string, Record<string, number>> {
  const cpu = (name: string) => rows.find((row) => row.scenario === name)?.serverCpuMicrosPerCall ?? Number.NaN;
  const summary: Record<string, Record<string, number>> = {};
  for (const alg of FLOOR_ALGORITHMS) {
    const baseline = cpu(`${alg} baseline (no auth)`);
    const floor = cpu(`${alg} floor`);
    const lib = cpu(`${alg} lib cached`);
    const fastJwt = cpu(`${alg} peer fast-jwt+cache`);
    summary[alg] = {
      'baseline CPU µs/call': baseline,
      'floor CPU µs/call': floor,
      'lib cached CPU µs/call': lib,
      'fast-jwt+cache CPU µs/call': fastJwt,
      'floor × baseline': floor / baseline,
      'lib cached × floor': lib / floor,
      'fast-jwt+cache × floor': fastJwt / floor,
      'lib cached × fast-jwt+cache': lib / fastJwt,
      'lib cached − floor, share of baseline': (lib - floor) / baseline,
      errors: rows.filter((row) => row.scenario.startsWith(`${alg} `)).reduce((sum, row) => sum + row.errors, 0),
    };
  }
  return summary;
}

const num = (value: unknown, digits: number) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : String(value));

function printFloor(summary: Record<string, unknown>): void {
  console.log('\nfloor: the cached path against the interception floor (over gRPC, server CPU, one token per algorithm):');
  console.log(
    `  ${'alg'.padEnd(6)} ${'baseline µs'.padEnd(12)} ${'floor µs'.padEnd(9)} ${'lib µs'.padEnd(8)} ${'fast-jwt µs'.padEnd(12)} ${'lib×floor'.padEnd(10)} ${'fjwt×floor'.padEnd(11)} ${'lib×fjwt'.padEnd(9)} ${'(lib−floor)/base'.padEnd(17)} errors`,
  );
  for (const [alg, row] of Object.entries(summary) as Array<[string, Record<string, number>]>) {
    console.log(
      `  ${alg.padEnd(6)} ${num(row['baseline CPU µs/call'], 1).padEnd(12)} ${num(row['floor CPU µs/call'], 1).padEnd(9)} ${num(row['lib cached CPU µs/call'], 1).padEnd(8)} ${num(row['fast-jwt+cache CPU µs/call'], 1).padEnd(12)} ${num(row['lib cached × floor'], 3).padEnd(10)} ${num(row['fast-jwt+cache × floor'], 3).padEnd(11)} ${num(row['lib cached × fast-jwt+cache'], 3).padEnd(9)} ${`${num(100 * (row['lib cached − floor, share of baseline'] as number), 1)}%`.padEnd(17)} ${row.errors}`,
    );
  }
}

function printFloorPath(result: Record<string, unknown>): void {
  console.log('\nfloor-path: the same, in process without the network (driven as grpc-js drives it), CPU ns per admitted call:');
  console.log(`  ${'alg'.padEnd(6)} ${'floor ns'.padEnd(9)} ${'lib ns'.padEnd(9)} ${'lib − floor'.padEnd(12)} lib × floor`);
  for (const [alg, row] of Object.entries(result) as Array<[string, Record<string, number>]>) {
    if (alg === 'settings') continue;
    console.log(
      `  ${alg.padEnd(6)} ${num(row['floor (CPU ns/call)'], 0).padEnd(9)} ${num(row['lib cached (CPU ns/call)'], 0).padEnd(9)} ${num(row['lib cached − floor (ns)'], 0).padEnd(12)} ${num(row['lib cached × floor'], 3)}`,
    );
  }
}

function printFresh(result: Record<string, unknown>): void {
  console.log('\nfresh: a new token per call, in process, 32 in flight, CPU µs/call against jose.jwtVerify (same key) in this run:');
  console.log(`  ${'alg'.padEnd(6)} ${'jose µs'.padEnd(9)} ${'cache on µs'.padEnd(12)} ${'× jose'.padEnd(7)} ${'cache off µs'.padEnd(13)} × jose`);
  for (const [alg, row] of Object.entries(result) as Array<[string, Record<string, number>]>) {
    if (alg === 'settings') continue;
    console.log(
      `  ${alg.padEnd(6)} ${num(row['jose.jwtVerify (CPU µs/call)'], 1).padEnd(9)} ${num(row['lib cache on (default) (CPU µs/call)'], 1).padEnd(12)} ${num(row['lib cache on (default) (× jose)'], 3).padEnd(7)} ${num(row['lib cache off (CPU µs/call)'], 1).padEnd(13)} ${num(row['lib cache off (× jose)'], 3)}`,
    );
    const raw = row['jose.jwtVerify, raw secret bytes (CPU µs/call)'];
    if (raw !== undefined)
      console.log(
        `         (jose given the raw secret bytes, re-imported per call: ${num(raw, 1)} µs, ${num(row['jose.jwtVerify, raw secret bytes (× jose)'], 3)}× jose)`,
      );
  }
}

function printFreshGrpc(summary: Record<string, unknown>): void {
  console.log('\nfresh-grpc: a new token per call over gRPC, server CPU µs/call, against an interceptor written with jose alone:');
  console.log(
    `  ${'alg'.padEnd(6)} ${'baseline'.padEnd(9)} ${'jose only'.padEnd(10)} ${'cache on'.padEnd(9)} ${'× jose'.padEnd(7)} ${'cache off'.padEnd(10)} ${'× jose'.padEnd(7)} ${'auth work on/off × jose'.padEnd(24)} errors`,
  );
  for (const [alg, row] of Object.entries(summary) as Array<[string, Record<string, number | boolean>]>) {
    const reused = row['cache on saw a token twice'] === true ? '  (pool too small: cache-on saw a token twice)' : '';
    console.log(
      `  ${alg.padEnd(6)} ${num(row['baseline CPU µs/call'], 1).padEnd(9)} ${num(row['jose only CPU µs/call'], 1).padEnd(10)} ${num(row['lib cache on CPU µs/call'], 1).padEnd(9)} ${num(row['lib cache on × jose only'], 3).padEnd(7)} ${num(row['lib cache off CPU µs/call'], 1).padEnd(10)} ${num(row['lib cache off × jose only'], 3).padEnd(7)} ${`${num(row['auth work, cache on × jose only'], 3)} / ${num(row['auth work, cache off × jose only'], 3)}`.padEnd(24)} ${String(row.errors)}${reused}`,
    );
  }
}

function printMixed(result: Record<string, unknown>): void {
  console.log("\nmixed: reused and one-shot tokens through createAuthenticator, in process, 32 in flight (the issue's: 100 reused + 10% one-shot, ES256):");
  console.log(
    `  ${'workload'.padEnd(54)} ${'entries'.padEnd(8)} ${'ideal'.padEnd(8)} ${'hit rate'.padEnd(9)} ${'reused hit'.padEnd(11)} ${'verifications'.padEnd(14)} ${'CPU µs/call'.padEnd(12)} × reused only`,
  );
  for (const [name, row] of Object.entries(result) as Array<[string, Record<string, number>]>) {
    if (name === 'settings') continue;
    const percent = (value: unknown) => `${num(100 * (value as number), 1)}%`;
    console.log(
      `  ${name.padEnd(54)} ${String(row.maxEntries).padEnd(8)} ${percent(row['ideal hit rate']).padEnd(8)} ${percent(row['hit rate']).padEnd(9)} ${percent(row['reused tokens hit rate']).padEnd(11)} ${String(row.verifications).padEnd(14)} ${num(row['CPU µs/call'], 2).padEnd(12)} ${num(row['(× reused only)'], 2)}`,
    );
  }
}

function printImport(result: Record<string, unknown>): void {
  console.log('\nimport: cold `await import(...)` in a new node process, median of samples:');
  for (const [name, value] of Object.entries(result)) {
    if (name !== 'settings') console.log(`  ${name.padEnd(44)} ${num(value, name.startsWith('(') ? 3 : 1)}`);
  }
}

export const PRINT_PART = {
  floor: printFloor,
  'floor-path': printFloorPath,
  fresh: printFresh,
  'fresh-grpc': printFreshGrpc,
  mixed: printMixed,
  import: printImport,
} as const;
export type Issue16Part = keyof typeof PRINT_PART;
export const isIssue16Part = (name: string | undefined): name is Issue16Part => name !== undefined && name in PRINT_PART;
