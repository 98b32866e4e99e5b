/**
 * A mixed workload (issue 16), in process, ES256: 90% of calls from 100 reused tokens, 10% from tokens
 * never seen before (short-lived tokens, DPoP-style flows, or an attacker), through
 * `createAuthenticator(...).authenticate`, 32 in flight, with the default cache and with
 * `cache: { maxEntries: 1000 }`; and, for reference, the reused tokens alone with the default cache.
 * Each cache is first driven to its steady state (more one-shot tokens than it has entries), then
 * measured over interleaved rounds. Verifications are counted at the key resolver (one `getKeys` per
 * signature check; a cache hit asks none), so: hit rate = 1 − verifications / calls, and the reused
 * tokens' hit rate = 1 − (verifications − one-shot calls) / reused calls (every one-shot call costs a
 * verification; the ideal mixed hit rate is 90%). The "before" figure for an admission policy. Prints
 * one JSON object:
 *
 *   node --expose-gc --import tsx bench/mixed.ts
 */
import { underTest } from './library.ts';
import { AUDIENCE, ISSUER, makeFixture, signMany } from './fixtures.ts';

const { createAuthenticator, fromPem } = underTest;
type KeyResolver = ReturnType<typeof fromPem>;

const ROUNDS = Number(process.env.BENCH_MIXED_ROUNDS ?? 3);
const CALLS = Number(process.env.BENCH_MIXED_CALLS ?? 20_000);
const HOT_TOKENS = 100;
const ONE_SHOT_EVERY = 10; // 10% of calls
const IN_FLIGHT = 32;
const METHOD = '/bench.v1.Bench/Call';
const gc = (globalThis as { gc?: () => void }).gc;

const fixture = makeFixture('ES256');
const hot = signMany(fixture, 'hot', HOT_TOKENS);
let oneShots = 0;

/** The resolver of the PEM key, counting the verifications that ask it for keys. */
function countingKeys(): { keys: KeyResolver; verifications: () => number } {
  const inner = fromPem({ 'bench-key': fixture.publicPem as string });
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

/** `calls` tokens: every tenth a new one, the others drawn from the reused set (a fixed pseudo-random walk). */
function workload(calls: number, mixed: boolean): { tokens: string[]; oneShotCalls: number } {
  const fresh = mixed ? signMany(fixture, `one-shot-${oneShots++}`, Math.floor(calls / ONE_SHOT_EVERY)) : [];
  let seed = 12345;
  const tokens = Array.from({ length: calls }, (_, i) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return mixed && i % ONE_SHOT_EVERY === ONE_SHOT_EVERY - 1
      ? (fresh[Math.floor(i / ONE_SHOT_EVERY)] as string)
      : (hot[Math.floor((seed / 2 ** 31) * HOT_TOKENS)] as string);
  });
  return { tokens, oneShotCalls: fresh.length };
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

interface Setting {
  readonly name: string;
  readonly mixed: boolean;
  readonly warmCalls: number;
  readonly authenticate: (token: string) => Promise<unknown>;
  readonly verifications: () => number;
}

function setting(name: string, cache: { maxEntries: number } | undefined, mixed: boolean, warmCalls: number): Setting {
  const { keys, verifications } = countingKeys();
  const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE, ...(cache ? { cache } : {}) });
  return { name, mixed, warmCalls, authenticate: (token) => authenticator.authenticate(token, METHOD), verifications };
}

// Warm-up: 11 one-shot tokens per cache entry, so each cache is full and has turned over.
const settings = [
  setting('default cache (10,000 entries)', undefined, true, 11 * 10_000 * ONE_SHOT_EVERY),
  setting('cache: { maxEntries: 1000 }', { maxEntries: 1000 }, true, 11 * 1000 * ONE_SHOT_EVERY),
  setting('reference: reused tokens only, default cache', undefined, false, CALLS),
];
for (const each of settings) {
  process.stderr.write(`mixed: warming ${each.name}\n`);
  await drive(each.authenticate, workload(each.warmCalls, each.mixed).tokens);
}
const samples = new Map<Setting, Array<{ cpu: number; calls: number; oneShotCalls: number; verifications: number }>>();
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < settings.length; i++) {
    const each = settings[(round + i) % settings.length] as Setting;
    const { tokens, oneShotCalls } = workload(CALLS, each.mixed);
    const before = each.verifications();
    const cpu = await drive(each.authenticate, tokens);
    samples.set(each, [...(samples.get(each) ?? []), { cpu, calls: tokens.length, oneShotCalls, verifications: each.verifications() - before }]);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const reference = median((samples.get(settings[2] as Setting) ?? []).map((s) => s.cpu));
const result: Record<string, unknown> = {
  settings: { rounds: ROUNDS, callsPerSample: CALLS, reusedTokens: HOT_TOKENS, oneShotShare: 1 / ONE_SHOT_EVERY, inFlight: IN_FLIGHT, algorithm: 'ES256' },
};
for (const each of settings) {
  const list = samples.get(each) ?? [];
  const sum = (pick: (s: (typeof list)[number]) => number) => list.reduce((total, s) => total + pick(s), 0);
  const calls = sum((s) => s.calls);
  const oneShotCalls = sum((s) => s.oneShotCalls);
  const verifications = sum((s) => s.verifications);
  const cpu = median(list.map((s) => s.cpu));
  result[each.name] = {
    calls,
    verifications,
    'hit rate': 1 - verifications / calls,
    'reused tokens hit rate': 1 - (verifications - oneShotCalls) / (calls - oneShotCalls),
    'CPU µs/call': cpu,
    '(× reused only)': cpu / reference,
  };
}
process.stdout.write(JSON.stringify(result));
