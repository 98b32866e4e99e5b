import { optionalFunction } from './option-checks.ts';
import { AuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';

/** 9999-12-31T23:59:59Z in seconds: the last instant a NumericDate may name. */
export const LAST_NUMERIC_DATE = 253_402_300_799;

/** 2001-09-09T01:46:40Z: a clock reading earlier than this is in the wrong unit. */
const EARLIEST_READING = 1e12;

/**
 * Compiles the `clock` option into the one function every time check reads: the authenticator, the
 * verified-token cache (through the authenticator) and the interceptor's own checks (the last moment
 * before a handler runs, the stream expiry timer). `undefined` means `Date.now`; anything but a function
 * (`null` included) throws an {@link AuthConfigError} naming `clock`.
 *
 * The returned reader throws `ERR_AUTH_INTERNAL` when the clock gives anything but a finite number
 * (every comparison with NaN is false, so a NaN reading would make expired tokens pass: fail open) or
 * throws itself, or reads before 2001 (a clock in seconds would make every token without `iat` look
 * unexpired), so callers of the authenticator only ever see an {@link AuthError}.
 *
 * @example
 * ```ts
 * const now = checkedClock(() => Date.now()); // () => milliseconds since the epoch, or throws ERR_AUTH_INTERNAL
 * const validUntil = now() + 60_000;
 * if (now() >= validUntil) console.warn('token expired');
 * ```
 */
export function checkedClock(clock: unknown, option = 'clock'): () => number {
  const read = optionalFunction<() => unknown>(clock, option, 'a function returning milliseconds since the epoch');
  if (read === undefined) return Date.now;
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
    // A clock in seconds (`Date.now() / 1000`), `performance.now` or a zeroed clock reads as 1970: every
    // token without `iat` or `nbf` would then look unexpired forever. Such a reading is a wrong unit, not
    // a time: refuse rather than fail open. (A reading far in the future only makes tokens expire.)
    if (reading < EARLIEST_READING) {
      throw new AuthError(
        'ERR_AUTH_INTERNAL',
        `the \`${option}\` option returned ${String(reading)}, which is before 2001: not milliseconds since the epoch (seconds, or performance.now?); the call is refused`,
      );
    }
    return reading;
  };
}
