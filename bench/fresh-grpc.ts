/**
 * A fresh token per call over gRPC (issue 16): per algorithm, the library's interceptor with its cache on
 * (the default) and off, against an interceptor written with jose alone (`jose.jwtVerify` with a key
 * imported once as a `CryptoKey`, its fastest form) and the baseline without authentication. Scenarios
 * for bench/server.ts when the runner sets BENCH_PART=fresh-grpc. The four scenarios of an algorithm
 * share one pool of distinct tokens, so the transport carries tokens of the same length in each; the
 * pool is large enough that the cache-on scenario never sees a token twice in the whole run (the load
 * generator continues through the pool from window to window and reports whether it ever wrapped).
 */
import { webcrypto } from 'node:crypto';
import type { ServerInterceptor } from '@grpc/grpc-js';
import { importSPKI, jwtVerify, type CryptoKey } from 'jose';
import { underTest } from './library.ts';
import { AUDIENCE, ISSUER, makeFixture, signMany, type AlgorithmFixture } from './fixtures.ts';
import { handWritten } from './peers.ts';

const { createAuthInterceptor, fromPem, fromSecret } = underTest;

export const FRESH_GRPC_ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const;

// Tokens per algorithm: more than the cache-on scenario can use in warm-up plus every round at this
// machine's throughput (about 4,000 fresh HS256 calls/s at most, fewer for the others); RS256 signing is
// the slow part of building the pool (about 1 ms per token). BENCH_FRESH_GRPC_POOL_SCALE for faster machines.
const POOL = { HS256: 30_000, RS256: 12_000, ES256: 16_000, EdDSA: 16_000 } as const;
const POOL_SCALE = Number(process.env.BENCH_FRESH_GRPC_POOL_SCALE ?? 1);

function library(fixture: AlgorithmFixture, cache: boolean): ServerInterceptor {
  const keys = fixture.alg === 'HS256' ? fromSecret({ 'bench-key': fixture.publicKey as Uint8Array }) : fromPem({ 'bench-key': fixture.publicPem as string });
  return createAuthInterceptor({ keys, algorithms: [fixture.alg], issuer: ISSUER, audience: AUDIENCE, ...(cache ? {} : { cache: false }) });
}

/** What a user would write with jose alone: the key imported once, `jwtVerify` per call. */
async function joseInterceptor(fixture: AlgorithmFixture): Promise<ServerInterceptor> {
  const key: CryptoKey =
    fixture.alg === 'HS256'
      ? await webcrypto.subtle.importKey('raw', fixture.publicKey as Uint8Array, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
      : await importSPKI(fixture.publicPem as string, fixture.alg);
  const options = { algorithms: [fixture.alg], issuer: ISSUER, audience: AUDIENCE };
  return handWritten((token) => jwtVerify(token, key, options));
}

/** Scenario names: `<alg> baseline (no auth)`, `<alg> jose only`, `<alg> lib cache on`, `<alg> lib cache off`. */
export async function freshGrpcScenarios(): Promise<Array<{ name: string; interceptors: ServerInterceptor[]; tokens: string[] }>> {
  const scenarios = [];
  for (const alg of FRESH_GRPC_ALGORITHMS) {
    const fixture = makeFixture(alg);
    const tokens = signMany(fixture, `fresh-grpc-${alg}`, Math.round(POOL[alg] * POOL_SCALE));
    scenarios.push(
      { name: `${alg} baseline (no auth)`, interceptors: [], tokens },
      { name: `${alg} jose only`, interceptors: [await joseInterceptor(fixture)], tokens },
      { name: `${alg} lib cache on`, interceptors: [library(fixture, true)], tokens },
      { name: `${alg} lib cache off`, interceptors: [library(fixture, false)], tokens },
    );
  }
  return scenarios;
}

interface LoadRow {
  readonly scenario: string;
  readonly serverCpuMicrosPerCall: number;
  readonly errors: number;
  readonly tokensReused?: boolean;
}

/**
 * Per algorithm: each scenario's server CPU per call, the library's against the jose-only interceptor
 * (the issue's ≤ 1.03×), and the authentication work alone (CPU above the baseline) in the same ratio.
 */
export function freshGrpcSummary(rows: readonly LoadRow[]): Record<string, Record<string, number | boolean>> {
  const row = (name: string) => rows.find((candidate) => candidate.scenario === name);
  const cpu = (name: string) => row(name)?.serverCpuMicrosPerCall ?? Number.NaN;
  const summary: Record<string, Record<string, number | boolean>> = {};
  for (const alg of FRESH_GRPC_ALGORITHMS) {
    const baseline = cpu(`${alg} baseline (no auth)`);
    const jose = cpu(`${alg} jose only`);
    const on = cpu(`${alg} lib cache on`);
    const off = cpu(`${alg} lib cache off`);
    summary[alg] = {
      'baseline CPU µs/call': baseline,
      'jose only CPU µs/call': jose,
      'lib cache on CPU µs/call': on,
      'lib cache off CPU µs/call': off,
      'lib cache on × jose only': on / jose,
      'lib cache off × jose only': off / jose,
      'auth work, cache on × jose only': (on - baseline) / (jose - baseline),
      'auth work, cache off × jose only': (off - baseline) / (jose - baseline),
      'cache on saw a token twice': row(`${alg} lib cache on`)?.tokensReused ?? false,
      errors: rows.filter((candidate) => candidate.scenario.startsWith(`${alg} `)).reduce((sum, candidate) => sum + candidate.errors, 0),
    };
  }
  return summary;
}
