/**
 * The public types of the interceptor's `telemetry` option. They name nothing of `@opentelemetry/api`:
 * the package is an optional peer, and a project without it must still type-check against ours.
 */

/**
 * An OpenTelemetry `MeterProvider` (`@opentelemetry/api`), typed by the one method this library calls,
 * so that its types do not depend on the optional package. The SDK's `MeterProvider` fits.
 *
 * @example
 * ```ts
 * import type { MeterProviderLike } from 'grpc-jwt-auth';
 * declare const sdkMeterProvider: { getMeter(name: string, version?: string): unknown };
 * const meterProvider: MeterProviderLike = sdkMeterProvider;
 * ```
 */
export interface MeterProviderLike {
  /** The meter of an instrumentation scope: the interceptor asks for `grpc-jwt-auth`. */
  getMeter(name: string, version?: string): unknown;
}

/**
 * An OpenTelemetry `TracerProvider` (`@opentelemetry/api`), typed by the one method this library calls.
 * The SDK's `BasicTracerProvider` / `NodeTracerProvider` fit.
 *
 * @example
 * ```ts
 * import type { TracerProviderLike } from 'grpc-jwt-auth';
 * declare const sdkTracerProvider: { getTracer(name: string, version?: string): unknown };
 * const tracerProvider: TracerProviderLike = sdkTracerProvider;
 * ```
 */
export interface TracerProviderLike {
  /** The tracer of an instrumentation scope: the interceptor asks for `grpc-jwt-auth`. */
  getTracer(name: string, version?: string): unknown;
}

/**
 * The interceptor's `telemetry` option: where its OpenTelemetry metrics and spans go. Left out, the
 * global providers of `@opentelemetry/api` are used, as they are at `createAuthInterceptor` (register
 * the SDK before: providers that record nothing are left out, and calls then pay nothing); without
 * `@opentelemetry/api` installed, telemetry is off. `false` turns it off.
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics';
 * import { createAuthInterceptor, type TelemetryOptions } from 'grpc-jwt-auth';
 * const telemetry: TelemetryOptions = { meterProvider: new MeterProvider(), recordSubject: false };
 * const auth = createAuthInterceptor({ keys, algorithms: ['RS256'], telemetry });
 * ```
 */
export interface TelemetryOptions {
  /** Where the metrics go. Default the global one (`metrics.getMeterProvider()` of `@opentelemetry/api`). */
  readonly meterProvider?: MeterProviderLike;
  /** Where the `grpc_jwt_auth.authenticate` spans go. Default the global one (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProviderLike;
  /**
   * Put the verified caller's `sub` on spans as `enduser.id`. Default false: a subject is personal data,
   * and traces are often kept longer and seen by more people than the server's own logs. Never on metrics.
   */
  readonly recordSubject?: boolean;
}
