import { AuthConfigError } from '../errors/config-error.ts';
import { checkOptionNames, isRecord, optionalBoolean, optionNames } from '../util/option-checks.ts';
import { loadOpenTelemetryApi, type OpenTelemetryApi } from './otel-api.ts';
import type { MeterProviderLike, TelemetryOptions, TracerProviderLike } from './telemetry-options.ts';

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
