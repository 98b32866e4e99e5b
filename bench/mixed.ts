/**
 * Mixed workloads (issue 16), in process, through `createAuthenticator(...).authenticate`, 32 in flight:
 * calls from a set of reused tokens (the hot set) mixed with tokens never seen before (short-lived
 * tokens, DPoP-style flows, or an attacker).
 *
 * - The issue's workload, ES256: 90% of calls from 100 reused tokens, 10% one-shot, with the default
 *   cache and with `cache: { maxEntries: 1000 }`; and, for reference, the reused tokens alone.
 * - Workloads where the cache's admission policy matters, HS256 (cheap crypto, so they fit in the run;
 *   what differs between policies is how many verifications they cause, which the hit rates show):
 *   5,000 reused tokens with 10% or 50% one-shot calls at 10,000 entries, 5,000 reused tokens at 1,000
 *   entries (more users than the cache holds), and a flood of 90% one-shot calls; and the HS256 reference.
 *
 * Each cache is first driven to its steady state (each reused token seen several times, and more
 * one-shot tokens than the cache has entries), then measured over interleaved rounds. Verifications
 * are counted at the key resolver (one `getKeys` per signature check; a cache hit asks none), so: hit
 * rate = 1 − verifications / calls, and the reused tokens' (hot set's) hit rate = 1 − (verifications −
 * one-shot calls) / reused calls (every one-shot call costs a verification). CPU per call is the
 * process's, misses' verifications included; `(× reused only)` divides it by the reference of the same
 * algorithm in this run. Prints one JSON object:
 *
 *   node --expose-gc --import tsx bench/mixed.ts
 */
import { underTest } from './library.ts';
import { AUDIENCE, ISSUER, makeFixture, signMany, type AlgorithmFixture } from './fixtures.ts';

const { createAuthenticator, fromPem, fromSecret } = underTest;
type KeyResolver = ReturnType<typeof fromPem>;

const ROUNDS = Number(process.env.BENCH_MIXED_ROUNDS ?? 3);
const CALLS = Number(process.env.BENCH_MIXED_CALLS ?? 20_000);
const IN_FLIGHT = 32;
const DEFAULT_MAX_ENTRIES = 10_000;
const METHOD = '/bench.v1.Bench/Call';
const gc = (globalThis as { gc?: () => void }).gc;

const fixtures = { ES256: makeFixture('ES256'), HS256: makeFixture('HS256') };
type Alg = keyof typeof fixtures;

/** The resolver of the fixture's key, counting the verifications that ask it for keys. */
function countingKeys(fixture: AlgorithmFixture): { keys: KeyResolver; verifications: () => number } {
  const inner = fixture.alg === 'HS256' ? fromSecret({ 'bench-key': fixture.publicKey as Uint8Array }) : fromPem({ 'bench-key': fixture.publicPem as string });
  let count = 0;
  const keys = new Proxy(inner, {
    get(target, name) {
      const value = Reflect.get(target, name, target) as unknown;
      if (name === 'getKeys') return (...args: Parameters<KeyResolver['getKeys']>) => ((count += 1), target.getKeys(...args));
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { keys, verifications: () => count };
}

interface Workload {
  readonly name: string;
  readonly alg: Alg;
  readonly reusedTokens: number;
  /** Share of calls with a token never seen before. */
  readonly oneShotShare: number;
  /** The cache's bound; undefined: the default. */
  readonly maxEntries: number | undefined;
}

interface Setting extends Workload {
  readonly reused: readonly string[];
  readonly authenticate: (token: string) => Promise<unknown>;
  readonly verifications: () => number;
  seed: number;
  oneShotBatches: number;
}

/** `calls` tokens: a share of new ones, the others drawn uniformly from the reused set (xorshift32, per setting). */
function workload(each: Setting, calls: number): { tokens: string[]; oneShotCalls: number } {
  const draws = Array.from({ length: calls }, () => {
    each.seed ^= each.seed << 13;
    each.seed ^= each.seed >>> 17;
    each.seed ^= each.seed << 5;
    return (each.seed >>> 0) / 2 ** 32;
  });
  const oneShotCalls = draws.filter((draw) => draw < each.oneShotShare).length;
  const fresh = signMany(fixtures[each.alg], `one-shot-${each.name}-${each.oneShotBatches++}`, oneShotCalls);
  let nextFresh = 0;
  const tokens = draws.map((draw) =>
    draw < each.oneShotShare
      ? (fresh[nextFresh++] as string)
      : (each.reused[Math.floor(((draw - each.oneShotShare) / (1 - each.oneShotShare)) * each.reused.length)] as string),
  );
  return { tokens, oneShotCalls };
}

async function drive(authenticate: (token: string) => Promise<unknown>, tokens: readonly string[]): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) await authenticate(tokens[next++] as string);
  };
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 30));
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / tokens.length;
}

