import { toAuthError, type AuthError } from '../errors/auth-error.ts';

// setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days): longer waits are re-armed.
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * Calls `onEnd()` once the clock passes `validUntil`, or `onEnd(error)` when the clock cannot be read
 * (it throws, or the checked clock refuses a NaN reading): the stream must end then too, since without
 * a clock nobody can tell that its token still holds (a NaN delay would otherwise re-arm forever and
 * keep the stream open). The timer is unref'd: an open stream must not keep a process alive by itself.
 * Returns a function that cancels it.
 *
 * @example
 * ```ts
 * const cancel = scheduleExpiry(Date.now() + 60_000, Date.now, (clockError) => console.warn(clockError?.code ?? 'token expired: end the stream'));
 * cancel(); // the stream ended first
 * ```
 */
export function scheduleExpiry(validUntil: number, clock: () => number, onEnd: (clockError?: AuthError) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  // Always through a timer, never synchronously: the caller has not finished admitting the call yet.
  const arm = (): void => {
    let delay: number;
    try {
      delay = validUntil - clock();
    } catch (error) {
      timer = setTimeout(() => end(toAuthError(error, 'clock failed')), 0);
      timer.unref();
      return;
    }
    timer = setTimeout(delay <= 0 ? () => end() : arm, Math.max(0, Math.min(delay, MAX_TIMER_DELAY)));
    timer.unref();
  };
  const end = (clockError?: AuthError): void => {
    timer = undefined;
    onEnd(clockError);
  };
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
