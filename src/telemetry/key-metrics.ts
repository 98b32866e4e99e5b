import type { Attributes, BatchObservableCallback, Counter, Meter, ObservableGauge } from '@opentelemetry/api';
import type { KeysState } from '../keys/key-status.ts';
import type { KeyResolver } from '../keys/resolver.ts';
import type { RemoteKeysEvent } from '../keys/remote-events.ts';
import type { AuthStatus } from '../verify/auth-status.ts';
import { METRIC_NAMES } from './metric-names.ts';

const STATES: readonly KeysState[] = ['static', 'fresh', 'stale', 'expired', 'empty', 'unknown'];

/**
 * meter → resolver → the one subscription counting that resolver's fetches into that meter, and how many
 * interceptors hold it (the last one to close unsubscribes). The SDK gives one meter per scope, whose
 * instruments of one name share their data: whichever interceptor's counter hears a fetch, it counts once.
 */
const FETCH_LISTENERS = new WeakMap<Meter, WeakMap<KeyResolver, { holders: number; unsubscribe: () => void }>>();

function readClock(clock: () => number): number | undefined {
  try {
    const now = clock();
    return Number.isFinite(now) ? now : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key-set instruments: a counter of fetches, heard through each resolver's `subscribe()`, and two
 * gauges read from `status()` at each collection (never a fetch): the key set's age and its state per
 * issuer. `close()` unsubscribes and removes the gauges' callback.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { fromSecret } from '../keys/secret.ts';
 * import { authStatus } from '../verify/auth-status.ts';
 * const keys = fromSecret('x'.repeat(32));
 * const keyMetrics = new KeyMetrics(metrics.getMeter('grpc-jwt-auth'), () => authStatus([{ issuer: undefined, keys }]));
 * keyMetrics.listen([keys]);
 * keyMetrics.close();
 * ```
 */
export class KeyMetrics {
  readonly #fetches: Counter;
  /** `document trigger outcome` → attributes, built once each. */
  readonly #fetchAttributes = new Map<string, Attributes>();
  readonly #unsubscribes: Array<() => void> = [];
  readonly #meter: Meter;
  readonly #gauges: ObservableGauge[];
  readonly #observe: BatchObservableCallback;

  constructor(meter: Meter, status: () => AuthStatus, clock: () => number = Date.now) {
    this.#meter = meter;
    this.#fetches = meter.createCounter(METRIC_NAMES.keyFetches, {
      description: 'Fetches of key sets and discovery documents, by document, what started them and whether they succeeded.',
      unit: '{fetch}',
    });
    const age = meter.createObservableGauge(METRIC_NAMES.keyAge, {
      description: 'Seconds since the key set of an issuer was last fetched and accepted.',
      unit: 's',
    });
    const state = meter.createObservableGauge(METRIC_NAMES.keyState, {
      description: 'The state of the keys of an issuer: 1 for the current state, 0 for the others.',
      unit: '1',
    });
    this.#gauges = [age, state];
    this.#observe = (result) => {
      // The interceptor's clock, the one the resolvers are given in tests and simulations: the age must
      // agree with the state (read with it), not with the wall clock. A clock that fails skips the age.
      const now = readClock(clock);
      for (const issuer of status().issuers) {
        const name = issuer.issuer ?? issuer.source;
        if (issuer.lastFetch !== undefined && now !== undefined) result.observe(age, Math.max(0, (now - issuer.lastFetch.getTime()) / 1000), { issuer: name });
        for (const each of STATES) result.observe(state, each === issuer.state ? 1 : 0, { issuer: name, state: each });
      }
    };
    meter.addBatchObservableCallback(this.#observe, this.#gauges);
  }

  /**
   * Starts counting the resolvers' fetches. Apart from the constructor, and after it: when making the
   * instruments fails, no listener is left on a resolver (it would outlive the interceptor never created).
   */
  listen(resolvers: readonly KeyResolver[]): void {
    let byResolver = FETCH_LISTENERS.get(this.#meter);
    if (byResolver === undefined) {
      byResolver = new WeakMap();
      FETCH_LISTENERS.set(this.#meter, byResolver);
    }
    // Several issuers of one interceptor, or several interceptors (one per server) on one meter, may
    // share one resolver: one subscription for them all, or each fetch would count once per holder.
    for (const keys of new Set(resolvers)) {
      if (typeof keys.subscribe !== 'function') continue;
      let shared = byResolver.get(keys);
      if (shared === undefined) {
        shared = { holders: 0, unsubscribe: keys.subscribe((event) => this.#heard(event)) };
        byResolver.set(keys, shared);
      }
      shared.holders += 1;
      const held = shared;
      const listeners = byResolver;
      this.#unsubscribes.push(() => {
        held.holders -= 1;
        if (held.holders > 0) return;
        listeners.delete(keys);
        held.unsubscribe();
      });
    }
  }

  #heard(event: RemoteKeysEvent): void {
    if (event.type !== 'fetched' && event.type !== 'failed') return;
    const outcome = event.type === 'fetched' ? 'success' : 'failure';
    const key = `${event.document} ${event.trigger} ${outcome}`;
    let attributes = this.#fetchAttributes.get(key);
    if (attributes === undefined) {
      attributes = Object.freeze({ document: event.document, trigger: event.trigger, outcome });
      this.#fetchAttributes.set(key, attributes);
    }
    this.#fetches.add(1, attributes);
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
    this.#meter.removeBatchObservableCallback(this.#observe, this.#gauges);
  }
}
