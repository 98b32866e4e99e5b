import { AuthConfigError } from '../errors/config-error.ts';
import { optionalBoolean } from '../util/option-checks.ts';
import { listServiceMethods, type ServiceMethod, type ServiceSource } from './service-methods.ts';
import type { RuleTable } from './rules.ts';

const ruleOption = (pattern: string): string => `rules[${JSON.stringify(pattern)}]`;
const serviceOf = (path: string): string => path.slice(1, path.lastIndexOf('/'));
const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/**
 * Checks the interceptor's compiled rules against the methods the server offers (its `services`
 * option). A pattern naming a method or service that does not exist would silently match nothing and
 * leave the real method on the default rule, which is how a typo opens or closes an API by accident.
 * With `strictRules`, a method no pattern covers throws too, so none is left to `defaultRule`.
 *
 * @example
 * ```ts
 * import { compileRules } from './rules.ts';
 * const services = { GetOrder: { path: '/acme.orders.v1.Orders/GetOrder' } };
 * checkRulesAgainstServices(compileRules({ '/acme.orders.v1.Orders/GetOrder': 'authenticated' }, 'deny'), services, true); // passes
 * checkRulesAgainstServices(compileRules({ '/acme.orders.v1.Orders/GetOrdr': 'authenticated' }, 'deny'), services, undefined); // throws: no method GetOrdr
 * ```
 */
export function checkRulesAgainstServices(table: RuleTable, services: unknown, strictRules: unknown): void {
  const strict = optionalBoolean(strictRules, 'strictRules') ?? false;
  if (services === undefined) {
    if (strict) throw new AuthConfigError('strictRules', 'needs the `services` option, to know which methods exist');
    return;
  }
  const methods = listServiceMethods(services as ServiceSource, 'services');
  const byService = new Map<string, string[]>();
  for (const method of methods) byService.set(method.service, [...(byService.get(method.service) ?? []), nameOf(method.path)]);
  const knownServices = [...byService.keys()].join(', ');
  const requireService = (service: string, pattern: string): readonly string[] => {
    const names = byService.get(service);
    if (!names)
      throw new AuthConfigError(ruleOption(pattern), `no service ${service} among the known services (${knownServices}); list every service the server offers`);
    return names;
  };
  for (const pattern of table.exact.keys()) {
    const names = requireService(serviceOf(pattern), pattern);
    const name = nameOf(pattern);
    if (names.includes(name)) continue;
    const sameIgnoringCase = names.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    const hint = sameIgnoringCase ? `did you mean ${sameIgnoringCase}? Method names are case-sensitive` : `its methods are ${names.join(', ')}`;
    throw new AuthConfigError(ruleOption(pattern), `no method ${name} in service ${serviceOf(pattern)}; ${hint}`);
  }
  for (const service of table.services.keys()) requireService(service.slice(1), `${service}/*`);
  if (!strict) return;
  const uncovered = methods.filter((method: ServiceMethod) => !table.covers(method.path)).map((method) => method.path);
  if (uncovered.length > 0) {
    throw new AuthConfigError('strictRules', `no rule covers ${uncovered.join(', ')}; give each an exact or service-wide ('/package.Service/*') rule`);
  }
}
