import { AuthConfigError, AuthError, describeForLog } from '../errors.ts';

/**
 * Compiles the `clock` option into the one function every time check reads: the authenticator, the
 * verified-token cache (through the authenticator) and the interceptor's own checks (the last moment
 * before a handler runs, the stream expiry timer). `undefined` means `Date.now`; anything but a function
 * (`null` included) throws an {@link AuthConfigError} naming `clock`.
 *
 * The returned reader throws `ERR_AUTH_INTERNAL` when the clock gives anything but a finite number
 * (every comparison with NaN is false, so a NaN reading would make expired tokens pass: fail open) or
 * throws itself, so callers of the authenticator only ever see an {@link AuthError}.
 *
 * @example
 * ```ts
 * const now = checkedClock(options.clock); // () => milliseconds since the epoch, or throws
 * if (now() >= validUntil) refuse();
 * ```
 */
export function checkedClock(clock: unknown, option = 'clock'): () => number {
  if (clock === undefined) return Date.now;
  if (typeof clock !== 'function') throw new AuthConfigError(option, 'expected a function returning milliseconds since the epoch');
  const read = clock as () => unknown;
  return () => {
    let reading: unknown;
    try {
      reading = read();
    } catch (error) {
      // A clock fault is never a verdict on the token (even if the clock threw an AuthError): INTERNAL.
      throw new AuthError('ERR_AUTH_INTERNAL', `the \`${option}\` option threw; the call is refused`, { cause: error });
    }
    if (typeof reading !== 'number' || !Number.isFinite(reading)) {
      throw new AuthError(
        'ERR_AUTH_INTERNAL',
        `the \`${option}\` option returned ${typeof reading === 'number' ? String(reading) : describeForLog(reading)}, not a finite number of milliseconds; the call is refused`,
      );
    }
    return reading;
  };
}
