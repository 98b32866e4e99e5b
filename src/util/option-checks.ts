/**
 * Option checks shared by every factory: each mistake throws an {@link AuthConfigError} naming the option,
 * at construction, never at the first call.
 */
import { AuthConfigError } from '../errors/config-error.ts';

/**
 * Refuses option names the factory does not know: a misspelt option (`refreshBfore`) would otherwise
 * be ignored silently and the default would apply where the user meant something else. For a nested
 * options object, `path` names it (`cache`, `issuers[1]`), and the error names `cache.maxEntrys`.
 *
 * @example
 * ```ts
 * checkOptionNames({ token: 'x', retry: 2 }, new Set(['token', 'channelSecurity'])); // throws AuthConfigError('retry', 'unknown option')
 * checkOptionNames({ maxEntrys: 5 }, new Set(['maxEntries', 'maxTtl']), 'cache'); // throws AuthConfigError('cache.maxEntrys', 'unknown option')
 * checkOptionNames({ cooldownMs: 30_000 }, new Set(['cooldown'])); // throws: unknown option; it is now `cooldown`, in seconds
 * ```
 */
export function checkOptionNames(options: unknown, known: ReadonlySet<string>, path?: string): asserts options is Record<string, unknown> {
  if (typeof options !== 'object' || options === null) throw new AuthConfigError(path ?? 'options', 'expected an options object');
  for (const name of Object.keys(options)) {
    if (known.has(name)) continue;
    const renamed = Object.hasOwn(RENAMED_OPTIONS, name) ? RENAMED_OPTIONS[name] : undefined;
    const hint = renamed !== undefined && known.has(renamed.name) ? `; it is now \`${renamed.name}\`${renamed.note}` : '';
    throw new AuthConfigError(path === undefined ? name : `${path}.${name}`, `unknown option${hint}`);
  }
}

/**
 * Options renamed in 0.2 (one unit and one name per idea): an old name is still refused, but the error
 * says what to write instead. Only hinted where the factory knows the new name.
 */
const RENAMED_OPTIONS: Readonly<Record<string, { readonly name: string; readonly note: string }>> = {
  timeoutMs: { name: 'timeout', note: ', in seconds' },
  cacheMaxAgeMs: { name: 'cacheMaxAge', note: ', in seconds' },
  minCacheMaxAgeMs: { name: 'minCacheMaxAge', note: ', in seconds' },
  maxCacheMaxAgeMs: { name: 'maxCacheMaxAge', note: ', in seconds' },
  cooldownMs: { name: 'cooldown', note: ', in seconds' },
  staleIfErrorMs: { name: 'staleIfError', note: ', in seconds' },
  allowHttp: { name: 'allowInsecureHttp', note: '' },
  ms: { name: 'duration', note: ', in seconds' },
};

/**
 * The option names of an options interface, as a set for {@link checkOptionNames}. The argument lists
 * every name with `true`, and the compiler checks it against the interface: a name missing from the list
 * (an option added without its check) or one the interface lacks fails the type-check.
 *
 * @example
 * ```ts
 * interface GreeterOptions { readonly name: string; readonly loud?: boolean }
 * const GREETER_OPTIONS = optionNames<GreeterOptions>({ name: true, loud: true });
 * checkOptionNames({ name: 'x', lodu: true }, GREETER_OPTIONS); // throws AuthConfigError('lodu', 'unknown option')
 * ```
 */
export function optionNames<O>(names: { readonly [K in keyof Required<O>]: true }): ReadonlySet<string> {
  return new Set(Object.keys(names));
}

/**
 * A boolean, or undefined when not given. `'false'` or `0` are refused rather than read as truthy or falsy.
 *
 * @example
 * ```ts
 * optionalBoolean(undefined, 'strictRules') ?? false; // false
 * optionalBoolean('false', 'strictRules'); // throws AuthConfigError('strictRules', 'expected true or false')
 * ```
 */
export function optionalBoolean(value: unknown, option: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new AuthConfigError(option, 'expected true or false');
  return value;
}

/**
 * A whole number from `min` to `max`, or undefined when not given.
 *
 * @example
 * ```ts
 * optionalInteger(undefined, 'cache.maxEntries', 1, 10_000_000) ?? 10_000; // 10000
 * optionalInteger(2.5, 'cache.maxEntries', 1, 10_000_000); // throws AuthConfigError('cache.maxEntries', ...)
 * ```
 */
export function optionalInteger(value: unknown, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AuthConfigError(option, `expected a whole number from ${min} to ${max}`);
  }
  return value;
}

/**
 * A duration in seconds from `min` to `max`, or undefined when not given.
 *
 * @example
 * ```ts
 * optionalSeconds(5, 'timeout', 0.001, 600) ?? 10; // 5
 * optionalSeconds(5000, 'timeout', 0.001, 600); // throws: seconds, not milliseconds
 * ```
 */
export function optionalSeconds(value: unknown, option: string, min = 0, max = 365 * 24 * 3600): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new AuthConfigError(option, `expected a number of seconds from ${min} to ${max}`);
  }
  return value;
}

/**
 * A non-empty string, or undefined when not given. The value is never echoed: it may be a secret.
 *
 * @example
 * ```ts
 * optionalString('worker', 'clientId'); // 'worker'
 * optionalString('', 'clientId'); // throws AuthConfigError('clientId', 'expected a non-empty string')
 * ```
 */
export function optionalString(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new AuthConfigError(option, 'expected a non-empty string');
  return value;
}

/**
 * A function, or undefined when not given. `expected` says what the function must do, for the error.
 *
 * @example
 * ```ts
 * const clock = optionalFunction<() => number>(undefined, 'clock') ?? Date.now;
 * optionalFunction(1000, 'clock', 'a function returning milliseconds since the epoch'); // throws AuthConfigError('clock', ...)
 * ```
 */
export function optionalFunction<F>(value: unknown, option: string, expected = 'a function'): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new AuthConfigError(option, `expected ${expected}`);
  return value as F;
}

/**
 * One of `choices`, or undefined when not given.
 *
 * @example
 * ```ts
 * optionalChoice('tls', 'channelSecurity', ['tls', 'insecure']); // 'tls'
 * optionalChoice('TLS', 'channelSecurity', ['tls', 'insecure']); // throws AuthConfigError('channelSecurity', ...)
 * ```
 */
export function optionalChoice<T extends string>(value: unknown, option: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new AuthConfigError(option, `expected one of ${choices.map((choice) => `'${choice}'`).join(', ')}`);
  }
  return value as T;
}

/**
 * True for a plain JSON-style object (not null, not an array): what a parsed document or an options
 * argument must be before any of its members is read.
 *
 * @example
 * ```ts
 * isRecord(JSON.parse('{"keys":[]}')); // true
 * isRecord(JSON.parse('[1]')); // false
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
