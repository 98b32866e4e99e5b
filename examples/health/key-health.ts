/**
 * The recipe: report the auth interceptor's keys through the standard gRPC health service
 * (`grpc.health.v1.Health`, from the `grpc-health-check` package), so a load balancer or a Kubernetes
 * readiness probe stops sending calls while the server cannot verify tokens. Copy this file.
 *
 * NOT_SERVING while some issuer has no usable keys: none fetched yet, or the identity provider has been
 * down for longer than the keys' stale bound (`cacheMaxAge` plus `staleIfError`); SERVING otherwise,
 * stale keys included. Keys cross the stale bound with no event, so the status is polled; key events
 * (a fetch that fails or succeeds) update it at once. While NOT_SERVING no traffic comes, and none is
 * needed: the key set is retried in the background and the status flips back after the first success.
 */
import type { HealthImplementation, ServingStatus } from 'grpc-health-check';
import type { AuthStatus, KeyResolver } from 'grpc-jwt-auth';

export interface KeyHealthOptions {
  /** Service names to report besides `''` (the whole server). */
  readonly services?: readonly string[];
  /** Seconds between two readings of `auth.status()`. Default 5. */
  readonly interval?: number;
  /** Key resolvers whose events (a fetch that fails or succeeds) update the status at once. */
  readonly keys?: readonly KeyResolver[];
}

export interface KeyHealth {
  /** Reads `auth.status()` now and reports it (NOT_SERVING if it throws); returns what was reported. */
  update(): ServingStatus;
  /** Stops polling and listening. */
  stop(): void;
}

export function reportKeyHealth(auth: { status(): AuthStatus }, health: HealthImplementation, options: KeyHealthOptions = {}): KeyHealth {
  const services = ['', ...(options.services ?? [])];
  let reported: ServingStatus | undefined;
  const serving = (): boolean => {
    try {
      return auth.status().serving;
    } catch {
      // This runs on a timer, where a throw ends the process; a status that cannot be read is no ready server.
      return false;
    }
  };
  const update = (): ServingStatus => {
    const now: ServingStatus = serving() ? 'SERVING' : 'NOT_SERVING';
    // Only changes: watchers of grpc.health.v1.Health/Watch hear each transition once.
    if (now !== reported) for (const service of services) health.setStatus(service, now);
    reported = now;
    return now;
  };
  update();
  const timer = setInterval(update, (options.interval ?? 5) * 1000);
  // A health reporter must never keep a process alive that is otherwise done.
  timer.unref();
  const unsubscribes = (options.keys ?? []).map((keys) => keys.subscribe?.(() => update()));
  return {
    update,
    stop() {
      clearInterval(timer);
      for (const unsubscribe of unsubscribes) unsubscribe?.();
    },
  };
}
