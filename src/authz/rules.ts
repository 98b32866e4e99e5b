import { AuthConfigError } from '../errors/config-error.ts';
import type { Guard } from './guards.ts';

/**
 * What a method requires:
 * - `'public'`: no token needed, none read;
 * - `'optional'`: a token, if sent, must be valid (claims attached); none is fine;
 * - `'authenticated'`: a valid token;
 * - `'deny'`: nobody, PERMISSION_DENIED;
 * - a {@link Guard}: a valid token that the guard allows.
 *
 * @example
 * ```ts
 * import { requireScopes, type Rule } from 'grpc-jwt-auth';
 * const health: Rule = 'public';
 * const getOrder: Rule = requireScopes('orders:read');
 * ```
 */
export type Rule = 'public' | 'optional' | 'authenticated' | 'deny' | Guard;

/**
 * Rules by method pattern: `'/pkg.Service/Method'`, `'/pkg.Service/*'` or `'*'`. The most specific
 * pattern matching a method wins; a malformed pattern throws at construction.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, requireRoles, type RuleMap } from 'grpc-jwt-auth';
 * const rules: RuleMap = {
 *   '/grpc.health.v1.Health/*': 'public',
 *   '/acme.orders.v1.Orders/*': 'authenticated',
 *   '/acme.orders.v1.Orders/DeleteOrder': requireRoles('admin'),
 * };
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], rules, defaultRule: 'deny' });
 * ```
 */
export type RuleMap = Readonly<Record<string, Rule>>;

const NAMED_RULES = new Set(['public', 'optional', 'authenticated', 'deny']);
// A fully-qualified service name, then a method name or `*`. Anything else is a typo that would
// otherwise silently match nothing and leave the method on the default rule.
const PATTERN = /^\/([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\/([A-Za-z_][A-Za-z0-9_]*|\*)$/;

/** Validates one rule value; throws naming the option. */
function checkRule(rule: unknown, option: string): Rule {
  if (typeof rule === 'function' || (typeof rule === 'string' && NAMED_RULES.has(rule))) return rule as Rule;
  throw new AuthConfigError(option, `expected 'public', 'optional', 'authenticated', 'deny' or a guard function, got ${JSON.stringify(rule) ?? typeof rule}`);
}

/**
 * A compiled rule map: the most specific pattern wins (exact method, then service, then `*`, then the
 * default).
 *
 * @example
 * ```ts
 * import { compileRules, type RuleTable } from 'grpc-jwt-auth';
 * const table: RuleTable = compileRules({ '/acme.orders.v1.Orders/*': 'authenticated' }, 'deny');
 * table.covers('/acme.orders.v1.Orders/GetOrder'); // true
 * table.ruleFor('/acme.admin.v1.Admin/Purge'); // 'deny': no pattern matches, so the default applies
 * ```
 */
export interface RuleTable {
  /** The rule for a full method path. */
  ruleFor(method: string): Rule;
  /** True when a pattern of the map (exact, service-wide or `'*'`) matches the method, not the default. */
  covers(method: string): boolean;
  /** The exact method patterns (`/package.Service/Method`) and their rules, for typo checks against service definitions. */
  readonly exact: ReadonlyMap<string, Rule>;
  /** The service-wide patterns and their rules, keyed by `/package.Service` (the pattern without its `/*`). */
  readonly services: ReadonlyMap<string, Rule>;
}

/**
 * Compiles and checks a rule map at construction. Exact paths are found with one Map lookup.
 *
 * @example
 * ```ts
 * import { compileRules } from 'grpc-jwt-auth';
 * const table = compileRules({ '/grpc.health.v1.Health/*': 'public' }, 'authenticated');
 * table.ruleFor('/grpc.health.v1.Health/Check'); // 'public'
 * ```
 */
export function compileRules(rules: RuleMap | undefined, defaultRule: Rule | undefined): RuleTable {
  if (rules !== undefined && (typeof rules !== 'object' || rules === null || Array.isArray(rules))) {
    throw new AuthConfigError('rules', 'expected an object mapping method patterns to rules');
  }
  const fallbackRule = defaultRule === undefined ? 'authenticated' : checkRule(defaultRule, 'defaultRule');
  const exact = new Map<string, Rule>();
  const services = new Map<string, Rule>();
  let everything: Rule | undefined;
  for (const pattern of Object.keys(rules ?? {})) {
    const option = `rules[${JSON.stringify(pattern)}]`;
    const rule = checkRule((rules as Record<string, unknown>)[pattern], option);
    if (pattern === '*') {
      if (defaultRule !== undefined) throw new AuthConfigError(option, "give either rules['*'] or defaultRule, not both");
      everything = rule;
      continue;
    }
    const match = PATTERN.exec(pattern);
    if (!match) throw new AuthConfigError(option, "pattern must be '/package.Service/Method', '/package.Service/*' or '*'");
    if (match[2] === '*') services.set(`/${match[1]}`, rule);
    else exact.set(pattern, rule);
  }
  const fallback = everything ?? fallbackRule;
  const matching = (method: string): Rule | undefined => exact.get(method) ?? services.get(method.slice(0, method.lastIndexOf('/'))) ?? everything;
  return {
    exact,
    services,
    ruleFor: (method) => matching(method) ?? fallback,
    covers: (method) => matching(method) !== undefined,
  };
}
