import type { Meter, Tracer, TracerProvider } from '@opentelemetry/api';
import type { OpenTelemetryApi } from './otel-api.ts';

/**
 * Whether a meter is the api's no-op one (no SDK registered when the interceptor was created): its
 * instruments would record nothing, so the interceptor makes none and calls skip metrics altogether.
 *
 * @example
 * ```ts
 * import * as api from '@opentelemetry/api';
 * isNoopMeter(api.metrics.getMeter('grpc-jwt-auth'), api); // true until an SDK registers
 * ```
 */
export function isNoopMeter(meter: Meter, api: OpenTelemetryApi | undefined): boolean {
  return api !== undefined && meter.constructor === api.createNoopMeter().constructor;
}

/**
 * Whether a tracer provider records nothing: the api's global provider before an SDK registered a
 * delegate (the provider the interceptor reads at creation, like the meter), or a no-op one.
 *
 * @example
 * ```ts
 * import * as api from '@opentelemetry/api';
 * isNoopTracerProvider(api.trace.getTracerProvider(), api); // true until an SDK registers
 * ```
 */
export function isNoopTracerProvider(provider: TracerProvider, api: OpenTelemetryApi | undefined): boolean {
  if (api === undefined) return false;
  const noopTracer: Tracer = new api.ProxyTracerProvider().getDelegate().getTracer('grpc-jwt-auth');
  const actual = provider instanceof api.ProxyTracerProvider ? provider.getDelegate() : provider;
  // Optional chaining: a provider returning no tracer is not a no-op one; checkedTracer() refuses it.
  return (actual.getTracer('grpc-jwt-auth') as Partial<Tracer> | null | undefined)?.constructor === noopTracer.constructor;
}