function setting(workload: Workload, index: number): Setting {
  const fixture = fixtures[workload.alg];
  const { keys, verifications } = countingKeys(fixture);
  const cache = workload.maxEntries === undefined ? {} : { cache: { maxEntries: workload.maxEntries } };
  const authenticator = createAuthenticator({ keys, algorithms: [workload.alg], issuer: ISSUER, audience: AUDIENCE, ...cache });
  return {
    ...workload,
    reused: signMany(fixture, `reused-${index}`, workload.reusedTokens),
    authenticate: (token) => authenticator.authenticate(token, METHOD),
    verifications,
    seed: 0x9e3779b9 ^ (index + 1),
    oneShotBatches: 0,
  };
}

const REFERENCE = { ES256: 'reference: reused tokens only, default cache', HS256: 'HS256 reference: 100 reused only, default cache' };
const WORKLOADS: Workload[] = [
  { name: 'default cache (10,000 entries)', alg: 'ES256', reusedTokens: 100, oneShotShare: 0.1, maxEntries: undefined },
  { name: 'cache: { maxEntries: 1000 }', alg: 'ES256', reusedTokens: 100, oneShotShare: 0.1, maxEntries: 1000 },
  { name: REFERENCE.ES256, alg: 'ES256', reusedTokens: 100, oneShotShare: 0, maxEntries: undefined },
  { name: 'HS256 5,000 reused + 10% one-shot, 10,000 entries', alg: 'HS256', reusedTokens: 5000, oneShotShare: 0.1, maxEntries: 10_000 },
  { name: 'HS256 5,000 reused + 50% one-shot, 10,000 entries', alg: 'HS256', reusedTokens: 5000, oneShotShare: 0.5, maxEntries: 10_000 },
  { name: 'HS256 5,000 reused + 10% one-shot, 1,000 entries', alg: 'HS256', reusedTokens: 5000, oneShotShare: 0.1, maxEntries: 1000 },
  { name: 'HS256 flood: 100 reused + 90% one-shot, 1,000 entries', alg: 'HS256', reusedTokens: 100, oneShotShare: 0.9, maxEntries: 1000 },
  { name: REFERENCE.HS256, alg: 'HS256', reusedTokens: 100, oneShotShare: 0, maxEntries: undefined },
];
const only = process.env.BENCH_MIXED_ONLY; // a substring of the names to run, for a quick look
const settings = WORKLOADS.filter((each) => only === undefined || each.name.includes(only) || each.oneShotShare === 0).map(setting);

for (const each of settings) {
  // Steady state: every reused token seen about four times, and more one-shot tokens than entries.
  const entries = each.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const warmCalls =
    each.oneShotShare === 0 ? CALLS : Math.ceil(Math.max((4 * each.reusedTokens) / (1 - each.oneShotShare), (1.2 * entries) / each.oneShotShare));
  process.stderr.write(`mixed: warming ${each.name} (${warmCalls} calls)\n`);
  for (let done = 0; done < warmCalls; done += CALLS) await drive(each.authenticate, workload(each, Math.min(CALLS, warmCalls - done)).tokens);
}
const samples = new Map<Setting, Array<{ cpu: number; calls: number; oneShotCalls: number; verifications: number }>>();
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < settings.length; i++) {
    const each = settings[(round + i) % settings.length] as Setting;
    const { tokens, oneShotCalls } = workload(each, CALLS);
    const before = each.verifications();
    const cpu = await drive(each.authenticate, tokens);
    samples.set(each, [...(samples.get(each) ?? []), { cpu, calls: tokens.length, oneShotCalls, verifications: each.verifications() - before }]);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const cpuOf = (each: Setting | undefined) => median((each === undefined ? [] : (samples.get(each) ?? [])).map((s) => s.cpu));
const references = { ES256: cpuOf(settings.find((s) => s.name === REFERENCE.ES256)), HS256: cpuOf(settings.find((s) => s.name === REFERENCE.HS256)) };
const result: Record<string, unknown> = {
  settings: { rounds: ROUNDS, callsPerSample: CALLS, inFlight: IN_FLIGHT, library: process.env.BENCH_LIBRARY ?? 'src' },
};
for (const each of settings) {
  const list = samples.get(each) ?? [];
  const sum = (pick: (s: (typeof list)[number]) => number) => list.reduce((total, s) => total + pick(s), 0);
  const calls = sum((s) => s.calls);
  const oneShotCalls = sum((s) => s.oneShotCalls);
  const verifications = sum((s) => s.verifications);
  const cpu = cpuOf(each);
  result[each.name] = {
    algorithm: each.alg,
    reusedTokens: each.reusedTokens,
    oneShotShare: each.oneShotShare,
    maxEntries: each.maxEntries ?? DEFAULT_MAX_ENTRIES,
    calls,
    verifications,
    'hit rate': 1 - verifications / calls,
    // The best any cache can do: every one-shot call is a miss.
    'ideal hit rate': 1 - oneShotCalls / calls,
    'reused tokens hit rate': 1 - (verifications - oneShotCalls) / (calls - oneShotCalls),
    'CPU µs/call': cpu,
    '(× reused only)': cpu / references[each.alg],
  };
}
process.stdout.write(JSON.stringify(result));
