/**
 * Prometheus metrics for the auth interceptor with prom-client, no OpenTelemetry: the interceptor's
 * `onAuthenticated`/`onRejected` hooks feed a counter and a histogram, the key resolver's `subscribe()`
 * counts fetches, and a gauge reads `auth.status()` at each scrape. Label values come from the server's
 * own methods and the fixed list of reasons: never a subject, token id or kid (unbounded, and personal).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AuthenticatedEvent, AuthStatus, KeyResolver, KeysState, RejectedEvent } from 'grpc-jwt-auth';

const STATES: readonly KeysState[] = ['static', 'fresh', 'stale', 'expired', 'empty', 'unknown'];

export interface AuthMetrics {
  /** For `createAuthInterceptor({ onAuthenticated })`. */
  readonly onAuthenticated: (event: AuthenticatedEvent) => void;
  /** For `createAuthInterceptor({ onRejected })`. */
  readonly onRejected: (event: RejectedEvent) => void;
  /** Counts the fetches of a key resolver; returns the function that stops it. */
  watchKeys(keys: KeyResolver): () => void;
  /** Where the keys gauge reads from at each scrape: `() => auth.status()`. */
  readStatus(status: () => AuthStatus): void;
}

export function authMetrics(registry: Registry): AuthMetrics {
  const decisions = new Counter({
    name: 'grpc_jwt_auth_decisions_total',
    help: 'Calls admitted or refused by the auth interceptor.',
    labelNames: ['method', 'outcome', 'reason'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'grpc_jwt_auth_verification_duration_seconds',
    help: 'Time to authenticate a token: a cache lookup, or the full verification.',
    labelNames: ['cache'],
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const fetches = new Counter({
    name: 'grpc_jwt_auth_keys_fetches_total',
    help: 'Fetches of key sets and discovery documents.',
    labelNames: ['document', 'trigger', 'outcome'],
    registers: [registry],
  });
  let status: (() => AuthStatus) | undefined;
  new Gauge({
    name: 'grpc_jwt_auth_keys_state',
    help: "State of an issuer's keys: 1 for the current state, 0 for the others.",
    labelNames: ['issuer', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const issuer of status?.().issuers ?? []) {
        for (const state of STATES) this.set({ issuer: issuer.issuer ?? issuer.source, state }, state === issuer.state ? 1 : 0);
      }
    },
  });
  const timed = (cacheHit: boolean | undefined, seconds: number | undefined) => {
    if (cacheHit !== undefined && seconds !== undefined) duration.observe({ cache: cacheHit ? 'hit' : 'miss' }, seconds);
  };
  return {
    onAuthenticated(event) {
      decisions.inc({ method: event.method, outcome: 'admitted', reason: 'OK' });
      timed(event.cacheHit, event.verificationTime);
    },
    onRejected(event) {
      decisions.inc({ method: event.method, outcome: 'refused', reason: event.error.reason });
      timed(event.cacheHit, event.verificationTime);
    },
    watchKeys: (keys) =>
      keys.subscribe?.((event) => {
        if (event.type === 'fetched' || event.type === 'failed') {
          fetches.inc({ document: event.document, trigger: event.trigger, outcome: event.type === 'fetched' ? 'success' : 'failure' });
        }
      }) ?? (() => undefined),
    readStatus(read) {
      status = read;
    },
  };
}
