import { AuthConfigError } from '../errors/config-error.ts';
import { checkOptionNames, isRecord, optionalBoolean, optionNames } from '../util/option-checks.ts';
import { loadOpenTelemetryApi, type OpenTelemetryApi } from './otel-api.ts';

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

const TELEMETRY_OPTION_NAMES = optionNames<TelemetryOptions>({ meterProvider: true, tracerProvider: true, recordSubject: true });

/**
 * The `telemetry` option once checked: the providers to use (either may be absent) and the api, when
 * installed, for the active context and trace propagation.
 *
 * @example
 * ```ts
 * const resolved: ResolvedTelemetry | undefined = resolveTelemetry(undefined);
 * resolved?.meterProvider?.getMeter('grpc-jwt-auth');
 * ```
 */
export interface ResolvedTelemetry {
  readonly meterProvider: MeterProviderLike | undefined;
  readonly tracerProvider: TracerProviderLike | undefined;
  readonly recordSubject: boolean;
  readonly api: OpenTelemetryApi | undefined;
}

function provider<P>(value: unknown, option: string, method: string): P | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || typeof value[method] !== 'function')
    throw new AuthConfigError(option, `expected an OpenTelemetry provider (an object with ${method}())`);
  return value as P;
}

/**
 * Checks the `telemetry` option and finds the providers. undefined means telemetry is off: `false`, or
 * left out without `@opentelemetry/api` installed, or nothing to send to.
 *
 * @example
 * ```ts
 * resolveTelemetry(false); // undefined: off
 * resolveTelemetry(true); // throws AuthConfigError('telemetry', ...)
 * ```
 */
export function resolveTelemetry(value: unknown): ResolvedTelemetry | undefined {
  if (value === false) return undefined;
  if (value !== undefined && !isRecord(value)) throw new AuthConfigError('telemetry', 'expected false or { meterProvider?, tracerProvider?, recordSubject? }');
  const options = value ?? {};
  checkOptionNames(options, TELEMETRY_OPTION_NAMES, 'telemetry');
  const meterProvider = provider<MeterProviderLike>(options.meterProvider, 'telemetry.meterProvider', 'getMeter');
  const tracerProvider = provider<TracerProviderLike>(options.tracerProvider, 'telemetry.tracerProvider', 'getTracer');
  const recordSubject = optionalBoolean(options.recordSubject, 'telemetry.recordSubject') ?? false;
  const api = loadOpenTelemetryApi();
  const resolved: ResolvedTelemetry = {
    meterProvider: meterProvider ?? api?.metrics.getMeterProvider(),
    tracerProvider: tracerProvider ?? api?.trace.getTracerProvider(),
    recordSubject,
    api,
  };
  return resolved.meterProvider === undefined && resolved.tracerProvider === undefined ? undefined : resolved;
}
