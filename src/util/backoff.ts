/**
 * The wait before the next attempt after `failures` consecutive failures (1 or more): `first`, doubling
 * with each failure, at most `max` (any unit, as long as both agree). Someone else's service in trouble
 * gets a trickle of requests from us, not a stampede.
 *
 * @example
 * ```ts
 * backoffDelay(3, 1, 30); // 4
 * ```
 */
export function backoffDelay(failures: number, first: number, max: number): number {
  return Math.min(max, first * 2 ** Math.min(30, Math.max(0, failures - 1)));
}
