/**
 * Step-up guards (RFC 9470): a method that needs a strong login (`requireAcr`) or a recent one
 * (`requireAuthTime`) refuses a valid token that lacks it with a challenge the client can act on: log
 * the user in again with these `acr_values` / this `max_age`, then retry. Refusals are UNAUTHENTICATED
 * `INSUFFICIENT_USER_AUTHENTICATION`, not PERMISSION_DENIED: the same user may pass after a new login.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { AuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import { MAX_ACR_VALUE_LENGTH, MAX_ACR_VALUES, MAX_STEP_UP_MAX_AGE, isAcrValue, type StepUpChallenge } from '../errors/step-up.ts';
import { checkOptionNames, optionNames, optionalInteger, optionalSeconds } from '../util/option-checks.ts';
import { markStepUpGuard, type Guard, type GuardDenial } from './guards.ts';

/**
 * Options of {@link requireAuthTime}.
 *
 * @example
 * ```ts
 * import { requireAuthTime, type RequireAuthTimeOptions } from 'grpc-jwt-auth';
 * const fiveMinutes: RequireAuthTimeOptions = { maxAge: 300 };
 * const recentLogin = requireAuthTime(fiveMinutes);
 * ```
 */
export interface RequireAuthTimeOptions {
  /** The longest time since the user authenticated (`auth_time`) that is accepted, in seconds: a whole number, at least 1. */
  readonly maxAge: number;
  /**
   * How far in the future an `auth_time` may lie (the provider's clock running ahead), in seconds; 60
   * by default, at most 300. Only the future side: the age is compared with `maxAge` exactly.
   */
  readonly clockTolerance?: number;
}

const AUTH_TIME_OPTION_NAMES = optionNames<RequireAuthTimeOptions>({ maxAge: true, clockTolerance: true });
const DEFAULT_CLOCK_TOLERANCE = 60;
const MAX_CLOCK_TOLERANCE = 300;

function stepUpDenial(message: string, stepUp: StepUpChallenge): GuardDenial {
  return { allowed: false, message, stepUp };
}

/**
 * Validates acr values at construction (`requireAcr` and the `.proto` rule's `acr_values` alike); throws
 * an `AuthConfigError` naming `option` or `option[i]`. They go into a quoted header: printable ASCII
 * without spaces, quotes or backslashes, at most 256 characters each, 1 to 32 of them. Returns them
 * without duplicates.
 *
 * @example
 * ```ts
 * checkAcrValues(['mfa', 'mfa', 'hwk'], 'requireAcr'); // ['mfa', 'hwk']
 * checkAcrValues(['multi factor'], 'requireAcr'); // throws AuthConfigError('requireAcr[0]', ...)
 * ```
 */
export function checkAcrValues(values: readonly unknown[], option: string): readonly string[] {
  if (values.length === 0) throw new AuthConfigError(option, 'expected at least one acr value: a guard that requires nothing would allow everyone');
  if (values.length > MAX_ACR_VALUES) throw new AuthConfigError(option, `expected at most ${MAX_ACR_VALUES} acr values, got ${values.length}`);
  values.forEach((value, index) => {
    if (!isAcrValue(value)) {
      throw new AuthConfigError(
        `${option}[${index}]`,
        `expected an acr value: printable ASCII without spaces, quotes or backslashes, at most ${MAX_ACR_VALUE_LENGTH} characters, got ${describeForLog(value)}`,
      );
    }
  });
  return Object.freeze([...new Set(values as string[])]);
}

/**
 * Requires the user's authentication context class: allows when the token's `acr` claim is a string
 * equal to one of `values` (exactly: case matters, no prefix match). A missing, other or non-string
 * `acr` refuses with a step-up challenge naming all of them (`acr_values="..."`), UNAUTHENTICATED
 * `INSUFFICIENT_USER_AUTHENTICATION`. Values go into a header: each must be printable ASCII without
 * spaces, quotes or backslashes, at most 256 characters, and at most 32 values; anything else throws an
 * `AuthConfigError` at construction, as does an empty list.
 *
 * @example
 * ```ts
 * import { allOf, requireAcr, requireScopes } from 'grpc-jwt-auth';
 * const rules = {
 *   '/acme.bank.v1.Payments/Transfer': allOf(requireScopes('payments:write'), requireAcr('urn:acme:loa:mfa', 'urn:acme:loa:hwk')),
 * };
 * ```
 */
