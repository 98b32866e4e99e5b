/**
 * A fresh token per call (issue 16), in process: `createAuthenticator(...).authenticate` with the cache
 * on (the default) and off, against plain `jose.jwtVerify` with the same key handed to jose in its
 * fastest form (a CryptoKey imported once), for HS256, RS256, ES256 and EdDSA; each algorithm's row has
 * the ratio to jose with the cache on and off (HS256 also shows jose given the raw secret, re-imported per call). 32 calls in flight; every token is used once (each round signs a new pool, shared by the three
 * scenarios of that round, so the cache never answers); scenarios interleaved over rounds, each round
 * starting from another one; CPU of the whole process (WebCrypto work runs on the thread pool) per call,
 * medians, and each against jose measured in the same run. Prints one JSON object:
 *
 *   node --expose-gc --import tsx bench/fresh.ts
 */
import { webcrypto, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import { underTest } from './library.ts';
import { AUDIENCE, ISSUER, makeFixture, signMany, type AlgorithmFixture } from './fixtures.ts';

const { createAuthenticator, fromPem, fromSecret } = underTest;

const ROUNDS = Number(process.env.BENCH_FRESH_ROUNDS ?? 5);
// Calls per sample, per algorithm: enough for ~0.2-0.7 s of CPU each, so background threads (GC, JIT)
// that run into a sample weigh little; RS256 is kept lower because signing its tokens is the slow part.
const CALLS = { HS256: 6000, RS256: 2000, ES256: 2000, EdDSA: 2500 } as const;
const SCALE = Number(process.env.BENCH_FRESH_SCALE ?? 1);
const IN_FLIGHT = 32;
const METHOD = '/bench.v1.Bench/Call';
const gc = (globalThis as { gc?: () => void }).gc;
/** The WebCrypto algorithm jose expects a public CryptoKey of each algorithm to carry. */
const JOSE_IMPORT = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
} as const;

/** CPU µs per call of `verify` over every token, `IN_FLIGHT` at a time. */
async function cpuPerCall(tokens: readonly string[], verify: (token: string) => Promise<unknown>): Promise<number> {
  // From a collected heap, and after the collector's background threads are done: process CPU counts them.
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 30));
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) await verify(tokens[next++] as string);
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / tokens.length;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function algorithm(alg: AlgorithmFixture['alg']): Promise<Record<string, number>> {
  const fixture = makeFixture(alg);
  const keys = () => (alg === 'HS256' ? fromSecret({ 'bench-key': fixture.publicKey as Uint8Array }) : fromPem({ 'bench-key': fixture.publicPem as string }));
  const options = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE };
  const cacheOn = createAuthenticator({ keys: keys(), ...options });
  const cacheOff = createAuthenticator({ keys: keys(), ...options, cache: false });
  // jose gets its fastest form for every algorithm: a CryptoKey imported once, so no call pays jose's
  // KeyObject→CryptoKey conversion (its WeakMap lookup) nor, for HS256, a re-import of the raw secret.
  // Given the raw bytes, jose re-imports the HMAC key on every call: that row is shown apart, labelled.
  const secret = fixture.publicKey as Uint8Array;
  const joseKey =
    alg === 'HS256'
      ? await webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
      : await webcrypto.subtle.importKey('spki', (fixture.publicKey as KeyObject).export({ type: 'spki', format: 'der' }), JOSE_IMPORT[alg], false, ['verify']);
  const scenarios: Array<[string, (token: string) => Promise<unknown>]> = [
    ['jose.jwtVerify', (token) => jwtVerify(token, joseKey, options)],
    ['lib cache on (default)', (token) => cacheOn.authenticate(token, METHOD)],
    ['lib cache off', (token) => cacheOff.authenticate(token, METHOD)],
    ...(alg === 'HS256'
      ? [['jose.jwtVerify, raw secret bytes', (token: string) => jwtVerify(token, secret, options)] as [string, (token: string) => Promise<unknown>]]
      : []),
  ];
  const calls = Math.round(CALLS[alg] * SCALE);
  const warm = signMany(fixture, 'warm', Math.round(calls / 4));
  for (const [, verify] of scenarios) await cpuPerCall(warm, verify);
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const tokens = signMany(fixture, `round-${round}`, calls);
    for (let i = 0; i < scenarios.length; i++) {
      const [name, verify] = scenarios[(round + i) % scenarios.length] as (typeof scenarios)[number];
      (samples[name] ??= []).push(await cpuPerCall(tokens, verify));
    }
  }
  const jose = median(samples['jose.jwtVerify'] as number[]);
  return Object.fromEntries(
    Object.entries(samples).flatMap(([name, values]) => [
      [`${name} (CPU µs/call)`, median(values)],
      ...(name === 'jose.jwtVerify' ? [] : [[`${name} (× jose)`, median(values) / jose]]),
    ]),
  );
}

const result: Record<string, unknown> = { settings: { rounds: ROUNDS, callsPerSample: CALLS, scale: SCALE, inFlight: IN_FLIGHT } };
for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA'] as const) {
  process.stderr.write(`fresh: ${alg}\n`);
  result[alg] = await algorithm(alg);
}
process.stdout.write(JSON.stringify(result));
