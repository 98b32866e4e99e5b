import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthConfigError } from '../errors/config-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import { allOf, requireAnyRole, requireAnyScope, requireRoles, requireScopes, type Guard } from './guards.ts';
import { checkNames } from './required-names.ts';
import { checkAcrValues, requireAcr, requireAuthTime } from './step-up-guards.ts';
import { checkBoundTokenKind, requireBoundToken } from './bound-token-guard.ts';
import { MAX_STEP_UP_MAX_AGE } from '../errors/step-up.ts';
import { optionalInteger } from '../util/option-checks.ts';
import { customOptionName, isOwnOption, listServiceMethodsBySource, type ServiceMethod, type ServiceSource } from './service-methods.ts';
import type { Rule, RuleMap } from './rules.ts';

/**
 * The directory holding `grpc_jwt_auth/v1/auth.proto`: add it to proto-loader's `includeDirs` (or
 * protoc's `-I`) so your files can `import "grpc_jwt_auth/v1/auth.proto";`.
 *
 * @example
 * ```ts
 * import * as protoLoader from '@grpc/proto-loader';
 * import { PROTO_INCLUDE_DIR } from 'grpc-jwt-auth';
 * const packageDefinition = protoLoader.loadSync('orders.proto', { includeDirs: [PROTO_INCLUDE_DIR, 'protos'] });
 * ```
 */
export const PROTO_INCLUDE_DIR: string = protoIncludeDir();

/**
 * proto/ beside the package's package.json, found through the package's own name (its exports map lists
 * `./package.json`): the build bundles this module into whichever file of dist/ imports it, at another
 * depth than src/authz/, so a path relative to this file would leave the package. Where the name does
 * not resolve (a runtime or loader without self-reference, the code bundled into an application), the
 * one of this file's possible places that holds our .proto: one level up from dist/index.js, two from
 * src/authz/ and dist/chunks/ (a fixed `../../proto` from dist/index.js named node_modules/proto).
 */
function protoIncludeDir(): string {
  try {
    return fileURLToPath(new URL('proto', import.meta.resolve('grpc-jwt-auth/package.json')));
  } catch {
    const nearer = fileURLToPath(new URL('../proto', import.meta.url));
    return existsSync(join(nearer, 'grpc_jwt_auth', 'v1', 'auth.proto')) ? nearer : fileURLToPath(new URL('../../proto', import.meta.url));
  }
}

/** The method option this library reads, as proto-loader and protobufjs key it. */
const RULE_OPTION = '(grpc_jwt_auth.v1.rule)';

const FLAGS = ['public', 'optional', 'authenticated', 'deny'] as const;
const LISTS = {
  scopes: { guard: requireScopes, kind: 'scope' },
  any_scopes: { guard: requireAnyScope, kind: 'scope' },
  roles: { guard: requireRoles, kind: 'role' },
  any_roles: { guard: requireAnyRole, kind: 'role' },
} as const;
/** Step-up fields (RFC 9470): combined with the lists by allOf. */
const STEP_UP_FIELDS = ['acr_values', 'max_age'] as const;
/** Sender binding (RFC 9449 / RFC 8705): `bound_token` becomes requireBoundToken, judged before the other fields. */
const BOUND_TOKEN_FIELD = 'bound_token';
const FIELD_NAMES = [...FLAGS, ...Object.keys(LISTS), ...STEP_UP_FIELDS, BOUND_TOKEN_FIELD].join(', ');

type Flag = (typeof FLAGS)[number];
type ListField = keyof typeof LISTS;

const isFlag = (field: string): field is Flag => (FLAGS as readonly string[]).includes(field);
const isListField = (field: string): field is ListField => Object.hasOwn(LISTS, field);
const isStepUpField = (field: string): boolean => (STEP_UP_FIELDS as readonly string[]).includes(field);
const isGuardField = (field: string): boolean => isListField(field) || isStepUpField(field) || field === BOUND_TOKEN_FIELD;

/** The guard of one step-up field: `acr_values` a list of acr values, `max_age` whole seconds (0, unset in proto3, is refused when written). */
function stepUpGuard(field: string, value: unknown, option: string): Guard {
  if (field === 'acr_values') return requireAcr(...checkAcrValues(Array.isArray(value) ? value : [value], option));
  // protobufjs keeps options as written: `max_age: 0`, `"300"` or a field given twice arrive as they are.
  return requireAuthTime({ maxAge: optionalInteger(value, option, 1, MAX_STEP_UP_MAX_AGE) as number });
}

