/**
 * The floor part's in-process complement (issue 16): the floor interceptor and the library's cached
 * path driven as grpc-js drives them, without the network (bench/interceptor-path.ts), per algorithm
 * with the same token for both; CPU ns per admitted call, medians of interleaved rounds. The load run
 * cannot resolve a few microseconds on a shared 2-core machine; this can. Prints one JSON object:
 *
 *   node --expose-gc --import tsx bench/floor-path.ts
 */
import { FLOOR_ALGORITHMS, floorInterceptor, libraryInterceptor } from './floor.ts';
import { makeFixture, signToken } from './fixtures.ts';
import { prime, timeCalls } from './interceptor-path.ts';

const ROUNDS = Number(process.env.BENCH_FLOOR_PATH_ROUNDS ?? 5);
const ITERATIONS = Number(process.env.BENCH_FLOOR_PATH_ITERATIONS ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const result: Record<string, unknown> = { settings: { rounds: ROUNDS, iterations: ITERATIONS } };
for (const alg of FLOOR_ALGORITHMS) {
  const fixture = makeFixture(alg);
  const token = await signToken(fixture, `floor-path-${alg}`);
  const interceptors = {
    floor: floorInterceptor(new Map([[`Bearer ${token}`, { subject: 'bench-user' }]])),
    'lib cached': libraryInterceptor(fixture),
  };
  for (const interceptor of Object.values(interceptors)) await prime(interceptor, token);
  const entries = Object.entries(interceptors);
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < entries.length; i++) {
      const [name, interceptor] = entries[(round + i) % entries.length] as (typeof entries)[number];
      gc?.();
      (samples[name] ??= []).push(timeCalls(interceptor, token, ITERATIONS));
    }
  }
  const floor = median(samples.floor as number[]);
  const lib = median(samples['lib cached'] as number[]);
  result[alg] = { 'floor (CPU ns/call)': floor, 'lib cached (CPU ns/call)': lib, 'lib cached − floor (ns)': lib - floor, 'lib cached × floor': lib / floor };
}
process.stdout.write(JSON.stringify(result));
