import { AuthConfigError } from '../errors/config-error.ts';
import { checkOptionNames } from '../util/option-checks.ts';
import { listServiceMethods, type ServiceMethod, type ServiceSource } from './service-methods.ts';
import { compileRules, type RuleMap, type RuleTable } from './rules.ts';

/**
 * Options of {@link checkRules}.
 *
 * @example
 * ```ts
 * import { test } from 'node:test';
 * import { checkRules, type CheckRulesOptions } from 'grpc-jwt-auth';
 * const options: CheckRulesOptions = { strict: true };
 * test('every method of orders.proto has a rule', () => checkRules(rules, packageDefinition, options));
 * ```
 */
export interface CheckRulesOptions {
  /** Also require every method to be matched by a pattern, so none is left to the default rule. Default false. */
  readonly strict?: boolean;
}

const CHECK_RULES_OPTION_NAMES: ReadonlySet<string> = new Set(['strict']);

const ruleOption = (pattern: string): string => `rules[${JSON.stringify(pattern)}]`;
const serviceOf = (path: string): string => path.slice(1, path.lastIndexOf('/'));
const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/**
 * Checks a compiled rule table against the methods a server offers. A pattern naming a method or
 * service that does not exist would silently match nothing and leave the real method on the default
 * rule, which is how a typo opens or closes an API by accident.
 *
 * @example
 * ```ts
 * checkRuleTable(compileRules(rules, 'deny'), listServiceMethods(services, 'services'), true, 'strictRules');
 * ```
 */
function checkRuleTable(table: RuleTable, methods: readonly ServiceMethod[], strict: boolean, strictOption: string): void {
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
  const uncovered = methods.filter((method) => !table.covers(method.path)).map((method) => method.path);
  if (uncovered.length > 0) {
    throw new AuthConfigError(strictOption, `no rule covers ${uncovered.join(', ')}; give each an exact or service-wide ('/package.Service/*') rule`);
  }
}

/**
 * Checks a rule map against the services a server offers and throws an {@link AuthConfigError} for a
 * malformed pattern, or one naming a service or method that does not exist; with `strict`, also for a
 * method no pattern covers. Takes the service definitions given to `server.addService`, grpc-js client
 * constructors, a proto-loader package definition or a protobufjs root. The interceptor runs the same
 * check when given its `services` option.
 *
 * @example
 * ```ts
 * import * as protoLoader from '@grpc/proto-loader';
 * import { checkRules } from 'grpc-jwt-auth';
 * const packageDefinition = protoLoader.loadSync('orders.proto');
 * checkRules(rules, packageDefinition, { strict: true }); // throws: rules["/acme.orders.v1.Orders/GetOrdr"]: no method GetOrdr ...
 * ```
 */
export function checkRules(rules: RuleMap, services: ServiceSource | readonly ServiceSource[], options: CheckRulesOptions = {}): void {
  // A misspelt `strict` would let a CI check pass without the strict check it was written for.
  checkOptionNames(options as unknown, CHECK_RULES_OPTION_NAMES);
  if (options.strict !== undefined && typeof options.strict !== 'boolean') throw new AuthConfigError('strict', 'expected a boolean');
  checkRuleTable(compileRules(rules, undefined), listServiceMethods(services, 'services'), options.strict === true, 'strict');
}

/**
 * The interceptor's `services` and `strictRules` options, checked against its compiled rules.
 *
 * @example
 * ```ts
 * checkServicesOption(compileRules(options.rules, options.defaultRule), options.services, options.strictRules);
 * ```
 */
export function checkServicesOption(table: RuleTable, services: unknown, strictRules: unknown): void {
  if (strictRules !== undefined && typeof strictRules !== 'boolean') throw new AuthConfigError('strictRules', 'expected a boolean');
  if (services === undefined) {
    if (strictRules === true) throw new AuthConfigError('strictRules', 'needs the `services` option, to know which methods exist');
    return;
  }
  checkRuleTable(table, listServiceMethods(services as ServiceSource, 'services'), strictRules === true, 'strictRules');
}
