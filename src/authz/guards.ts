import type { AuthContext } from '../verify/auth-context.ts';
import { checkClaimPath, claimAt, type ClaimPath } from '../util/claim-paths.ts';
import { AuthConfigError } from '../errors/config-error.ts';
import { AuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import { combineStepUpChallenges, mergeStepUpChallenges, type StepUpChallenge } from '../errors/step-up.ts';
import { bindingOfDenial, type BoundTokenKind } from './bound-token-guard.ts';
import { judgeGuard, type GuardVerdict } from './guard-verdict.ts';
import { checkNames } from './required-names.ts';

/**
 * A guard's refusal, with what would have granted access. The call ends with PERMISSION_DENIED, or,
 * with `stepUp`, UNAUTHENTICATED `INSUFFICIENT_USER_AUTHENTICATION` (RFC 9470), or, with `binding`,
 * UNAUTHENTICATED `TOKEN_NOT_BOUND`; the message goes to logs, the scopes and the step-up challenge to
 * the client.
 *
 * @example
 * ```ts
 * import type { Guard, GuardDenial } from 'grpc-jwt-auth';
 * const denial: GuardDenial = { allowed: false, message: 'missing scope orders:write', requiredScopes: ['orders:write'] };
 * const canWrite: Guard = (auth) => auth.scopes.includes('orders:write') || denial;
 * // A step-up of your own: large refunds need a hardware-key login.
 * const hardwareKey: Guard = (auth) =>
 *   auth.claims.amr === 'hwk' || { allowed: false, message: 'login without hardware key', stepUp: { acrValues: ['urn:acme:loa:3'] } };
 * ```
 */
export interface GuardDenial {
  /** Always `false`: marks the object as a refusal. */
  readonly allowed: false;
  /** For logs, e.g. `missing scope orders:write`. */
  readonly message: string;
  /** Scopes that would grant access; named in `www-authenticate` and ErrorInfo. */
  readonly requiredScopes?: readonly string[];
  /**
   * Set for a refusal the user can cure by logging in again (RFC 9470 step-up): the call ends with
   * UNAUTHENTICATED `INSUFFICIENT_USER_AUTHENTICATION`, and `acr_values` / `max_age` in the challenge.
   */
  readonly stepUp?: StepUpChallenge;
  /**
   * Set for a refusal of a token that is not sender-constrained as the method requires (see
   * `requireBoundToken`): the call ends with UNAUTHENTICATED `TOKEN_NOT_BOUND` (`invalid_token`), since
   * the caller needs a bound token, not other rights. A `stepUp` in the same denial wins.
   */
  readonly binding?: BoundTokenKind;
}

/**
 * What a guard returns: `true` allows; `false` or a {@link GuardDenial} refuses.
 *
 * @example
 * ```ts
 * import type { AuthContext, GuardResult } from 'grpc-jwt-auth';
 * function acmeOnly(auth: AuthContext): GuardResult {
 *   return auth.claims.tenant === 'acme' || { allowed: false, message: 'tenant is not acme' };
 * }
 * ```
 */
export type GuardResult = boolean | GuardDenial;

/**
 * Facts about the call a guard may use besides the caller's token.
 *
 * @example
 * ```ts
 * import type { AuthContext, GuardInfo, GuardResult } from 'grpc-jwt-auth';
 * // Guests may only call read methods.
 * function readOnlyForGuests(auth: AuthContext, info: GuardInfo): GuardResult {
 *   const name = info.method.slice(info.method.lastIndexOf('/') + 1);
 *   return !auth.roles.includes('guest') || name.startsWith('Get') || name.startsWith('List');
 * }
 * ```
 */
export interface GuardInfo {
  /** The full gRPC method path. */
  readonly method: string;
  /**
   * The time, in milliseconds since the epoch (like `Date.now`), for guards that compare with it
   * (`requireAuthTime`); when absent they read `Date.now`.
   */
  readonly clock?: () => number;
}

/**
 * An authorization check on a verified caller. Only a literal `true` allows: a guard that forgets to
 * return (undefined) refuses, so a bug fails closed.
 *
 * `C` types the claims the guard reads: your claims interface (it needs no index signature). Nothing
 * checks that tokens carry them: it is your statement about your tokens, as with `getAuth<C>()`.
 * - `rules`, `defaultRule`, `withGuard` and `guardService` take a guard of any claims type.
 * - `allOf` and `anyOf` combine guards into a guard of the claims type they read. The built-in guards
 *   that read no claim (`requireScopes`, `requireRoles`, ...) and guards typed `Guard` (the default
 *   claims) combine with a `Guard<OrdersClaims>` into a `Guard<OrdersClaims>`. Guards of two different
 *   claims types need their intersection named: `allOf<OrdersClaims & BillingClaims>(a, b)`.
 *
 * @example
 * ```ts
 * import { allOf, requireScopes, type Guard } from 'grpc-jwt-auth';
 * interface OrdersClaims { readonly tenant: string }
 * const sameTenant: Guard<OrdersClaims> = (auth) => auth.claims.tenant === 'acme';
 * const anyCaller: Guard = (auth) => auth.subject !== undefined;
 * const writeOwnTenant = allOf(requireScopes('orders:write'), anyCaller, sameTenant); // a Guard<OrdersClaims>
 * ```
 */
export type Guard<C extends object = object> = (auth: AuthContext<C>, info: GuardInfo) => GuardResult | Promise<GuardResult>;

/**
 * A primitive a claim is compared with by {@link requireClaim}: the claim must equal it, or be an array
 * containing it.
 *
 * @example
 * ```ts
 * import { requireClaim, type ClaimValue } from 'grpc-jwt-auth';
 * const plan: ClaimValue = 'enterprise';
 * const enterpriseOnly = requireClaim('plan', plan);
 * ```
 */
export type ClaimValue = string | number | boolean;

/**
 * A custom test of a claim value for {@link requireClaim}; only a literal `true` allows. It is never
 * called for a missing or `null` claim. `C` types the claims of the context it is given.
 *
 * @example
 * ```ts
 * import { requireClaim, type ClaimPredicate } from 'grpc-jwt-auth';
 * interface OrdersClaims { readonly tenant: string }
 * const withinFiveMinutes: ClaimPredicate = (value) => typeof value === 'number' && Date.now() / 1000 - value < 300;
 * const recentLogin = requireClaim('auth_time', withinFiveMinutes);
 * const ownTenant: ClaimPredicate<OrdersClaims> = (value, auth) => value === auth.claims.tenant;
 * const sameOrg = requireClaim('org', ownTenant);
 * ```
 */
export type ClaimPredicate<C extends object = object> = (value: unknown, auth: AuthContext<C>) => boolean;

/**
 * Validates a guard argument at construction; throws naming the option.
 *
 * @example
 * ```ts
 * checkGuard(() => true, 'allOf[0]'); // the guard
 * checkGuard('public', 'allOf[0]'); // throws AuthConfigError('allOf[0]', ...)
 * ```
 */
export function checkGuard<C extends object = object>(guard: unknown, option: string): Guard<C> {
  if (typeof guard !== 'function') throw new AuthConfigError(option, `expected a guard function, got ${describeForLog(guard)}`);
  return guard as Guard<C>;
}

function checkGuards<C extends object>(guards: readonly unknown[], option: string): readonly Guard<C>[] {
  if (guards.length === 0) throw new AuthConfigError(option, 'expected at least one guard');
  return Object.freeze(guards.map((guard, index) => checkGuard<C>(guard, `${option}[${index}]`)));
}

function deny(message: string, requiredScopes?: readonly string[], stepUp?: StepUpChallenge): GuardDenial {
  return { allowed: false, message, ...(requiredScopes ? { requiredScopes } : {}), ...(stepUp ? { stepUp } : {}) };
}

/**
 * The built-in step-up guards (`requireAcr`, `requireAuthTime`): synchronous, reading only the claims
 * and the clock, with no side effect. `allOf` may therefore ask them after another step-up refusal,
 * which it never does with any other guard.
 */
const STEP_UP_GUARDS = new WeakSet<Guard<never>>();

/**
 * Registers a built-in step-up guard (see {@link allOf}); returns it. Internal: only guards that are
 * synchronous and free of side effects may be registered.
 *
 * @example
 * ```ts
 * const mfa = markStepUpGuard((auth) => auth.claims.acr === 'mfa' || { allowed: false, message: 'no mfa', stepUp: { acrValues: ['mfa'] } });
 * ```
 */
export function markStepUpGuard<C extends object>(guard: Guard<C>): Guard<C> {
  STEP_UP_GUARDS.add(guard as Guard<never>);
  return guard;
}

/** A combinator's answer for a refusing verdict: the denial, or the inner guard's failure thrown on. */
function refusedWith(verdict: Exclude<GuardVerdict, true>): GuardDenial {
  if (verdict instanceof AuthError) throw verdict;
  return verdict;
}

/**
 * Requires every one of the scopes. Scopes are read from the configured scope claims (`scope`, `scp`,
 * `permissions` by default) and compared exactly: `read` never matches `readonly` or `Read`. It reads no
 * claim itself, so it fits a guard over any claims type.
 *
 * @example
 * ```ts
 * import { requireScopes } from 'grpc-jwt-auth';
 * const rules = { '/acme.orders.v1.Orders/DeleteOrder': requireScopes('orders:write', 'orders:delete') };
 * ```
 */
export function requireScopes<C extends object = object>(...scopes: string[]): Guard<C> {
  const required = checkNames(scopes, 'requireScopes', 'scope');
  // every() on the allowed path: the list of what is missing is only built for a refusal.
  return (auth) =>
    required.every((scope) => auth.scopes.includes(scope)) ||
    deny(`missing scope ${required.filter((scope) => !auth.scopes.includes(scope)).join(', ')}`, required);
}

/**
 * Requires at least one of the scopes. A refusal names them all: a token with all of them is accepted too.
 *
 * @example
 * ```ts
 * import { requireAnyScope } from 'grpc-jwt-auth';
 * const rules = { '/acme.orders.v1.Orders/GetOrder': requireAnyScope('orders:read', 'orders:admin') };
 * ```
 */
export function requireAnyScope<C extends object = object>(...scopes: string[]): Guard<C> {
  const accepted = checkNames(scopes, 'requireAnyScope', 'scope');
  return (auth) => accepted.some((scope) => auth.scopes.includes(scope)) || deny(`needs one of the scopes ${accepted.join(', ')}`, accepted);
}

/**
 * Requires every one of the roles. Roles are read from the configured role claims (`roles`,
 * `realm_access.roles`, `cognito:groups` by default; add Keycloak client roles with `roleClaims`) and
 * compared exactly: `admin` never matches `superadmin`.
 *
 * @example
 * ```ts
 * import { requireRoles } from 'grpc-jwt-auth';
 * const rules = { '/acme.admin.v1.Admin/*': requireRoles('admin') };
 * ```
 */
export function requireRoles<C extends object = object>(...roles: string[]): Guard<C> {
  const required = checkNames(roles, 'requireRoles', 'role');
  return (auth) =>
    required.every((role) => auth.roles.includes(role)) || deny(`missing role ${required.filter((role) => !auth.roles.includes(role)).join(', ')}`);
}

/**
 * Requires at least one of the roles.
 *
 * @example
 * ```ts
 * import { requireAnyRole } from 'grpc-jwt-auth';
 * const rules = { '/acme.orders.v1.Orders/RefundOrder': requireAnyRole('support', 'admin') };
 * ```
 */
export function requireAnyRole<C extends object = object>(...roles: string[]): Guard<C> {
  const accepted = checkNames(roles, 'requireAnyRole', 'role');
  return (auth) => accepted.some((role) => auth.roles.includes(role)) || deny(`needs one of the roles ${accepted.join(', ')}`);
}

/**
 * Requires a claim. `claim` is a top-level claim name taken exactly (dots and colons included, as in
 * `https://example.com/tenant`) or an array path into nested objects (`['org', 'id']`). Only own
 * properties are read, never the prototype, and `__proto__`, `constructor` or `prototype` in the path
 * throw at construction. With a string, number or boolean, the claim must equal it
 * (`===`) or be an array containing it, like `aud`; with a predicate, the predicate must return `true`.
 * A missing or `null` claim always refuses, and the predicate is not called (as `requiredClaims` treats
 * `null`). The predicate sees the context typed with your claims type `C`.
 *
 * @example
 * ```ts
 * import { requireClaim } from 'grpc-jwt-auth';
 * interface OrdersClaims { readonly tenant: string }
 * const tenant = requireClaim('tenant', 'acme');
 * const mfa = requireClaim('amr', 'mfa');
 * const verified = requireClaim(['ext', 'email_verified'], true);
 * const adult = requireClaim('age', (value) => typeof value === 'number' && value >= 18);
 * const ownTenant = requireClaim<OrdersClaims>('org', (value, auth) => value === auth.claims.tenant);
 * ```
 */
export function requireClaim<C extends object = object>(claim: ClaimPath, expected: ClaimValue | ClaimPredicate<C>): Guard<C> {
  const path = checkClaimPath(claim, 'requireClaim(claim)');
  const name = typeof path === 'string' ? path : path.join('.');
  if (typeof expected === 'function') {
    return (auth) => {
      const value = claimAt(auth.claims, path);
      return (value !== undefined && value !== null && expected(value, auth) === true) || deny(`claim ${name} does not satisfy the predicate`);
    };
  }
  if (!['string', 'number', 'boolean'].includes(typeof expected) || Number.isNaN(expected)) {
    throw new AuthConfigError('requireClaim(value)', `expected a string, number, boolean or predicate, got ${describeForLog(expected)}`);
  }
  return (auth) => {
    const value = claimAt(auth.claims, path);
    const matches = value === expected || (Array.isArray(value) && value.includes(expected));
    return matches || deny(`claim ${name} is not ${describeForLog(expected)}`);
  };
}

/**
 * Allows when every guard allows; runs them in order and stops at the first refusal, whose denial it
 * returns. A guard that throws (or rejects) makes the whole guard throw (or reject) with its error.
 *
 * One exception, for step-up (RFC 9470): when the first refusal is a step-up, the built-in step-up
 * guards after it (`requireAcr`, `requireAuthTime`; synchronous and free of side effects) are asked
 * too, and the refusal asks for everything they lack at once (`acr_values` and `max_age`, the acr
 * values all of them accept, the smallest `maxAge`). Otherwise a user with a weak, old login would log
 * in again with the stronger method, keep the old `auth_time`, and be refused a second time. No other
 * guard runs after a refusal, so put scope checks first: a caller without the scope then gets
 * PERMISSION_DENIED rather than a pointless new login.
 *
 * @example
 * ```ts
 * import { allOf, requireClaim, requireScopes } from 'grpc-jwt-auth';
 * const guard = allOf(requireScopes('orders:write'), requireClaim('tenant', 'acme'));
 * ```
 */
export function allOf<C extends object = object>(...guards: Guard<C>[]): Guard<C> {
  const list = checkGuards<C>(guards, 'allOf');
  /** The refusal of guard `index`, with the challenges of the later built-in step-up guards when it is a step-up. */
  const refusal = (verdict: Exclude<GuardVerdict, true>, index: number, auth: AuthContext<C>, info: GuardInfo): GuardDenial => {
    const denial = refusedWith(verdict);
    if (!denial.stepUp) return denial;
    const later = list.slice(index + 1).flatMap((guard) => {
      if (!STEP_UP_GUARDS.has(guard as Guard<never>)) return [];
      // Registered guards are synchronous: never a promise here.
      const laterVerdict = judgeGuard(guard, auth, info) as GuardVerdict;
      return laterVerdict === true ? [] : [refusedWith(laterVerdict)];
    });
    if (later.length === 0) return denial;
    const denials = [denial, ...later];
    const challenges = denials.flatMap((each) => (each.stepUp ? [each.stepUp] : []));
    return deny(denials.map((each) => each.message).join('; '), undefined, combineStepUpChallenges(challenges));
  };
  const from = (index: number, auth: AuthContext<C>, info: GuardInfo): GuardResult | Promise<GuardResult> => {
    for (let i = index; i < list.length; i++) {
      const verdict = judgeGuard(list[i] as Guard<C>, auth, info);
      if (verdict instanceof Promise) return verdict.then((settled) => (settled === true ? from(i + 1, auth, info) : refusal(settled, i, auth, info)));
      if (verdict !== true) return refusal(verdict, i, auth, info);
    }
    return true;
  };
  return (auth, info) => from(0, auth, info);
}

/** The binding refusal several denials come to when every one is a binding refusal: their kind if they agree, else `'any'`. */
function mergedBinding(denials: readonly GuardDenial[]): BoundTokenKind | undefined {
  const [first, ...others] = denials.map(bindingOfDenial);
  if (first === undefined || others.includes(undefined)) return undefined;
  return others.every((kind) => kind === first) ? first : 'any';
}

/**
 * Allows when any guard allows; runs them in order and stops at the first that allows. A refusal lists
 * every denial and the scopes any of them named. When any denial is a step-up (`requireAcr`,
 * `requireAuthTime`), the refusal is one step-up asking for all of them: their acr values in order
 * and the smallest `maxAge` (a new login is the one way listed that the caller can take by itself).
 * When every denial is a binding refusal (`requireBoundToken`), the refusal is one too
 * (UNAUTHENTICATED `TOKEN_NOT_BOUND`): of one kind if they all name it, `'any'` otherwise. A binding
 * refusal among others that are not is outvoted: PERMISSION_DENIED.
 * A guard that throws (or rejects) makes the whole guard throw (or reject) with its error: a bug is
 * never outvoted.
 *
 * @example
 * ```ts
 * import { anyOf, requireRoles, requireScopes } from 'grpc-jwt-auth';
 * const guard = anyOf(requireScopes('orders:admin'), requireRoles('support'));
 * ```
 */
export function anyOf<C extends object = object>(...guards: Guard<C>[]): Guard<C> {
  const list = checkGuards<C>(guards, 'anyOf');
  const refuse = (denials: readonly GuardDenial[]): GuardDenial => {
    const scopes = [...new Set(denials.flatMap((denial) => denial.requiredScopes ?? []))];
    const stepUps = denials.flatMap((denial) => (denial.stepUp ? [denial.stepUp] : []));
    const message = `none allowed: ${denials.map((denial) => denial.message).join('; ')}`;
    if (stepUps.length > 0) return deny(message, undefined, mergeStepUpChallenges(stepUps));
    const binding = mergedBinding(denials);
    if (binding) return { allowed: false, message, binding };
    return deny(message, scopes.length > 0 ? scopes : undefined);
  };
  const from = (index: number, denials: GuardDenial[], auth: AuthContext<C>, info: GuardInfo): GuardResult | Promise<GuardResult> => {
    for (let i = index; i < list.length; i++) {
      const verdict = judgeGuard(list[i] as Guard<C>, auth, info);
      if (verdict instanceof Promise) {
        return verdict.then((settled) => (settled === true ? true : from(i + 1, [...denials, refusedWith(settled)], auth, info)));
      }
      if (verdict === true) return true;
      denials.push(refusedWith(verdict));
    }
    return refuse(denials);
  };
  return (auth, info) => from(0, [], auth, info);
}