export function requireAcr<C extends object = object>(...values: string[]): Guard<C> {
  const accepted = checkAcrValues(values, 'requireAcr');
  const challenge: StepUpChallenge = Object.freeze({ acrValues: accepted });
  return markStepUpGuard((auth) => {
    const acr: unknown = (auth.claims as { acr?: unknown }).acr;
    if (typeof acr === 'string' && accepted.includes(acr)) return true;
    return stepUpDenial(typeof acr === 'string' ? `acr ${describeForLog(acr)} is not one of ${accepted.join(', ')}` : 'no acr claim', challenge);
  });
}

/**
 * Requires a recent login: allows when the token's `auth_time` (when the user authenticated, a
 * NumericDate) is a finite number, at most `maxAge` seconds ago (whole seconds, like `maxTokenAge`), and not more than `clockTolerance`
 * seconds in the future. A missing, non-numeric, too old or future `auth_time` refuses with a step-up
 * challenge (`max_age="..."`), UNAUTHENTICATED `INSUFFICIENT_USER_AUTHENTICATION`. Judged on every call,
 * also for a cached token: a token that passes now is refused once its login is too old.
 *
 * The time is the interceptor's `clock` when it hands one to guards (`GuardInfo.clock`), else `Date.now`.
 * Bad options throw an `AuthConfigError` naming them (`requireAuthTime.maxAge`) at construction.
 *
 * @example
 * ```ts
 * import { requireAuthTime } from 'grpc-jwt-auth';
 * const rules = { '/acme.bank.v1.Accounts/ChangePassword': requireAuthTime({ maxAge: 300 }) };
 * ```
 */
export function requireAuthTime<C extends object = object>(options: RequireAuthTimeOptions): Guard<C> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new AuthConfigError('requireAuthTime(options)', `expected an options object such as { maxAge: 300 }, got ${describeForLog(options)}`);
  }
  checkOptionNames(options as unknown, AUTH_TIME_OPTION_NAMES, 'requireAuthTime');
  if (options.maxAge === undefined) throw new AuthConfigError('requireAuthTime.maxAge', 'required: the longest accepted time since login, in seconds');
  const maxAge = optionalInteger(options.maxAge, 'requireAuthTime.maxAge', 1, MAX_STEP_UP_MAX_AGE) as number;
  const tolerance = optionalSeconds(options.clockTolerance, 'requireAuthTime.clockTolerance', 0, MAX_CLOCK_TOLERANCE) ?? DEFAULT_CLOCK_TOLERANCE;
  const challenge: StepUpChallenge = Object.freeze({ maxAge });
  return markStepUpGuard((auth, info) => {
    const authTime: unknown = (auth.claims as { auth_time?: unknown }).auth_time;
    if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return stepUpDenial('no numeric auth_time claim', challenge);
    // The checked clock throws an AuthError (INTERNAL) rather than read NaN: that is the guard's failure, never an allow.
    const now = (info.clock ?? Date.now)() / 1000;
    // Every comparison with NaN is false: an unreadable time would let any auth_time pass.
    if (!Number.isFinite(now)) throw new AuthError('ERR_AUTH_INTERNAL', 'requireAuthTime: the clock did not read a finite time');
    if (authTime > now + tolerance) return stepUpDenial(`auth_time lies ${Math.round(authTime - now)} s in the future`, challenge);
    // Whole seconds, as the verifier's maxTokenAge (and jose): a login exactly maxAge old passes for that
    // whole second and is too old from the next, whatever the milliseconds of the clock.
    if (now >= Math.floor(authTime + maxAge) + 1) return stepUpDenial(`login was ${Math.floor(now - authTime)} s ago, more than ${maxAge} s`, challenge);
    return true;
  });
}
