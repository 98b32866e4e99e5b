import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import { METRIC_NAMES } from './metric-names.ts';
import { rpcAttributes } from './rpc-attributes.ts';

/**
 * Buckets for verification times in seconds: a cache hit takes microseconds, an RSA check tenths of a
 * millisecond, a key fetch on the call's path up to the fetch timeout. The SDK's default buckets are
 * made for milliseconds and would put every call in the first one.
 */
const DURATION_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const CACHE_HIT: Attributes = Object.freeze({ cache: 'hit' });
const CACHE_MISS: Attributes = Object.freeze({ cache: 'miss' });

/**
 * The decision counter and the verification-time histogram. Attribute sets are built once per method
 * and reason and reused: a call allocates none. Methods come from grpc-js's registered methods (an
 * unknown path never reaches an interceptor) and reasons from the fixed list of codes, so the number of
 * series is bounded by the server's own definition; nothing from a token is ever an attribute.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * const decisions = new DecisionMetrics(metrics.getMeter('grpc-jwt-auth'));
 * decisions.decided('/acme.orders.v1.Orders/GetOrder', 'refused', 'TOKEN_EXPIRED');
 * decisions.verified(true, 0.000004);
 * ```
 */
export class DecisionMetrics {
  readonly #decisions: Counter;
  readonly #duration: Histogram;
  /** method → `outcome reason` → attributes. */
  readonly #attributes = new Map<string, Map<string, Attributes>>();

  constructor(meter: Meter) {
    this.#decisions = meter.createCounter(METRIC_NAMES.decisions, {
      description: 'Calls admitted or refused by the auth interceptor, by method and reason.',
      unit: '{call}',
    });
    this.#duration = meter.createHistogram(METRIC_NAMES.verificationDuration, {
      description: 'Time to authenticate a token: a cache lookup, or the full verification (key lookup or fetch, signature, claims, validate hook).',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  /** One decision: `reason` is the ErrorInfo reason of a refusal, `'OK'` for an admitted call. */
  decided(method: string, outcome: 'admitted' | 'refused', reason: string): void {
    let byReason = this.#attributes.get(method);
    if (byReason === undefined) {
      byReason = new Map();
      this.#attributes.set(method, byReason);
    }
    const key = `${outcome} ${reason}`;
    let attributes = byReason.get(key);
    if (attributes === undefined) {
      attributes = Object.freeze({ ...rpcAttributes(method), outcome, reason });
      byReason.set(key, attributes);
    }
    this.#decisions.add(1, attributes);
  }

  /** How long one token's authentication took, in seconds. */
  verified(cacheHit: boolean, seconds: number): void {
    this.#duration.record(seconds, cacheHit ? CACHE_HIT : CACHE_MISS);
  }
}
