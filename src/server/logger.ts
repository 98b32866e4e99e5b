import { AuthConfigError } from '../errors/config-error.ts';

/**
 * One level of a {@link Logger}: fields first, then the message, as pino and bunyan take them.
 *
 * @example
 * ```ts
 * import type { LogFunction } from 'grpc-jwt-auth';
 * const warn: LogFunction = (fields, message) => console.warn(message, fields);
 * ```
 */
export type LogFunction = (fields: Record<string, unknown>, message: string) => void;

/**
 * Where the interceptor writes what an operator should see without hooks: the subset of a pino (or
 * bunyan) logger it calls, so `logger: pino()` or a child logger fits as it is, and so does `console`.
 * Levels left out are silent. What it logs: refusals with status INTERNAL at `error` (a bug or a broken
 * hook, with the error and its cause), every other refusal at `debug` (code, reason, method, peer),
 * refusals with UNAVAILABLE (calls shed by `maxConcurrentVerifications`, keys that cannot be had) also
 * at `warn` (at most once a minute per code, with a count; what is held back is written when the minute
 * ends or at `auth.close()`), key sets that cannot be fetched and skipped keys at `warn`, rotations at
 * `info`, and at creation an `info` line and a `warn` for checks left off (no `audience`, no `issuer`).
 * Never the token. A logger that throws is ignored.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type Logger } from 'grpc-jwt-auth';
 * const logger: Logger = { warn: (fields, message) => console.warn(message, fields), error: (fields, message) => console.error(message, fields) };
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], audience: 'orders-api', logger });
 * ```
 */
export interface Logger {
  /** Every refusal that is not INTERNAL: code, reason, method, peer. */
  readonly debug?: LogFunction;
  /** Once, when the interceptor is created: where tokens are read, issuers, algorithms, the bound. */
  readonly info?: LogFunction;
  /** Refusals with UNAVAILABLE (rate-limited, with a count), failed key-set fetches, skipped keys, and checks left off at creation. */
  readonly warn?: LogFunction;
  /** Refusals with INTERNAL: a bug or a broken hook, with the error as `err`. */
  readonly error?: LogFunction;
}

/**
 * The levels the library logs at, in the order of their severity.
 *
 * @example
 * ```ts
 * const level: LogLevel = 'warn';
 * ```
 */
export type LogLevel = keyof Logger;
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * The `logger` option, checked: an object whose `debug`, `info`, `warn` and `error`, where present, are
 * functions. Other members are not looked at: a pino logger has dozens.
 *
 * @example
 * ```ts
 * checkLogger(undefined, 'logger'); // undefined: silent
 * checkLogger(console, 'logger'); // console
 * checkLogger({ warn: 'loud' }, 'logger'); // throws AuthConfigError('logger.warn', ...)
 * ```
 */
export function checkLogger(value: unknown, option: string): Logger | undefined {
  if (value === undefined) return undefined;
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    throw new AuthConfigError(option, 'expected a logger such as pino() or console: { debug?, info?, warn?, error? }, each (fields, message) => void');
  }
  for (const level of LEVELS) {
    let method: unknown;
    try {
      method = (value as Record<string, unknown>)[level];
    } catch {
      // A getter or Proxy trap that throws: a configuration mistake, named, not a raw error from creation.
      throw new AuthConfigError(`${option}.${level}`, 'could not be read (its getter threw)');
    }
    if (method !== undefined && typeof method !== 'function') throw new AuthConfigError(`${option}.${level}`, 'expected a function (fields, message) => void');
  }
  return value as Logger;
}

/**
 * One log entry: its fields and its message.
 *
 * @example
 * ```ts
 * const entry: LogEntry = [{ method: '/acme.orders.v1.Orders/GetOrder' }, 'grpc-jwt-auth: refused'];
 * ```
 */
export type LogEntry = readonly [fields: Record<string, unknown>, message: string];

/** pino's own question, where the logger has it: asked so that an entry at a silenced level is never built. */
function isEnabled(logger: Logger, level: LogLevel): boolean {
  const isLevelEnabled: unknown = (logger as { isLevelEnabled?: unknown }).isLevelEnabled;
  return typeof isLevelEnabled !== 'function' || (isLevelEnabled as (level: string) => unknown).call(logger, level) !== false;
}

/**
 * Writes one entry, built only when the logger has the level (and, for pino, has it enabled), as a
 * method call (pino's methods need their `this`), swallowing whatever the logger throws: logging must
 * never decide the fate of a call.
 *
 * @example
 * ```ts
 * writeLog(console, 'warn', () => [{ method: '/acme.orders.v1.Orders/GetOrder' }, 'grpc-jwt-auth: something to look at']);
 * writeLog(undefined, 'warn', () => [{}, 'nobody listens: never built']);
 * ```
 */
export function writeLog(logger: Logger | undefined, level: LogLevel, entry: () => LogEntry): void {
  if (logger === undefined) return;
  try {
    if (typeof logger[level] !== 'function' || !isEnabled(logger, level)) return;
    const [fields, message] = entry();
    logger[level](fields, message);
  } catch {
    // A logger's failure is the logger's business.
  }
}
