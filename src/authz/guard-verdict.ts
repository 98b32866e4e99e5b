import { isThenable } from '../util/thenable.ts';
import { AuthError, toAuthError } from '../errors/auth-error.ts';
import { copyStepUpChallenge } from '../errors/step-up.ts';
import type { AuthContext } from '../verify/auth-context.ts';
import { bindingOfDenial } from './bound-token-guard.ts';
import type { Guard, GuardDenial, GuardInfo } from './guards.ts';

/**
 * What a guard's answer comes to, whatever it returned or threw: `true` (allowed), the
 * {@link GuardDenial} it refused with, or the {@link AuthError} it failed with.
 *
 * @example
 * ```ts
 * import type { GuardVerdict } from './guard-verdict.ts';
 * const allowed: GuardVerdict = true;
 * const denied: GuardVerdict = { allowed: false, message: 'missing scope orders:write', requiredScopes: ['orders:write'] };
 * ```
 */
export type GuardVerdict = true | GuardDenial | AuthError;

/** A guard that throws an {@link AuthError} is answered with it; any other throw is INTERNAL (a bug, not a verdict). */
const failed = (error: unknown): AuthError => toAuthError(error, 'guard threw');

/**
 * A settled result as a verdict; never throws. Only a literal `true` allows: a guard that forgets to
 * return (undefined), returns a truthy non-boolean or `{ allowed: true }` refuses, so a bug fails
 * closed. A denial is copied field by field, here and only here: a throwing getter of a custom guard's
 * object is that guard's failure (INTERNAL), and later readers see plain data.
 */
function verdictOf(result: unknown, info: GuardInfo): GuardVerdict {
  if (result === true) return true;
  try {
    const denial =
      typeof result === 'object' && result !== null && (result as { allowed?: unknown }).allowed === false ? (result as Partial<GuardDenial>) : undefined;
    const message = typeof denial?.message === 'string' ? denial.message : `guard refused ${info.method}`;
    const requiredScopes: unknown = denial?.requiredScopes;
    // A step-up challenge may be built from token content: only header-safe values are kept.
    const stepUp = copyStepUpChallenge(denial?.stepUp);
    const binding = denial === undefined ? undefined : bindingOfDenial(denial);
    return {
      allowed: false,
      message,
      ...(Array.isArray(requiredScopes) && requiredScopes.length > 0 ? { requiredScopes: Object.freeze([...(requiredScopes as readonly string[])]) } : {}),
      ...(stepUp ? { stepUp } : {}),
      // Only a known kind: anything else (a typo in a custom guard) leaves a plain PERMISSION_DENIED.
      ...(binding ? { binding } : {}),
    };
  } catch (error) {
    return failed(error);
  }
}

/**
 * Runs a guard and turns whatever it does (returns `true`, `false` or a {@link GuardDenial}, returns a
 * promise or another thenable of one, throws, rejects) into a {@link GuardVerdict}. The one place a
 * guard's answer is read: the interceptor, `withGuard`, `guardService`, `allOf` and `anyOf` all go
 * through here. Synchronous for a synchronous guard, so a cached token on a guarded method costs no
 * promise; never throws, and its promise never rejects.
 *
 * @example
 * ```ts
 * import { requireScopes, type AuthContext } from 'grpc-jwt-auth';
 * declare const auth: AuthContext;
 * const verdict = judgeGuard(requireScopes('orders:read'), auth, { method: '/acme.orders.v1.Orders/GetOrder' });
 * // true, a GuardDenial, or an AuthError (or a promise of one of them, for an asynchronous guard)
 * ```
 */
export function judgeGuard<C extends object = object>(guard: Guard<C>, auth: AuthContext<C>, info: GuardInfo): GuardVerdict | Promise<GuardVerdict> {
  let result: unknown;
  try {
    result = guard(auth, info);
    // Inside the try: reading `then` (a getter) or a promise's `constructor` runs the guard's code too.
    if (isThenable(result)) return Promise.resolve(result).then((settled) => verdictOf(settled, info), failed);
  } catch (error) {
    return failed(error);
  }
  return verdictOf(result, info);
}

/**
 * The refusal a call ends with for a verdict, or undefined when the guard allowed: a denial with a
 * `stepUp` challenge is UNAUTHENTICATED `INSUFFICIENT_USER_AUTHENTICATION` (RFC 9470: the user must log
 * in again, which is a 401, not a 403), one with `binding` UNAUTHENTICATED `TOKEN_NOT_BOUND` (the caller
 * needs a sender-constrained token), any other denial PERMISSION_DENIED `INSUFFICIENT_SCOPE`, a
 * failure is its own {@link AuthError}. A custom guard may build `requiredScopes` or `stepUp` from token
 * content: {@link AuthError} keeps only well-formed values, so a claim can never inject text into the
 * `www-authenticate` trailer.
 *
 * @example
 * ```ts
 * refusalOf({ allowed: false, message: 'missing scope orders:write', requiredScopes: ['orders:write'] }); // AuthError ERR_AUTH_INSUFFICIENT_SCOPE
 * refusalOf({ allowed: false, message: 'acr is not mfa', stepUp: { acrValues: ['mfa'] } }); // AuthError ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION
 * refusalOf({ allowed: false, message: 'bearer token', binding: 'dpop' }); // AuthError ERR_AUTH_TOKEN_NOT_BOUND
 * refusalOf(true); // undefined
 * ```
 */
export function refusalOf(verdict: GuardVerdict): AuthError | undefined {
  if (verdict === true) return undefined;
  if (verdict instanceof AuthError) return verdict;
  if (verdict.stepUp) return new AuthError('ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION', verdict.message, { stepUp: verdict.stepUp });
  if (bindingOfDenial(verdict)) return new AuthError('ERR_AUTH_TOKEN_NOT_BOUND', verdict.message);
  return new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', verdict.message, verdict.requiredScopes ? { requiredScopes: verdict.requiredScopes } : {});
}