/** Reads one `(grpc_jwt_auth.v1.rule)` value; throws naming the method and field on anything unexpected. */
function parseRule(value: unknown, option: string): Rule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthConfigError(option, `expected a message such as { scopes: ["orders:read"] }, got ${describeForLog(value)}`);
  }
  const flags: Flag[] = [];
  // A bearer token on a method that needs a bound one is refused as such (UNAUTHENTICATED) before its
  // scopes are judged, as the issuer-level `dpopBinding`/`certificateBinding: 'required'` refuse it
  // before any guard: the caller needs another kind of token, whatever its rights.
  const bindingGuards: Guard[] = [];
  const guards: Guard[] = [];
  // Judged after the lists, whatever order the fields are written in (loaders and descriptors need not
  // keep it): a caller without the scope gets PERMISSION_DENIED rather than a login that cannot help,
  // and allOf then answers acr_values and max_age as one challenge.
  const stepUpGuards: Guard[] = [];
  for (const [field, fieldValue] of Object.entries(value)) {
    const fieldOption = `${option}.${field}`;
    if (isFlag(field)) {
      // protobufjs turns a field written twice in one message into a list (protoc refuses it).
      if (Array.isArray(fieldValue)) throw new AuthConfigError(fieldOption, `set more than once; give each field of a rule once`);
      // protobufjs does not type-check options: `public: 1` or `public: "true"` arrive as they are written.
      if (typeof fieldValue !== 'boolean') throw new AuthConfigError(fieldOption, `expected true or false, got ${describeForLog(fieldValue)}`);
      if (fieldValue) flags.push(field);
    } else if (isListField(field)) {
      // One `scopes: "a"` arrives as a string, a list or repeated field as an array.
      const list: readonly unknown[] = Array.isArray(fieldValue) ? fieldValue : [fieldValue];
      const { guard, kind } = LISTS[field];
      guards.push(guard(...checkNames(list, fieldOption, kind)));
    } else if (isStepUpField(field)) {
      stepUpGuards.push(stepUpGuard(field, fieldValue, fieldOption));
    } else if (field === BOUND_TOKEN_FIELD) {
      // protobufjs keeps options as written: `bound_token: ""`, `"DPoP"` or a field given twice (a list) are refused here.
      bindingGuards.push(requireBoundToken(checkBoundTokenKind(fieldValue, fieldOption)));
    } else {
      throw new AuthConfigError(fieldOption, `unknown field of grpc_jwt_auth.v1.Rule; its fields are ${FIELD_NAMES}`);
    }
  }
  guards.unshift(...bindingGuards);
  guards.push(...stepUpGuards);
  if (flags.length + guards.length === 0) throw new AuthConfigError(option, `sets nothing; set one of ${FIELD_NAMES}`);
  if (flags.length > 1 || (flags.length === 1 && guards.length > 0)) {
    const given = [...flags, ...Object.keys(value).filter(isGuardField)].join(' and ');
    throw new AuthConfigError(option, `sets ${given}: public, optional, authenticated and deny each stand alone`);
  }
  return flags[0] ?? (guards.length === 1 ? (guards[0] as Guard) : allOf(...guards));
}

/**
 * Reads per-method rules declared in `.proto` files with the `(grpc_jwt_auth.v1.rule)` method option
 * (see `proto/grpc_jwt_auth/v1/auth.proto`) and returns them as a rule map keyed by full method path.
 * Takes a protobufjs root, a proto-loader package definition, service definitions or client
 * constructors. Methods without the option are left out, so `defaultRule` and code rules apply to them.
 * Unknown fields, misspelt option names, conflicting fields, a rule given twice on one method, rules
 * on a service, and one method that two sources describe with different rules (or one with a rule and
 * one without) throw an {@link AuthConfigError} naming the method.
 *
 * **Load the policy from a protobufjs root, not a proto-loader package definition.** Given two rule
 * options on one method (`{ roles: "admin" }`, then `{ public: true }`), proto-loader keeps only the
 * last and leaves no trace of the first, so from its package definition the admin-only method turns
 * public and nothing here can notice. A protobufjs root keeps every `option (grpc_jwt_auth.v1.rule) = {…}`
 * statement, so the duplicate is refused. Neither keeps a field written twice inside one message
 * (`{ public: false, public: true }`), and protobufjs merges field statements the same way
 * (`option (grpc_jwt_auth.v1.rule).public = false;` then `… = true;`): protoc refuses both, so compile
 * policy files with protoc or `buf build` in CI to catch them. Service options, too, are only kept by
 * a root.
 *
 * Code rules override the file's for the same pattern: spread them after it. The file's rules are exact
 * method paths, so a service-wide code rule (`'/pkg.Service/*'`) only covers methods the file left out.
 *
 * @example
 * ```ts
 * import { existsSync } from 'node:fs';
 * import { createRequire } from 'node:module';
 * import { join } from 'node:path';
 * import protobuf from 'protobufjs';
 * import { PROTO_INCLUDE_DIR, createAuthInterceptor, rulesFromProto } from 'grpc-jwt-auth';
 *
 * // Where imports are found: our auth.proto, the descriptor.proto it imports (shipped with protobufjs), yours.
 * const protobufjsDir = join(createRequire(import.meta.url).resolve('protobufjs/google/protobuf/descriptor.proto'), '../../..');
 * const includeDirs = [PROTO_INCLUDE_DIR, protobufjsDir, 'protos'];
 * const root = new protobuf.Root();
 * root.resolvePath = (origin, target) => includeDirs.map((dir) => join(dir, target)).find(existsSync) ?? protobuf.util.path.resolve(origin, target);
 * root.loadSync('protos/orders.proto');
 *
 * const auth = createAuthInterceptor({
 *   keys, algorithms: ['ES256'],
 *   rules: { ...rulesFromProto(root), '/acme.orders.v1.Orders/Export': 'deny' },
 *   services: root,
 *   strictRules: true,
 * });
 * ```
 */
