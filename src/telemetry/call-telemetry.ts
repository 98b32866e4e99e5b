import type { Metadata } from '@grpc/grpc-js';
import type { Span, TracerProvider } from '@opentelemetry/api';
import type { AuthError } from '../errors/auth-error.ts';
import type { AuthStatus } from '../verify/auth-status.ts';
import type { KeyResolver } from '../keys/resolver.ts';
import type { TokenFacts } from '../verify/token-facts.ts';
import type { VerificationProbe } from '../verify/verification-probe.ts';
import { AuthSpans } from './auth-spans.ts';
import { DecisionMetrics } from './decision-metrics.ts';
import { KeyMetrics } from './key-metrics.ts';
import { INSTRUMENTATION_SCOPE } from './metric-names.ts';
import { isNoopMeter, isNoopTracerProvider } from './noop-providers.ts';
import { checkedMeter, checkedTracer, withProvider } from './provider-checks.ts';
import { resolveTelemetry } from './resolve-telemetry.ts';

/**
 * One call's telemetry, from its metadata to its decision: the first of `admitted`, `refused` or
 * `abandoned` counts, later ones do nothing (a stream ended by its token's expiry after admission is not
 * a second decision). Telemetry never decides a call: whatever a provider throws is swallowed.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * import { fromSecret } from '../keys/secret.ts';
 * import { authStatus } from '../verify/auth-status.ts';
 * const keys = fromSecret('x'.repeat(32));
 * const telemetry = startTelemetry({}, [keys], () => authStatus([{ issuer: undefined, keys }]));
 * const record: CallRecord | undefined = telemetry?.begin('/acme.orders.v1.Orders/GetOrder', new Metadata());
 * record?.abandoned();
 * ```
 */
export interface CallRecord {
  /** The call reaches its handler; `facts` of its verified token (undefined for `'optional'` without one). */
  admitted(probe: VerificationProbe | undefined, facts: TokenFacts | undefined): void;
  /** The call is refused; the probe's facts are set only for a genuine token. */
  refused(error: AuthError, probe: VerificationProbe | undefined): void;
  /** The call was cancelled before a decision: its span ends, nothing is counted. */
  abandoned(): void;
}

/**
 * The interceptor's telemetry: {@link CallRecord}s for calls, key-set instruments, and `close()`.
 *
 * @example
 * ```ts
 * import { fromSecret } from '../keys/secret.ts';
 * import { authStatus } from '../verify/auth-status.ts';
 * const keys = fromSecret('x'.repeat(32));
 * const telemetry: InterceptorTelemetry | undefined = startTelemetry(false, [keys], () => authStatus([{ issuer: undefined, keys }])); // undefined: off
 * telemetry?.close();
 * ```
 */
export interface InterceptorTelemetry {
  begin(method: string, metadata: Metadata): CallRecord;
  close(): void;
}

class Record implements CallRecord {
  #open = true;
  constructor(
    private readonly method: string,
    private readonly decisions: DecisionMetrics | undefined,
    private readonly spans: AuthSpans | undefined,
    private span: Span | undefined,
  ) {}

  admitted(probe: VerificationProbe | undefined, facts: TokenFacts | undefined): void {
    this.#decide('admitted', 'OK', probe, facts);
  }

  refused(error: AuthError, probe: VerificationProbe | undefined): void {
    this.#decide('refused', error.reason, probe, probe?.facts);
  }

  abandoned(): void {
    if (!this.#open) return;
    this.#open = false;
    guarded(() => this.span?.end());
  }

  #decide(outcome: 'admitted' | 'refused', reason: string, probe: VerificationProbe | undefined, facts: TokenFacts | undefined): void {
    if (!this.#open) return;
    this.#open = false;
    const cacheHit = probe?.cacheHit;
    guarded(() => {
      this.decisions?.decided(this.method, outcome, reason);
      if (cacheHit !== undefined && probe?.verificationTime !== undefined) this.decisions?.verified(cacheHit, probe.verificationTime);
    });
    const { span } = this;
    if (span !== undefined) guarded(() => this.spans?.end(span, { outcome, reason, cacheHit, facts }));
    this.span = undefined;
  }
}

function guarded(record: () => void): void {
  try {
    record();
  } catch {
    // A failing metrics or tracing SDK must never change what happens to a call.
  }
}

/**
 * Starts the interceptor's telemetry from its `telemetry` option (checked here: a bad shape throws an
 * AuthConfigError naming it): instruments created now, on the providers given or the global ones.
 * undefined when telemetry is off, or when every provider is a no-op (no SDK registered yet): then
 * calls pay nothing for it.
 *
 * @example
 * ```ts
 * import { fromSecret } from '../keys/secret.ts';
 * import { authStatus } from '../verify/auth-status.ts';
 * const keys = fromSecret('x'.repeat(32));
 * const telemetry = startTelemetry(undefined, [keys], () => authStatus([{ issuer: undefined, keys }]));
 * telemetry?.close();
 * ```
 */
export function startTelemetry(
  option: unknown,
  resolvers: readonly KeyResolver[],
  status: () => AuthStatus,
  clock: () => number = Date.now,
): InterceptorTelemetry | undefined {
  const resolved = resolveTelemetry(option);
  if (resolved === undefined) return undefined;
  const { api, meterProvider, tracerProvider } = resolved;
  // Providers that record nothing (the api's globals before an SDK registered) are left out: calls then
  // pay nothing for them. Hence the rule: register the SDK before createAuthInterceptor. A provider that
  // throws or returns no meter or tracer here is refused now, naming its option (see withProvider).
  const meter =
    meterProvider &&
    withProvider('telemetry.meterProvider', 'getMeter()', () => {
      const got = checkedMeter(meterProvider.getMeter(INSTRUMENTATION_SCOPE));
      return isNoopMeter(got, api) ? undefined : got;
    });
  const tracer =
    tracerProvider &&
    withProvider('telemetry.tracerProvider', 'getTracer()', () => {
      const provider = tracerProvider as TracerProvider;
      return isNoopTracerProvider(provider, api) ? undefined : checkedTracer(provider.getTracer(INSTRUMENTATION_SCOPE));
    });
  if (meter === undefined && tracer === undefined) return undefined;
  const decisions = meter && withProvider('telemetry.meterProvider', 'creating the instruments', () => new DecisionMetrics(meter));
  const keyMetrics = meter && withProvider('telemetry.meterProvider', 'creating the instruments', () => new KeyMetrics(meter, status, clock));
  // Last, once nothing more can fail: a refused creation leaves no listener on the resolvers.
  keyMetrics?.listen(resolvers);
  const spans = tracer && new AuthSpans(tracer, api, resolved.recordSubject);
  return {
    begin(method, metadata) {
      let span: Span | undefined;
      if (spans !== undefined) guarded(() => (span = spans.start(method, metadata)));
      return new Record(method, decisions, spans, span);
    },
    close: () => guarded(() => keyMetrics?.close()),
  };
}
