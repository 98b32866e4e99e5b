// setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days): longer waits are re-armed.
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * Calls `onExpired` once the clock passes `validUntil`. The timer is unref'd: an open stream must not
 * keep a process alive by itself. Returns a function that cancels it.
 */
export function scheduleExpiry(validUntil: number, clock: () => number, onExpired: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  // Always through a timer, never synchronously: the caller has not finished admitting the call yet.
  const arm = (): void => {
    const delay = validUntil - clock();
    timer = setTimeout(delay <= 0 ? fire : arm, Math.max(0, Math.min(delay, MAX_TIMER_DELAY)));
    timer.unref();
  };
  const fire = (): void => {
    timer = undefined;
    onExpired();
  };
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
