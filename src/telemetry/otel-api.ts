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
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi;
    } catch {
      // Not installed (or not loadable): telemetry is an extra, never a reason for the server to fail.
      loaded = null;
    }
  }
  return loaded ?? undefined;
}
