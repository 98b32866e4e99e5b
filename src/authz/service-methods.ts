import { AuthConfigError } from '../errors/config-error.ts';
import { describeForLog } from '../errors/log-text.ts';

/** A method as grpc-js service definitions and proto-loader package definitions describe it; only `path` and `options` are read. */
interface MethodDefinitionLike {
  /** The full method path, `/package.Service/Method`. */
  readonly path: string;
  /** The method options; proto-loader 0.8 keeps them, custom ones keyed as written, `(package.option)`. */
  readonly options?: unknown;
}

/** A grpc-js `ServiceDefinition`: method definitions by method name, as given to `server.addService`. */
type ServiceDefinitionLike = { readonly [method: string]: MethodDefinitionLike };

/** A protobufjs `Root` or `Namespace` (reflection): its nested services, types and namespaces. */
interface ProtobufNamespaceLike {
  readonly nestedArray: readonly unknown[];
}

/** A client constructor from grpc-js `loadPackageDefinition`, which carries its `service` definition. */
interface ServiceClientLike {
  readonly service: ServiceDefinitionLike;
}

/**
 * Anything that lists the methods a server offers, alone or in an array: what the `services` option of
 * {@link createAuthInterceptor} and {@link rulesFromProto} take.
 *
 * - a grpc-js service definition, as given to `server.addService` (`proto.acme.orders.v1.Orders.service`);
 * - a grpc-js client constructor from `loadPackageDefinition` (`proto.acme.orders.v1.Orders`);
 * - a proto-loader package definition (`protoLoader.loadSync('orders.proto')`);
 * - a protobufjs `Root` or `Namespace` (`protobuf.loadSync('orders.proto')`), which, unlike
 *   proto-loader, also keeps service options.
 *
 * Anything else, or a source that lists no method, throws an {@link AuthConfigError} naming the option.
 *
 * @example
 * ```ts
 * import * as protoLoader from '@grpc/proto-loader';
 * import { createAuthInterceptor, type ServiceSource } from 'grpc-jwt-auth';
 * const services: ServiceSource[] = [protoLoader.loadSync('orders.proto'), protoLoader.loadSync('health.proto')];
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['ES256'],
 *   rules: { '/acme.orders.v1.Orders/*': 'authenticated', '/grpc.health.v1.Health/*': 'public' },
 *   services,
 *   strictRules: true,
 * });
 * ```
 */
export type ServiceSource =
  // A service definition (method definitions by name) or a package definition (definitions and types by full name).
  | { readonly [name: string]: object }
  | {
      /** A protobufjs Root or Namespace: its nested services, types and namespaces. */
      readonly nestedArray: readonly unknown[];
    }
  | {
      /** A grpc-js client constructor: the definition of the service its clients call. */
      readonly service: {
        readonly [method: string]: {
          /** The full method path, `/package.Service/Method`. */
          readonly path: string;
        };
      };
    };

/** One method found in a {@link ServiceSource}. */
export interface ServiceMethod {
  /** `/package.Service/Method`. */
  readonly path: string;
  /** `package.Service`. */
  readonly service: string;
  /** The method options, custom ones keyed as written: `(grpc_jwt_auth.v1.rule)`. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The service options; known only from protobufjs reflection (proto-loader drops them). */
  readonly serviceOptions: Readonly<Record<string, unknown>> | undefined;
  /** The file-level options of the service's package, e.g. `acme.orders.v1`; only from protobufjs reflection. */
  readonly packageOptions: { readonly name: string; readonly options: Readonly<Record<string, unknown>> } | undefined;
}

const METHOD_PATH = /^\/([^/]+)\/[^/]+$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

function isMethodDefinition(value: unknown): value is MethodDefinitionLike {
  return isObject(value) && typeof value.path === 'string' && METHOD_PATH.test(value.path);
}

function isServiceDefinition(value: unknown): value is ServiceDefinitionLike {
  if (!isObject(value)) return false;
  const methods = Object.values(value);
  return methods.length > 0 && methods.every(isMethodDefinition);
}

function fromDefinition(definition: ServiceDefinitionLike): ServiceMethod[] {
  return Object.values(definition).map((method) => ({
    path: method.path,
    service: (METHOD_PATH.exec(method.path) as RegExpExecArray)[1] as string,
    options: isObject(method.options) ? method.options : {},
    serviceOptions: undefined,
    packageOptions: undefined,
  }));
}

/**
 * A custom option's name without the optional leading dot: `(.pkg.opt)` and `(pkg.opt)` name the same
 * option, and both spellings are legal.
 *
 * @example
 * ```ts
 * customOptionName('(.grpc_jwt_auth.v1.rule)'); // '(grpc_jwt_auth.v1.rule)'
 * ```
 */
export function customOptionName(key: string): string {
  return key.startsWith('(.') ? `(${key.slice(2)}` : key;
}

/**
 * True for an option of this library's package, `(grpc_jwt_auth.…)`, in either spelling. Only those are
 * read; a misspelt one (`rules`, `v2`) would otherwise be kept by protobufjs, which does not check
 * custom options, and silently leave the method on the default rule.
 *
 * @example
 * ```ts
 * isOwnOption('(.grpc_jwt_auth.v1.rule)'); // true
 * isOwnOption('(google.api.http)'); // false
 * ```
 */
export function isOwnOption(key: string): boolean {
  return customOptionName(key).startsWith('(grpc_jwt_auth.');
}

/**
 * Merges protobufjs `parsedOptions` (one entry per `option` statement) the way proto-loader does, but
 * refuses one of our own options given by two statements (in either spelling): protoc refuses such a
 * file, and proto-loader silently keeps only the last statement, so `{ roles: "admin" }` followed by
 * `{ public: true }` would turn an admin-only method public. Other packages' options are merged as
 * proto-loader merges them, never refused: a repeated custom option (`google.api.method_signature`)
 * is legally given by several statements, and none of them is read here. `option` names the caller's
 * argument.
 */
