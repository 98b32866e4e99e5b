import { AuthError } from '../errors/auth-error.ts';
import { optionalInteger } from '../util/option-checks.ts';

/**
 * Default `maxConcurrentVerifications` of the interceptor: a ceiling, not a throttle. A verification
 * holds its place while it waits for keys, so a legitimate burst of new tokens (a cold cache after a
 * deploy, a provider slow to answer: hundreds of calls waiting on one key fetch) must fit under it; a
 * bound of 64 shed such bursts. 1024 places cost little memory, and 1024 signature checks queued on
 * libuv's threadpool (4 threads) clear in about 10 ms, so what else waits there (DNS of a key fetch)
 * waits little. Lower it to protect admitted callers' latency under floods of forged tokens (figures:
 * `npm run load -- flood`, README "Overload").
 *
 * @example
 * ```ts
 * new VerificationLimit(DEFAULT_MAX_CONCURRENT_VERIFICATIONS).max; // 1024
 * ```
 */
export const DEFAULT_MAX_CONCURRENT_VERIFICATIONS = 1024;

/**
 * `maxConcurrentVerifications`: a whole number from 1 to 1,000,000, or `fallback` when not given (the
 * interceptor's default; `createAuthenticator` passes Infinity, no bound).
 *
 * @example
 * ```ts
 * checkMaxConcurrentVerifications(undefined, 'maxConcurrentVerifications'); // 1024
 * checkMaxConcurrentVerifications(undefined, 'maxConcurrentVerifications', Number.POSITIVE_INFINITY); // Infinity: no bound
 * checkMaxConcurrentVerifications(0, 'maxConcurrentVerifications'); // throws AuthConfigError('maxConcurrentVerifications', ...)
 * ```
 */
export function checkMaxConcurrentVerifications(value: unknown, option: string, fallback = DEFAULT_MAX_CONCURRENT_VERIFICATIONS): number {
  return optionalInteger(value, option, 1, 1_000_000) ?? fallback;
}

/**
 * A bound on the full verifications under way at once. Past it, a verification is refused at once with
 * `ERR_AUTH_VERIFIER_BUSY` (UNAVAILABLE, retryable) instead of queued: a flood of distinct forged tokens
 * (each a cache miss, each a signature check) would otherwise grow an unbounded queue of crypto work and
 * of memory, and the event loop that answers admitted callers (cache hits, which never come here) would
 * spend its time starting and settling verifications that all fail. Shedding costs one comparison, and
 * the refusal judges nothing about the token. No wait queue: the bound itself is one (the threadpool
 * runs a few verifications at a time, the rest wait there), and a caller refused fast can retry.
 *
 * @example
 * ```ts
 * const limit = new VerificationLimit(2);
 * const verify = () => new Promise<string>((resolve) => setTimeout(() => resolve('verified'), 10));
 * void limit.run(verify);
 * void limit.run(verify);
 * limit.run(verify); // throws AuthError ERR_AUTH_VERIFIER_BUSY, synchronously
 * limit.enter(); // throws too; once a verification settles, limit.leave() makes room
 * ```
 */
export class VerificationLimit {
  #running = 0;

  constructor(readonly max: number) {}

  /** Starts `verify` when fewer than `max` run; throws `ERR_AUTH_VERIFIER_BUSY` synchronously otherwise. */
  run<T>(verify: () => Promise<T>): Promise<T> {
    this.enter();
    let started: Promise<T>;
    try {
      started = verify();
    } catch (error) {
      this.leave();
      throw error;
    }
    return started.finally(() => {
      this.leave();
    });
  }

  /**
   * Takes a place, or throws `ERR_AUTH_VERIFIER_BUSY` synchronously when all `max` are taken. The caller
   * must {@link VerificationLimit.leave} exactly once when its verification settles, however it settles:
   * for a caller that settles other bookkeeping in the same step (the authenticator's in-flight map), so
   * a verification costs one promise reaction instead of a `finally` of its own.
   */
  enter(): void {
    if (this.#running >= this.max) {
      throw new AuthError('ERR_AUTH_VERIFIER_BUSY', `${this.#running} tokens are being verified, the maxConcurrentVerifications bound`);
    }
    this.#running += 1;
  }

  /** Gives back the place taken by {@link VerificationLimit.enter}. */
  leave(): void {
    this.#running -= 1;
  }
}
