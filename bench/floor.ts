/**
 * The interception floor (issue 16): the least any token interceptor can cost in grpc-js. It reads the
 * `authorization` value, looks it up in a Map of known values and attaches a caller object for the
 * handler (a WeakMap keyed by the call's metadata, as the library does), with no parsing and no crypto.
 * Scenarios for bench/server.ts when the runner sets BENCH_PART=floor: per algorithm, one token shared
 * by the baseline, the floor, the library's cached path and fast-jwt with its cache, because a longer
 * token (RS256) costs the transport more before any interceptor runs.
 */
import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import { underTest } from './library.ts';
import { AUDIENCE, ISSUER, makeFixture, signToken, type AlgorithmFixture } from './fixtures.ts';
import { fastJwtPeer } from './peers.ts';

const { createAuthInterceptor, fromPem, fromSecret } = underTest;

export const FLOOR_ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const;

interface Caller {
  readonly subject: string;
}
const callers = new WeakMap<Metadata, Caller>();

/** Admits the calls whose `authorization` value is in `known`, refuses the others; nothing else. */
export function floorInterceptor(known: ReadonlyMap<string, Caller>): ServerInterceptor {
  return (_descriptor, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const caller = known.get(metadata.get('authorization')[0] as string);
            if (caller === undefined) {
              call.sendStatus({ code: status.UNAUTHENTICATED, details: 'unknown token' });
              return;
            }
            callers.set(metadata, caller);
            nextMetadata(metadata);
          },
        });
      },
    });
}

/** The library's interceptor with its defaults (cache on, telemetry default), for one algorithm's key. */
export function libraryInterceptor(fixture: AlgorithmFixture): ServerInterceptor {
  const keys = fixture.alg === 'HS256' ? fromSecret({ 'bench-key': fixture.publicKey as Uint8Array }) : fromPem({ 'bench-key': fixture.publicPem as string });
  return createAuthInterceptor({ keys, algorithms: [fixture.alg], issuer: ISSUER, audience: AUDIENCE });
}

/** Scenario names: `<alg> baseline (no auth)`, `<alg> floor`, `<alg> lib cached`, `<alg> peer fast-jwt+cache`. */
export async function floorScenarios(): Promise<Array<{ name: string; interceptors: ServerInterceptor[]; tokens: string[] }>> {
  const scenarios = [];
  for (const alg of FLOOR_ALGORITHMS) {
    const fixture = makeFixture(alg);
    const token = await signToken(fixture, `floor-${alg}`);
    const tokens = [token];
    const fastJwtKey = alg === 'HS256' ? (fixture.publicKey as Uint8Array) : (fixture.publicPem as string);
    scenarios.push(
      { name: `${alg} baseline (no auth)`, interceptors: [], tokens },
      { name: `${alg} floor`, interceptors: [floorInterceptor(new Map([[`Bearer ${token}`, { subject: 'bench-user' }]]))], tokens },
      { name: `${alg} lib cached`, interceptors: [libraryInterceptor(fixture)], tokens },
      { name: `${alg} peer fast-jwt+cache`, interceptors: [fastJwtPeer(fastJwtKey, alg)], tokens },
    );
  }
  return scenarios;
}
