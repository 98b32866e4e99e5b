/**
 * `@opentelemetry/api` is an optional peer dependency: loaded once, on demand, when an interceptor is
 * created with telemetry left at its default. Absent, telemetry is off and calls pay nothing for it.
 */
import { createRequire } from 'node:module';
import type * as OpenTelemetryApiModule from '@opentelemetry/api';

/**
 * The `@opentelemetry/api` module, as this library uses it (internal: public types never name the
 * optional package, so a project without it still type-checks).
 *
 * @example
 * ```ts
 * const api: OpenTelemetryApi | undefined = loadOpenTelemetryApi();
 * api?.metrics.getMeterProvider();
 * ```
 */
export type OpenTelemetryApi = typeof OpenTelemetryApiModule;

/** undefined: not tried yet; null: tried, not installed (or broken). */
let loaded: OpenTelemetryApi | null | undefined;

/**
 * The installed `@opentelemetry/api`, or undefined when it cannot be loaded. A guarded synchronous
 * `require` (the api ships CommonJS; its registry of global providers lives on `globalThis`, so the
 * copy an ESM program imports and this one share the same SDK). Tried once per process.
 *
 * @example
 * ```ts
 * const api = loadOpenTelemetryApi();
 * const meter = api?.metrics.getMeter('grpc-jwt-auth');
 * ```
 */
export function loadOpenTelemetryApi(): OpenTelemetryApi | undefined {
  if (loaded === undefined) {
    try {
      const api: unknown = createRequire(import.meta.url)('@opentelemetry/api');
      loaded = isUsableApi(api) ? api : null;
    } catch {
      // Not installed (or not loadable): telemetry is an extra, never a reason for the server to fail.
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/**
 * Whether what `require` gave has every part this library calls. A copy older than the peer range (before
 * 1.3 there was no metrics api), left in place by a package manager with only a warning, is taken as
 * absent: it made createAuthInterceptor throw a TypeError with the default options.
 */
function isUsableApi(api: unknown): api is OpenTelemetryApi {
  const { metrics, trace, context, propagation, createNoopMeter, ProxyTracerProvider } = (api ?? {}) as Partial<Record<keyof OpenTelemetryApi, unknown>>;
  const has = (part: unknown, method: string): boolean => typeof (part as Record<string, unknown> | undefined)?.[method] === 'function';
  return (
    has(metrics, 'getMeterProvider') &&
    has(trace, 'getTracerProvider') &&
    has(trace, 'getSpan') &&
    has(context, 'active') &&
    has(propagation, 'extract') &&
    typeof createNoopMeter === 'function' &&
    typeof ProxyTracerProvider === 'function'
  );
}
