/**
 * The interceptor's cached path without the network: the grpc-js ServerInterceptingCall the interceptor
 * returns, driven the way grpc-js drives it (start, the call's metadata, the end of the call), under a
 * stand-in for the transport below it that does nothing. What one admitted call with a cached token costs
 * the interceptor, per telemetry setting: nanoseconds per call, and the ratio to `telemetry: false`
 * measured in the same run. On a shared 2-core machine the load benchmark cannot resolve a few
 * microseconds; this can.
 */
import * as grpc from '@grpc/grpc-js';
import { underTest } from './library.ts';
import { AUDIENCE, ISSUER, makeFixture, signToken } from './fixtures.ts';
import { sdkMeterProvider, sdkTracerProvider } from './telemetry-sdk.ts';

const { createAuthInterceptor, fromSecret } = underTest;
type Telemetry = Parameters<typeof createAuthInterceptor>[0]['telemetry'];
type Next = Parameters<grpc.ServerInterceptor>[1];
type Listener = Parameters<Next['start']>[0];

const DESCRIPTOR = { path: '/bench.v1.Bench/Call', requestStream: false, responseStream: false } as Parameters<grpc.ServerInterceptor>[0];

/** The transport below the interceptor: keeps the listener grpc-js gives it, answers nothing. */
function transport(): { next: Next; listener: () => Listener } {
  let listener: Listener | undefined;
  const next = {
    start: (given: Listener) => void (listener = given),
    sendMetadata: () => undefined,
    sendMessage: () => undefined,
    sendStatus: () => undefined,
    startRead: () => undefined,
    getPeer: () => '127.0.0.1:50000',
    getDeadline: () => Infinity,
    getHost: () => '127.0.0.1',
  } as unknown as Next;
  return { next, listener: () => listener as Listener };
}

/** One call, from the start to its end; `admitted` runs when the handler would get its metadata. */
function call(interceptor: grpc.ServerInterceptor, token: string, admitted: () => void, end = true): void {
  const { next, listener } = transport();
  interceptor(DESCRIPTOR, next).start({
    onReceiveMetadata: admitted,
    onReceiveMessage: () => undefined,
    onReceiveHalfClose: () => undefined,
    onCancel: () => undefined,
  });
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  listener().onReceiveMetadata(metadata);
  if (end) listener().onCancel();
}

/** The first call verifies the token (asynchronously) and caches it. */
export async function prime(interceptor: grpc.ServerInterceptor, token: string): Promise<void> {
  await new Promise<void>((resolve) => call(interceptor, token, resolve, false));
}

/** CPU nanoseconds per call of `iterations` admitted calls with a cached token; throws if one is not admitted at once. */
export function timeCalls(interceptor: grpc.ServerInterceptor, token: string, iterations: number): number {
  let admitted = 0;
  const count = () => void (admitted += 1);
  const once = () => call(interceptor, token, count);
  for (let i = 0; i < 20_000; i++) once();
  admitted = 0;
  // CPU time of this process, not wall time: on a shared machine, time spent descheduled is not the call's.
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) once();
  const used = process.cpuUsage(before);
  if (admitted !== iterations) throw new Error(`only ${admitted} of ${iterations} calls admitted synchronously`);
  return ((used.user + used.system) * 1000) / iterations;
}

/** ns per cached call for each telemetry setting, medians of interleaved rounds, and ratios to telemetry off. */
export async function interceptorPath(rounds: number, iterations: number): Promise<Record<string, number>> {
  const hs = makeFixture('HS256');
  const token = await signToken(hs, 'interceptor-path');
  const build = (telemetry: Telemetry) =>
    createAuthInterceptor({
      keys: fromSecret({ 'bench-key': hs.publicKey as Uint8Array }),
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      ...(telemetry === undefined ? {} : { telemetry }),
    });
  const settings: Record<string, grpc.ServerInterceptor> = {
    'telemetry: false': build(false),
    'default, api without SDK': build(undefined),
    'SDK MeterProvider': build({ meterProvider: sdkMeterProvider() }),
    'SDK MeterProvider + TracerProvider': build({ meterProvider: sdkMeterProvider(), tracerProvider: sdkTracerProvider() }),
  };
  for (const interceptor of Object.values(settings)) await prime(interceptor, token);
  const samples: Record<string, number[]> = {};
  const entries = Object.entries(settings);
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let round = 0; round < rounds; round++) {
    // Each round starts from another setting, and each measurement from a collected heap: the garbage
    // one leaves must not be charged to the next.
    for (let i = 0; i < entries.length; i++) {
      const [name, interceptor] = entries[(round + i) % entries.length] as [string, grpc.ServerInterceptor];
      gc?.();
      (samples[name] ??= []).push(timeCalls(interceptor, token, iterations));
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const medians = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
  const baseline = medians['telemetry: false'] as number;
  return Object.fromEntries(
    Object.entries(medians).flatMap(([name, ns]) => [
      [`${name} (CPU ns/call)`, ns],
      [`${name} (× off)`, ns / baseline],
    ]),
  );
}
