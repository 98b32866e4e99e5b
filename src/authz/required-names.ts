import { AuthConfigError } from '../errors/config-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import { isScopeToken } from '../errors/auth-error.ts';

/**
 * Validates a list of required scopes or roles at construction (guards in code and rules read from a
 * `.proto` file alike); throws naming the option. Returns the list without duplicates.
 *
 * An empty list would build a guard that requires nothing and allows everyone; a scope with a space
 * could never match (scopes are split on spaces) and a quote would break out of the `scope="..."` of
 * the `www-authenticate` trailer.
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
