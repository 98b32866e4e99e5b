/**
 * The names of the interceptor's OpenTelemetry instruments, in one place: the README's table and
 * dashboards match on these.
 *
 * @example
 * ```ts
 * import { METRIC_NAMES } from 'grpc-jwt-auth';
 * const alertOn = `${METRIC_NAMES.keyState.replaceAll('.', '_')}{state="expired"} == 1`; // as Prometheus spells it
 * ```
 */
export const METRIC_NAMES = Object.freeze({
  /** Counter, `{call}`: one per admission decision; attributes `rpc.system`, `rpc.service`, `rpc.method`, `outcome`, `reason`. */
  decisions: 'grpc_jwt_auth.decisions',
  /** Histogram, seconds: how long authentication took (cache lookup, or full verification); attribute `cache`. */
  verificationDuration: 'grpc_jwt_auth.verification.duration',
  /** Counter, `{fetch}`: key set and discovery fetches; attributes `document`, `trigger`, `outcome`. */
  keyFetches: 'grpc_jwt_auth.keys.fetches',
  /** Gauge, seconds: age of the fetched key set per `issuer` (absent for keys given in the configuration). */
  keyAge: 'grpc_jwt_auth.keys.age',
  /** Gauge, `1`: per `issuer` and `state`, 1 for the keys' current state and 0 for the others. */
  keyState: 'grpc_jwt_auth.keys.state',
});

/**
 * The instrumentation scope of every meter and tracer: the library's package name.
 *
 * @example
 * ```ts
 * declare const meterProvider: { getMeter(name: string): unknown };
 * meterProvider.getMeter(INSTRUMENTATION_SCOPE);
 * ```
 */
export const INSTRUMENTATION_SCOPE = 'grpc-jwt-auth';
