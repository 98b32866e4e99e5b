/**
 * Benchmark server process: one grpc-js server per scenario, each on its own loopback port, all in this
 * process. The runner asks for CPU-time marks over IPC around each measured window, so the figure is the
 * server's own CPU per call, unaffected by the load generator competing for the same cores.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { underTest } from './library.ts';
import { AUDIENCE, ISSUER, makeFixture, signToken, type AlgorithmFixture } from './fixtures.ts';
import { floorScenarios } from './floor.ts';
import { freshGrpcScenarios } from './fresh-grpc.ts';
import { fastJwtPeer, josePeer, jsonwebtokenPeer, passThrough } from './peers.ts';
import { sdkMeterProvider, sdkTracerProvider } from './telemetry-sdk.ts';

const { createAuthInterceptor, fromPem, fromSecret } = underTest;

const proto = grpc.loadPackageDefinition(protoLoader.loadSync(fileURLToPath(new URL('./bench.proto', import.meta.url)))) as any;

interface Scenario {
  readonly name: string;
  readonly interceptors: grpc.ServerInterceptor[];
  readonly tokens: string[];
}

type Telemetry = Parameters<typeof createAuthInterceptor>[0]['telemetry'];

/** `telemetry` left out: the default (no SDK is registered in this process, so the api's no-op providers). */
function library(fixture: AlgorithmFixture, cache: boolean, telemetry?: Telemetry): grpc.ServerInterceptor {
  const keys = fixture.alg === 'HS256' ? fromSecret({ 'bench-key': fixture.publicKey as Uint8Array }) : fromPem({ 'bench-key': fixture.publicPem as string });
  return createAuthInterceptor({
    keys,
    algorithms: [fixture.alg],
    issuer: ISSUER,
    audience: AUDIENCE,
    ...(cache ? {} : { cache: false }),
    ...(telemetry === undefined ? {} : { telemetry }),
  });
}

async function tokens(fixture: AlgorithmFixture, count: number): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => signToken(fixture, `${fixture.alg}-${i}`)));
}

async function buildScenarios(): Promise<Scenario[]> {
  const [hs, rs, es, ed] = (['HS256', 'RS256', 'ES256', 'EdDSA'] as const).map(makeFixture) as [
    AlgorithmFixture,
    AlgorithmFixture,
    AlgorithmFixture,
    AlgorithmFixture,
  ];
  const rsPem = rs.publicPem as string;
  return [
    { name: 'baseline (no auth)', interceptors: [], tokens: await tokens(hs, 1) },
    { name: 'pass-through interceptor', interceptors: [passThrough()], tokens: await tokens(hs, 1) },
    { name: 'lib HS256 reused', interceptors: [library(hs, true)], tokens: await tokens(hs, 1) },
    // The cached path's telemetry cost: off, the default with no SDK (above), an SDK meter, meter and tracer.
    { name: 'lib HS256 reused, telemetry off', interceptors: [library(hs, true, false)], tokens: await tokens(hs, 1) },
    { name: 'lib HS256 reused, SDK meter', interceptors: [library(hs, true, { meterProvider: sdkMeterProvider() })], tokens: await tokens(hs, 1) },
    {
      name: 'lib HS256 reused, SDK meter+tracer',
      interceptors: [library(hs, true, { meterProvider: sdkMeterProvider(), tracerProvider: sdkTracerProvider() })],
      tokens: await tokens(hs, 1),
    },
    { name: 'lib RS256 reused', interceptors: [library(rs, true)], tokens: await tokens(rs, 1) },
    { name: 'lib ES256 reused', interceptors: [library(es, true)], tokens: await tokens(es, 1) },
    { name: 'lib EdDSA reused', interceptors: [library(ed, true)], tokens: await tokens(ed, 1) },
    { name: 'lib RS256 new token/call', interceptors: [library(rs, false)], tokens: await tokens(rs, 256) },
    { name: 'lib ES256 new token/call', interceptors: [library(es, false)], tokens: await tokens(es, 256) },
    { name: 'peer jsonwebtoken RS256', interceptors: [jsonwebtokenPeer(rsPem)], tokens: await tokens(rs, 1) },
    { name: 'peer jose.jwtVerify RS256', interceptors: [await josePeer(rsPem)], tokens: await tokens(rs, 1) },
    { name: 'peer fast-jwt+cache RS256', interceptors: [fastJwtPeer(rsPem)], tokens: await tokens(rs, 1) },
  ];
}

const calls: Record<string, number> = {};
// `npm run bench -- floor` / `-- fresh-grpc`: that part's scenarios instead (bench/floor.ts, bench/fresh-grpc.ts).
const PART_SCENARIOS: Record<string, () => Promise<Scenario[]>> = { floor: floorScenarios, 'fresh-grpc': freshGrpcScenarios };
const scenarios = await (PART_SCENARIOS[process.env.BENCH_PART ?? ''] ?? buildScenarios)();
const ports: Record<string, number> = {};
for (const scenario of scenarios) {
  calls[scenario.name] = 0;
  const server = new grpc.Server({ interceptors: scenario.interceptors });
  server.addService(proto.bench.v1.Bench.service, {
    Call(_call: unknown, callback: grpc.sendUnaryData<{ text: string }>) {
      calls[scenario.name] = (calls[scenario.name] ?? 0) + 1;
      callback(null, { text: 'ok' });
    },
  });
  ports[scenario.name] = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
  );
}

process.on('message', (message: { type: string; id?: number }) => {
  if (message.type === 'mark') {
    const cpu = process.cpuUsage();
    process.send?.({ type: 'mark', id: message.id, cpuMicros: cpu.user + cpu.system, calls: { ...calls } });
  } else if (message.type === 'exit') {
    process.exit(0);
  }
});
process.send?.({ type: 'ready', scenarios: scenarios.map((s) => ({ name: s.name, port: ports[s.name], tokens: s.tokens })) });