function mergeParsedOptions(parsed: unknown, where: string, option: string): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const entry of Array.isArray(parsed) ? parsed : []) {
    if (!isObject(entry)) continue;
    for (const [key, value] of Object.entries(entry)) {
      const name = customOptionName(key);
      if (isOwnOption(key) && seen.has(name)) {
        throw new AuthConfigError(
          `${where} ${name}`,
          `set by more than one option statement (in ${option}). protoc refuses this, and proto-loader keeps only the last ` +
            'statement, silently dropping the others: give the option once, as one message',
        );
      }
      seen.add(name);
      merged[key] = value;
    }
  }
  return merged;
}

function fromNamespace(namespace: ProtobufNamespaceLike, option: string, found: ServiceMethod[]): void {
  // protobufjs puts a file's `option` statements on the namespace of its package.
  const { fullName, parsedOptions } = namespace as { fullName?: unknown; parsedOptions?: unknown };
  const name = typeof fullName === 'string' ? fullName.replace(/^\./, '') : '';
  const packageOptions = name === '' ? undefined : { name, options: mergeParsedOptions(parsedOptions, name, option) };
  for (const nested of namespace.nestedArray) {
    if (!isObject(nested)) continue;
    if (Array.isArray(nested.methodsArray) && typeof nested.fullName === 'string') {
      const service = nested.fullName.replace(/^\./, '');
      const serviceOptions = mergeParsedOptions(nested.parsedOptions, service, option);
      for (const method of nested.methodsArray as unknown[]) {
        if (!isObject(method) || typeof method.name !== 'string') continue;
        const path = `/${service}/${method.name}`;
        found.push({ path, service, options: mergeParsedOptions(method.parsedOptions, path, option), serviceOptions, packageOptions });
      }
    } else if (Array.isArray(nested.nestedArray)) {
      fromNamespace(nested as unknown as ProtobufNamespaceLike, option, found);
    }
  }
}

function fromSource(source: unknown, option: string): ServiceMethod[] {
  if (typeof source === 'function' && isServiceDefinition((source as Partial<ServiceClientLike>).service)) {
    return fromDefinition((source as unknown as ServiceClientLike).service);
  }
  if (!isObject(source))
    throw new AuthConfigError(option, `expected service definitions, a proto-loader package definition or a protobufjs Root, got ${describeForLog(source)}`);
  if (Array.isArray(source.nestedArray)) {
    const found: ServiceMethod[] = [];
    fromNamespace(source as unknown as ProtobufNamespaceLike, option, found);
    return found;
  }
  if (isServiceDefinition(source)) return fromDefinition(source);
  const found: ServiceMethod[] = [];
  for (const [name, entry] of Object.entries(source)) {
    if (isServiceDefinition(entry)) found.push(...fromDefinition(entry));
    // Message and enum types of a package definition carry a `format`; anything else is not a source.
    else if (!isObject(entry) || typeof entry.format !== 'string') {
      throw new AuthConfigError(option, `entry ${JSON.stringify(name)} is neither a service definition nor a type of a proto-loader package definition`);
    }
  }
  return found;
}

/**
 * The methods each source lists, source by source, under the name of the argument that gave it
 * (`option`, or `option[1]` in an array): one method may appear under several sources, each time with
 * the options that source gives it. Throws like {@link listServiceMethods}.
 *
 * @example
 * ```ts
 * const orders = { GetOrder: { path: '/acme.orders.v1.Orders/GetOrder' }, ListOrders: { path: '/acme.orders.v1.Orders/ListOrders' } };
 * const health = { Check: { path: '/grpc.health.v1.Health/Check' } };
 * for (const { source, methods } of listServiceMethodsBySource([orders, health], 'rulesFromProto(source)')) {
 *   console.log(source, methods.length); // 'rulesFromProto(source)[0]' 2, then 'rulesFromProto(source)[1]' 1
 * }
 * ```
 */
export function listServiceMethodsBySource(
  sources: ServiceSource | readonly ServiceSource[],
  option: string,
): ReadonlyArray<{ readonly source: string; readonly methods: readonly ServiceMethod[] }> {
  const list = Array.isArray(sources) ? (sources as readonly unknown[]) : [sources];
  const bySource = list.map((source, index) => {
    const name = Array.isArray(sources) ? `${option}[${index}]` : option;
    return { source: name, methods: fromSource(source, name) };
  });
  if (bySource.every(({ methods }) => methods.length === 0)) throw new AuthConfigError(option, 'lists no service method');
  return bySource;
}

/**
 * Lists the methods of grpc-js service definitions, grpc-js client constructors, proto-loader package
 * definitions or protobufjs roots, each method once (as the last source that lists it describes it).
 * Throws naming `option` on anything else, or when nothing lists a single method (a wrong object would
 * otherwise turn every typo check off).
 *
 * @example
 * ```ts
 * const methods = listServiceMethods({ GetOrder: { path: '/acme.orders.v1.Orders/GetOrder' } }, 'services');
 * methods.map((m) => m.path); // ['/acme.orders.v1.Orders/GetOrder']
 * listServiceMethods({ GetOrder: { path: 'GetOrder' } }, 'services'); // throws AuthConfigError('services', ...)
 * ```
 */
export function listServiceMethods(sources: ServiceSource | readonly ServiceSource[], option: string): readonly ServiceMethod[] {
  const byPath = new Map<string, ServiceMethod>();
  for (const { methods } of listServiceMethodsBySource(sources, option)) for (const method of methods) byPath.set(method.path, method);
  return [...byPath.values()];
}