export function rulesFromProto(source: ServiceSource | readonly ServiceSource[]): RuleMap {
  const rules: Record<string, Rule> = {};
  // What each method's first source said, so that a second source saying otherwise is refused, not
  // obeyed in silence: listed last, it would swap the rule, or drop it and leave the method on the default.
  const described = new Map<string, { readonly source: string; readonly policy: string }>();
  for (const { source: from, methods } of listServiceMethodsBySource(source, 'rulesFromProto(source)')) {
    for (const method of methods) {
      const policy = ownOptionsOf(method.options);
      const earlier = described.get(method.path);
      if (earlier !== undefined) {
        if (earlier.policy !== policy) {
          throw new AuthConfigError(
            `${method.path} ${RULE_OPTION}`,
            `described differently by ${earlier.source} (${earlier.policy}) and ${from} (${policy}): give each method's rule in one source, or sources that agree`,
          );
        }
        continue;
      }
      described.set(method.path, { source: from, policy });
      readMethod(method, rules);
    }
  }
  return Object.freeze(rules);
}

/** The method's own options, as one comparable text: names without the leading dot, keys sorted. */
function ownOptionsOf(options: Readonly<Record<string, unknown>>): string {
  const own = Object.entries(options)
    .filter(([key]) => isOwnOption(key))
    .map(([key, value]): [string, unknown] => [customOptionName(key), value]);
  if (own.length === 0) return 'no rule';
  const sorted = (_: string, value: unknown): unknown =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value;
  return JSON.stringify(Object.fromEntries(own.sort(([a], [b]) => (a < b ? -1 : 1))), sorted);
}

/**
 * Reads one method's rule into `rules`. Refuses our options on its service or its file (package), where
 * protoc refuses them and protobufjs keeps them without effect: the methods would stay on the default
 * rule while the file seems to say otherwise. Refuses our options it does not know.
 */
function readMethod(method: ServiceMethod, rules: Record<string, Rule>): void {
  for (const key of Object.keys(method.serviceOptions ?? {})) {
    if (isOwnOption(key)) {
      throw new AuthConfigError(
        `${method.service} ${key}`,
        `rules are read from method options only (proto-loader drops service options); use a service-wide rule '/${method.service}/*' in code`,
      );
    }
  }
  const { name: packageName, options: packageOptions } = method.packageOptions ?? { name: '', options: {} };
  for (const key of Object.keys(packageOptions)) {
    if (isOwnOption(key)) {
      throw new AuthConfigError(
        `${packageName} ${key}`,
        `rules are read from method options only, not from file-level options; use a rule '/${packageName}.Service/*' per service in code`,
      );
    }
  }
  for (const [key, value] of Object.entries(method.options)) {
    if (!isOwnOption(key)) continue;
    const option = `${method.path} ${key}`;
    if (customOptionName(key) !== RULE_OPTION) throw new AuthConfigError(option, `unknown option; the method option of grpc-jwt-auth is ${RULE_OPTION}`);
    // `(.grpc_jwt_auth.v1.rule)` and `(grpc_jwt_auth.v1.rule)` are one option under two keys: proto-loader
    // keeps both, and reading them in turn would let the last one silently replace the other.
    if (Object.hasOwn(rules, method.path)) {
      throw new AuthConfigError(`${method.path} ${RULE_OPTION}`, `set twice, once as ${key}: give the rule once, as one message`);
    }
    rules[method.path] = parseRule(value, option);
  }
}
