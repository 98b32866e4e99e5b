/**
 * Option checks shared by every factory: each mistake throws an {@link AuthConfigError} naming the option,
 * at construction, never at the first call.
 */
import { AuthConfigError } from './errors.ts';

/**
 * Refuses option names the factory does not know: a misspelt option (`refreshBfore`) would otherwise
 * be ignored silently and the default would apply where the user meant something else.
 *
 * @example
 * ```ts
 * checkOptionNames(options, new Set(['token', 'channelSecurity'])); // throws AuthConfigError('retry', 'unknown option')
 * ```
 */
export function checkOptionNames(options: unknown, known: ReadonlySet<string>): asserts options is Record<string, unknown> {
  if (typeof options !== 'object' || options === null) throw new AuthConfigError('options', 'expected an options object');
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new AuthConfigError(name, 'unknown option');
  }
}

/**
 * A duration in seconds from `min` to `max`, or undefined when not given.
 *
 * @example
 * ```ts
 * const timeout = optionalSeconds(options.timeout, 'timeout', 0.001, 600) ?? 10;
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
 * const clientId = optionalString(options.clientId, 'clientId');
 * ```
 */
export function optionalString(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new AuthConfigError(option, 'expected a non-empty string');
  return value;
}

/**
 * A function, or undefined when not given.
 *
 * @example
 * ```ts
 * const clock = optionalFunction<() => number>(options.clock, 'clock') ?? Date.now;
 * ```
 */
export function optionalFunction<F>(value: unknown, option: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new AuthConfigError(option, 'expected a function');
  return value as F;
}

/**
 * One of `choices`, or undefined when not given.
 *
 * @example
 * ```ts
 * const security = optionalChoice(options.channelSecurity, 'channelSecurity', ['tls', 'insecure']);
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
 * if (!isRecord(document)) throw new TypeError('expected a JSON object');
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
