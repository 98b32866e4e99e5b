import { AuthConfigError } from '../errors/config-error.ts';

/**
 * Where a list of scopes or roles lives in a claims set. A string names one top-level claim exactly
 * (claim names such as `https://example.com/roles` or `cognito:groups` contain dots and colons); an array
 * is a path into nested objects, e.g. `['resource_access', 'orders-api', 'roles']`.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, DEFAULT_ROLE_CLAIMS, type ClaimPath } from 'grpc-jwt-auth';
 * const clientRoles: ClaimPath = ['resource_access', 'orders-api', 'roles'];
 * const auth = createAuthInterceptor({ keys, algorithms: ['RS256'], roleClaims: [...DEFAULT_ROLE_CLAIMS, clientRoles] });
 * ```
 */
export type ClaimPath = string | readonly string[];

/**
 * Scope claims read by default: `scope` (RFC 8693 / RFC 9068, space-delimited), `scp` (string or array,
 * Azure AD / Okta) and `permissions` (array, Auth0). The default of the `scopeClaims` option.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, DEFAULT_SCOPE_CLAIMS } from 'grpc-jwt-auth';
 * // Keep the usual claims and also read a provider-specific one.
 * const auth = createAuthInterceptor({ keys, algorithms: ['RS256'], scopeClaims: [...DEFAULT_SCOPE_CLAIMS, 'https://acme.example/scopes'] });
 * ```
 */
export const DEFAULT_SCOPE_CLAIMS: readonly ClaimPath[] = ['scope', 'scp', 'permissions'];

/**
 * Role claims read by default: `roles` (array), Keycloak's `realm_access.roles` and Cognito's
 * `cognito:groups`. The default of the `roleClaims` option. Keycloak client roles need the client id:
 * add `['resource_access', '<client>', 'roles']`.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, DEFAULT_ROLE_CLAIMS } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['RS256'],
 *   roleClaims: [...DEFAULT_ROLE_CLAIMS, ['resource_access', 'orders-api', 'roles']],
 * });
 * ```
 */
export const DEFAULT_ROLE_CLAIMS: readonly ClaimPath[] = ['roles', ['realm_access', 'roles'], 'cognito:groups'];

const WHITESPACE = /[\t\n\r ]+/;

/**
 * The value at a path, stepping through own properties of plain objects only (never a prototype), so a
 * payload key `__proto__` or a missing `constructor` claim can never stand in for a real claim.
 *
 * @example
 * ```ts
 * claimAt({ realm_access: { roles: ['admin'] } }, ['realm_access', 'roles']); // ['admin']
 * claimAt({}, 'constructor'); // undefined
 * ```
 */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: ClaimPath): unknown {
  if (typeof path === 'string') return Object.hasOwn(claims, path) ? claims[path] : undefined;
  let value: unknown = claims;
  for (const step of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, step)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/**
 * Collects the strings found at the given paths: a string is split on whitespace (so tabs and doubled
 * spaces do not create empty or merged entries), an array contributes its string elements as they are.
 * Everything else (numbers, objects, missing halves of a path) contributes nothing. Matching later is
 * exact, so `read` never matches `readonly`.
 */
export function collectClaimValues(claims: Readonly<Record<string, unknown>>, paths: readonly ClaimPath[]): readonly string[] {
  const found = new Set<string>();
  for (const path of paths) {
    const value = claimAt(claims, path);
    if (typeof value === 'string') {
      for (const part of value.split(WHITESPACE)) if (part !== '') found.add(part);
    } else if (Array.isArray(value)) {
      for (const entry of value) if (typeof entry === 'string' && entry !== '') found.add(entry);
    }
  }
  return Object.freeze([...found]);
}

// Names that resolve to Object.prototype members on any object: a policy naming them would be testing
// the prototype (or a payload key crafted to shadow it), never a claim an identity provider issues.
const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Validates one claim name or path at construction; throws naming the option.
 *
 * @example
 * ```ts
 * checkClaimPath(['resource_access', 'orders-api', 'roles'], 'roleClaims[3]');
 * ```
 */
export function checkClaimPath(path: unknown, option: string): ClaimPath {
  const steps = typeof path === 'string' ? [path] : Array.isArray(path) && path.length > 0 ? (path as unknown[]) : [];
  if (steps.length === 0 || !steps.every((step) => typeof step === 'string' && step !== '')) {
    throw new AuthConfigError(option, 'expected a claim name or a non-empty array of property names');
  }
  const unsafe = steps.find((step) => PROTOTYPE_NAMES.has(step as string));
  if (unsafe !== undefined) throw new AuthConfigError(option, `${JSON.stringify(unsafe)} is a prototype member name, never a claim to trust`);
  return path as ClaimPath;
}

/** Validates a `scopeClaims` / `roleClaims` option at construction. */
export function checkClaimPaths(paths: unknown, option: string): readonly ClaimPath[] {
  if (!Array.isArray(paths) || paths.length === 0) throw new AuthConfigError(option, 'expected a non-empty array of claim names or paths');
  paths.forEach((path: unknown, index) => checkClaimPath(path, `${option}[${index}]`));
  return paths as ClaimPath[];
}
