import type { Meter, Tracer } from '@opentelemetry/api';
import { AuthConfigError } from '../errors/config-error.ts';
import { thrownText } from '../errors/log-text.ts';
import { isRecord } from '../util/option-checks.ts';

const METER_METHODS = ['createCounter', 'createHistogram', 'createObservableGauge', 'addBatchObservableCallback', 'removeBatchObservableCallback'] as const;

/**
 * Runs one step of setting telemetry up with a provider (getting its meter or tracer, making the
 * instruments): whatever it throws becomes an {@link AuthConfigError} naming the option, at
 * `createAuthInterceptor`, where the operator is looking. A raw TypeError from inside an SDK would name
 * nothing, and telemetry that silently stayed off would be found out from empty dashboards weeks later.
 *
 * @example
 * ```ts
 * const meter = withProvider('telemetry.meterProvider', 'getMeter()', () => ({ createCounter: () => undefined }));
 * ```
 */
export function withProvider<T>(option: string, step: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof AuthConfigError) throw error;
    throw new AuthConfigError(option, `${step} threw (the global provider of @opentelemetry/api when not given): ${thrownText(error)}`);
  }
}

/**
 * What `getMeter()` returned, checked: an object with the instrument methods this library calls.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * const meter = checkedMeter(metrics.getMeter('grpc-jwt-auth'));
 * ```
 */
export function checkedMeter(meter: unknown): Meter {
  if (!isRecord(meter) || METER_METHODS.some((method) => typeof meter[method] !== 'function'))
    throw new AuthConfigError('telemetry.meterProvider', `getMeter() returned no OpenTelemetry Meter (an object with ${METER_METHODS.join('(), ')}())`);
  return meter as unknown as Meter;
}

/**
 * What `getTracer()` returned, checked: an object with `startSpan()`.
 *
 * @example
 * ```ts
 * import { trace } from '@opentelemetry/api';
 * const tracer = checkedTracer(trace.getTracer('grpc-jwt-auth'));
 * ```
 */
export function checkedTracer(tracer: unknown): Tracer {
  if (!isRecord(tracer) || typeof tracer.startSpan !== 'function')
    throw new AuthConfigError('telemetry.tracerProvider', 'getTracer() returned no OpenTelemetry Tracer (an object with startSpan())');
  return tracer as unknown as Tracer;
}
