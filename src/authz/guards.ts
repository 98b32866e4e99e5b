import { isThenable } from '../util/thenable.ts';
import type { AuthContext } from '../verify/auth-context.ts';
import { checkClaimPath, claimAt, type ClaimPath } from '../util/claim-paths.ts';
import { AuthConfigError } from '../errors/config-error.ts';
import { AuthError, isScopeToken, toAuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';

/**
 * A guard's refusal, with what would have granted access. The call ends with PERMISSION_DENIED; the
 * message goes to logs, the scopes to the client.
 *
 * @example
 * ```ts
 * import type { Guard, GuardDenial } from 'grpc-jwt-auth';
 * const denial: GuardDenial = { allowed: false, message: 'missing scope orders:write', requiredScopes: ['orders:write'] };
 * const canWrite: Guard = (auth) => auth.scopes.includes('orders:write') || denial;
 * ```
 */
export interface GuardDenial {
  /** Always `false`: marks the object as a refusal. */
  readonly allowed: false;
  /** For logs, e.g. `missing scope orders:write`. */
  readonly message: string;
  /** Scopes that would grant access; named in `www-authenticate` and ErrorInfo. */
  readonly requiredScopes?: readonly string[];
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
}

/**
 * An authorization check on a verified caller. Only a literal `true` allows: a guard that forgets to
 * return (undefined) refuses, so a bug fails closed.
 *
 * @example
 * ```ts
 * import type { Guard } from 'grpc-jwt-auth';
 * const sameTenant: Guard = (auth) => auth.claims.tenant === 'acme';
 * ```
 */
export type Guard = (auth: AuthContext, info: GuardInfo) => GuardResult | Promise<GuardResult>;

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
 * called for a missing or `null` claim.
 *
 * @example
 * ```ts
 * import { requireClaim, type ClaimPredicate } from 'grpc-jwt-auth';
 * const withinFiveMinutes: ClaimPredicate = (value) => typeof value === 'number' && Date.now() / 1000 - value < 300;
 * const recentLogin = requireClaim('auth_time', withinFiveMinutes);
 * ```
 */
export type ClaimPredicate = (value: unknown, auth: AuthContext) => boolean;

/**
 * Validates a list of required scopes or roles at construction; throws naming the option. Returns the
 * list without duplicates.
 *
 * @example
 * ```ts
 * checkNames(['orders:read', 'orders:read'], 'requireScopes', 'scope'); // ['orders:read']
 * checkNames(['orders:read orders:write'], 'requireScopes', 'scope'); // throws at requireScopes[0]
 * ```
 */
export function checkNames(values: readonly unknown[], option: string, kind: 'scope' | 'role'): readonly string[] {
  if (values.length === 0) throw new AuthConfigError(option, `expected at least one ${kind}: a guard that requires nothing would allow everyone`);
  values.forEach((value, index) => {
    if (kind === 'scope' ? !isScopeToken(value) : typeof value !== 'string' || value.trim() === '') {
      const expected = kind === 'scope' ? 'a scope: printable ASCII without spaces, quotes or backslashes' : 'a non-empty role name';
      throw new AuthConfigError(`${option}[${index}]`, `expected ${expected}, got ${describeForLog(value)}`);
    }
  });
  return Object.freeze([...new Set(values as string[])]);
}

function checkGuards(guards: readonly unknown[], option: string): readonly Guard[] {
  if (guards.length === 0) throw new AuthConfigError(option, 'expected at least one guard');
  guards.forEach((guard, index) => {
    if (typeof guard !== 'function') throw new AuthConfigError(`${option}[${index}]`, `expected a guard function, got ${describeForLog(guard)}`);
  });
  return Object.freeze([...guards]) as readonly Guard[];
}

function deny(message: string, requiredScopes?: readonly string[]): GuardDenial {
  return requiredScopes ? { allowed: false, message, requiredScopes } : { allowed: false, message };
}

/** Any refusal as a {@link GuardDenial}: `false`, `undefined` or a stray value refuse without detail. */
function toDenial(result: unknown): GuardDenial {
  if (typeof result === 'object' && result !== null && (result as { allowed?: unknown }).allowed === false) return result as GuardDenial;
  return deny('guard refused');
}

/**
 * Requires every one of the scopes. Scopes are read from the configured scope claims (`scope`, `scp`,
 * `permissions` by default) and compared exactly: `read` never matches `readonly` or `Read`.
 *
 * @example
 * ```ts
 * import { requireScopes } from 'grpc-jwt-auth';
 * const rules = { '/acme.orders.v1.Orders/DeleteOrder': requireScopes('orders:write', 'orders:delete') };
 * ```
 */
export function requireScopes(...scopes: string[]): Guard {
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
export function requireAnyScope(...scopes: string[]): Guard {
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
export function requireRoles(...roles: string[]): Guard {
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
export function requireAnyRole(...roles: string[]): Guard {
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
 * `null`).
 *
 * @example
 * ```ts
 * import { requireClaim } from 'grpc-jwt-auth';
 * const tenant = requireClaim('tenant', 'acme');
 * const mfa = requireClaim('amr', 'mfa');
 * const verified = requireClaim(['ext', 'email_verified'], true);
 * const adult = requireClaim('age', (value) => typeof value === 'number' && value >= 18);
 * ```
 */
export function requireClaim(claim: ClaimPath, expected: ClaimValue | ClaimPredicate): Guard {
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
 * returns.
 *
 * @example
 * ```ts
 * import { allOf, requireClaim, requireScopes } from 'grpc-jwt-auth';
 * const guard = allOf(requireScopes('orders:write'), requireClaim('tenant', 'acme'));
 * ```
 */
export function allOf(...guards: Guard[]): Guard {
  const list = checkGuards(guards, 'allOf');
  const from = (index: number, auth: AuthContext, info: GuardInfo): GuardResult | Promise<GuardResult> => {
    for (let i = index; i < list.length; i++) {
      const result: unknown = (list[i] as Guard)(auth, info);
      if (isThenable(result)) return Promise.resolve(result).then((settled) => (settled === true ? from(i + 1, auth, info) : toDenial(settled)));
      if (result !== true) return toDenial(result);
    }
    return true;
  };
  return (auth, info) => from(0, auth, info);
}

/**
 * Allows when any guard allows; runs them in order and stops at the first that allows. A refusal lists
 * every denial and the scopes any of them named.
 *
 * @example
 * ```ts
 * import { anyOf, requireRoles, requireScopes } from 'grpc-jwt-auth';
 * const guard = anyOf(requireScopes('orders:admin'), requireRoles('support'));
 * ```
 */
export function anyOf(...guards: Guard[]): Guard {
  const list = checkGuards(guards, 'anyOf');
  const refuse = (denials: readonly GuardDenial[]): GuardDenial => {
    const scopes = [...new Set(denials.flatMap((denial) => denial.requiredScopes ?? []))];
    return deny(`none allowed: ${denials.map((denial) => denial.message).join('; ')}`, scopes.length > 0 ? scopes : undefined);
  };
  const from = (index: number, denials: GuardDenial[], auth: AuthContext, info: GuardInfo): GuardResult | Promise<GuardResult> => {
    for (let i = index; i < list.length; i++) {
      const result: unknown = (list[i] as Guard)(auth, info);
      if (isThenable(result)) {
        return Promise.resolve(result).then((settled) => (settled === true ? true : from(i + 1, [...denials, toDenial(settled)], auth, info)));
      }
      if (result === true) return true;
      denials.push(toDenial(result));
    }
    return refuse(denials);
  };
  return (auth, info) => from(0, [], auth, info);
}

/**
 * The verdict of a guard: undefined when it allowed, else the {@link AuthError} to answer with.
 *
 * @example
 * ```ts
 * const verdict: GuardVerdict = await judgeGuard(guard, auth, { method });
 * if (verdict) callback(rejectionStatus(verdict));
 * ```
 */
export type GuardVerdict = AuthError | undefined;

const guardThrew = (error: unknown): AuthError => toAuthError(error, 'guard threw');

function verdictOf(result: unknown, info: GuardInfo): GuardVerdict {
  if (result === true) return undefined;
  const denial = typeof result === 'object' && result !== null ? (result as Partial<GuardDenial>) : undefined;
  // A custom guard may build requiredScopes from token content: AuthError keeps only well-formed scopes,
  // so a claim can never inject text into the www-authenticate trailer.
  const requiredScopes = Array.isArray(denial?.requiredScopes) ? denial.requiredScopes : [];
  const message = typeof denial?.message === 'string' ? denial.message : `guard refused ${info.method}`;
  return new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', message, requiredScopes.length > 0 ? { requiredScopes } : {});
}

/**
 * Runs a guard and returns its verdict, synchronously when the guard is synchronous (so neither the
 * interceptor nor a handler wrapper adds a tick). A guard that throws an {@link AuthError} is answered
 * with it; any other throw is INTERNAL (a bug, not a verdict).
 *
 * @example
 * ```ts
 * const verdict = judgeGuard(requireScopes('orders:read'), auth, { method: '/acme.orders.v1.Orders/GetOrder' });
 * // undefined (allowed), an AuthError, or a promise of either when the guard is asynchronous
 * ```
 */
export function judgeGuard(guard: Guard, auth: AuthContext, info: GuardInfo): GuardVerdict | Promise<GuardVerdict> {
  let result: unknown;
  try {
    result = guard(auth, info);
  } catch (error) {
    return guardThrew(error);
  }
  if (isThenable(result)) return Promise.resolve(result).then((settled) => verdictOf(settled, info), guardThrew);
  return verdictOf(result, info);
}

/**
 * Runs a guard and throws PERMISSION_DENIED unless it allowed; stays synchronous for a synchronous guard.
 * A guard that throws an {@link AuthError} is answered with it; any other throw is INTERNAL.
 *
 * @example
 * ```ts
 * await enforceGuard(requireRoles('admin'), auth, { method }); // throws ERR_AUTH_INSUFFICIENT_SCOPE unless admin
 * ```
 */
export function enforceGuard(guard: Guard, auth: AuthContext, info: GuardInfo): void | Promise<void> {
  const verdict = judgeGuard(guard, auth, info);
  if (verdict instanceof Promise) {
    return verdict.then((settled) => {
      if (settled) throw settled;
    });
  }
  if (verdict) throw verdict;
}
