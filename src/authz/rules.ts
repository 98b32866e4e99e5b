import { AuthConfigError } from '../errors/config-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import { isRecord } from '../util/option-checks.ts';
import type { Guard } from './guards.ts';

/**
 * What a method requires:
 * - `'public'`: no token needed, none read;
 * - `'optional'`: a token, if sent, must be valid (claims attached); none is fine;
 * - `'authenticated'`: a valid token;
 * - `'deny'`: nobody, PERMISSION_DENIED;
 * - a {@link Guard}: a valid token that the guard allows. A guard of any claims type fits: its claims
 *   type is your statement about your tokens, as with `getAuth<C>()`.
 *
 * @example
 * ```ts
 * import { requireClaim, requireScopes, type Rule } from 'grpc-jwt-auth';
 * interface OrdersClaims { readonly tenant: string }
 * const health: Rule = 'public';
 * const getOrder: Rule = requireScopes('orders:read');
 * const acmeOnly: Rule = requireClaim<OrdersClaims>('org', (value, auth) => value === auth.claims.tenant);
 * ```
 */
// `any`: the interceptor cannot know which claims a guard was written for (`Guard<never>` would refuse
// inline guards that read a claim), and `Guard` of the default claims would refuse a `Guard<OrdersClaims>`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Rule = 'public' | 'optional' | 'authenticated' | 'deny' | Guard<any>;

/**
 * Rules by method pattern: a full method path `'/pkg.Service/Method'`, or a whole service
 * `'/pkg.Service/*'`. The exact path wins over the service; a method no pattern matches gets
 * `defaultRule`. A malformed pattern throws at construction.
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
  throw new AuthConfigError(option, `expected 'public', 'optional', 'authenticated', 'deny' or a guard function, got ${describeForLog(rule)}`);
}

/**
 * A compiled rule map: the exact method pattern wins, then the service pattern, then the default.
 *
 * @example
 * ```ts
 * import type { RuleTable } from './rules.ts';
 * const table: RuleTable = compileRules({ '/acme.orders.v1.Orders/*': 'authenticated' }, 'deny');
 * table.covers('/acme.orders.v1.Orders/GetOrder'); // true
 * table.ruleFor('/acme.admin.v1.Admin/Purge'); // 'deny': no pattern matches, so the default applies
 * ```
 */
export interface RuleTable {
  /** The rule for a full method path. */
  ruleFor(method: string): Rule;
  /** True when a pattern of the map (exact or service-wide) matches the method, not the default. */
  covers(method: string): boolean;
  /** The exact method patterns (`/package.Service/Method`) and their rules, for typo checks against service definitions. */
  readonly exact: ReadonlyMap<string, Rule>;
  /** The service-wide patterns and their rules, keyed by `/package.Service` (the pattern without its `/*`). */
  readonly services: ReadonlyMap<string, Rule>;
}

/**
 * Compiles and checks the `rules` and `defaultRule` options at construction. Exact paths are found
 * with one Map lookup.
 *
 * @example
 * ```ts
 * const table = compileRules({ '/grpc.health.v1.Health/*': 'public' }, 'authenticated');
 * table.ruleFor('/grpc.health.v1.Health/Check'); // 'public'
 * compileRules({ '*': 'deny' }, undefined); // throws AuthConfigError('rules["*"]', ...): that is defaultRule's job
 * ```
 */
export function compileRules(rules: RuleMap | undefined, defaultRule: Rule | undefined): RuleTable {
  if (rules !== undefined && !isRecord(rules)) throw new AuthConfigError('rules', 'expected an object mapping method patterns to rules');
  const fallback = defaultRule === undefined ? 'authenticated' : checkRule(defaultRule, 'defaultRule');
  const exact = new Map<string, Rule>();
  const services = new Map<string, Rule>();
  for (const pattern of Object.keys(rules ?? {})) {
    const option = `rules[${JSON.stringify(pattern)}]`;
    // One way to give the fallback: a catch-all pattern beside defaultRule would be two rules for one idea.
    if (pattern === '*') throw new AuthConfigError(option, "'*' is not a pattern: give the rule for every other method as defaultRule");
    const rule = checkRule((rules as Record<string, unknown>)[pattern], option);
    const match = PATTERN.exec(pattern);
    if (!match) throw new AuthConfigError(option, "pattern must be '/package.Service/Method' or '/package.Service/*'");
    if (match[2] === '*') services.set(`/${match[1]}`, rule);
    else exact.set(pattern, rule);
  }
  const matching = (method: string): Rule | undefined => exact.get(method) ?? services.get(method.slice(0, method.lastIndexOf('/')));
  return {
    exact,
    services,
    ruleFor: (method) => matching(method) ?? fallback,
    covers: (method) => matching(method) !== undefined,
  };
}
