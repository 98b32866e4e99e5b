import { performance } from 'node:perf_hooks';
import type { TokenFacts } from './token-facts.ts';

/**
 * What the authenticator found out about one call's token, for the interceptor's events: filled in as
 * the authentication goes, also when it ends in a refusal. One per call, owned by the caller.
 *
 * @example
 * ```ts
 * import { buildAuthenticator } from './authenticator.ts';
 * const probe = newProbe();
 * const authenticator = buildAuthenticator({ keys, algorithms: ['ES256'] });
 * await Promise.resolve(authenticator.authenticate(token, '/acme.orders.v1.Orders/GetOrder', probe)).catch(() => undefined);
 * console.log(probe.cacheHit, probe.verificationTime, probe.facts?.subject);
 * ```
 */
export interface VerificationProbe {
  /** Whether the verified-token cache answered; undefined until the token reached the authenticator. */
  cacheHit: boolean | undefined;
  /** Seconds from the token reaching the authenticator to its answer (key fetches and `validate` included). */
  verificationTime: number | undefined;
  /**
   * Set once the token's signature is known to verify (a cache hit, or a fresh check), and only then:
   * what a refusal after that point (claims, `validate`, a guard) may tell about the token.
   */
  facts: TokenFacts | undefined;
}

/**
 * An empty probe.
 *
 * @example
 * ```ts
 * const probe = newProbe(); // { cacheHit: undefined, verificationTime: undefined, facts: undefined }
 * ```
 */
export function newProbe(): VerificationProbe {
  return { cacheHit: undefined, verificationTime: undefined, facts: undefined };
}

/**
 * Records how long an answer took, once it is settled, and hands it on unchanged (a rejection too). A
 * monotonic clock, never the `clock` option: a test's frozen clock must not make verification look free.
 *
 * @example
 * ```ts
 * const probe = newProbe();
 * const answer = timed(probe, performance.now(), () => Promise.resolve('verified'));
 * await answer; // probe.verificationTime is now set, in seconds
 * ```
 */
export function timed<T>(probe: VerificationProbe, started: number, answer: () => T | Promise<T>): T | Promise<T> {
  let answered: T | Promise<T> | undefined;
  try {
    answered = answer();
  } finally {
    if (!(answered instanceof Promise)) probe.verificationTime = secondsSince(started);
  }
  if (!(answered instanceof Promise)) return answered;
  return answered.then(
    (value) => {
      probe.verificationTime = secondsSince(started);
      return value;
    },
    (error: unknown) => {
      probe.verificationTime = secondsSince(started);
      throw error;
    },
  );
}

function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
