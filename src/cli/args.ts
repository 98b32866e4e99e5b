/**
 * Argument parsing on `node:util` parseArgs, with every mistake turned into a {@link UsageError} (exit
 * code 2) that says what was wrong.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AuthConfigError } from '../errors/config-error.ts';

/**
 * A mistake in the command line: exit code 2, and a pointer to the command's `--help`.
 *
 * @example
 * ```ts
 * throw new UsageError('--expires-in must be a whole number of seconds');
 * ```
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The option definitions of one command, in parseArgs form. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What parseArgs returns for a spec: values by option name, and positionals. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * Parses `args` strictly (unknown options and missing values are usage errors).
 *
 * @example
 * ```ts
 * const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, 1);
 * ```
 */
export function parseCommandArgs(args: readonly string[], options: OptionSpec, maxPositionals: number): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs' messages are precise ("Unknown option '--audience'"); keep the first line.
    throw new UsageError(String((error as Error).message).split('\n')[0] ?? 'invalid arguments');
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  }
  return parsed;
}

/**
 * A string option's value, or undefined. A repeated single-valued option is a usage error.
 *
 * @example
 * ```ts
 * const kid = stringOption(values, 'kid');
 * ```
 */
export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`--${name} takes one value`);
  return value;
}

/**
 * Every value of a repeatable string option (declared with `multiple: true`).
 *
 * @example
 * ```ts
 * const audiences = listOption(values, 'aud'); // --aud a --aud b → ['a', 'b']
 * ```
 */
export function listOption(values: ParsedArgs['values'], name: string): string[] {
  const value = values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * A number option, checked against bounds; `integer` refuses fractions.
 *
 * @example
 * ```ts
 * const tolerance = numberOption(values, 'clock-tolerance', { min: 0, max: 300 });
 * ```
 */
export function numberOption(values: ParsedArgs['values'], name: string, bounds: { min: number; max: number; integer?: boolean }): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < bounds.min || value > bounds.max || (bounds.integer && !Number.isInteger(value))) {
    const kind = bounds.integer ? 'a whole number' : 'a number';
    throw new UsageError(`--${name} must be ${kind} from ${bounds.min} to ${bounds.max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * Reads a file named by an option; a missing or unreadable file is a usage error naming the option.
 *
 * @example
 * ```ts
 * const pem = readOptionFile('/keys/public.pem', 'pem');
 * ```
 */
export function readOptionFile(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--${name}: cannot read ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * Reads a secret from a file named by an option. One trailing newline is dropped: editors and `echo` add
 * it, and it is never part of the secret a server is configured with.
 *
 * @example
 * ```ts
 * const secret = readSecretFile('./dev-secret', 'secret-file');
 * ```
 */
export function readSecretFile(path: string, name: string): string {
  return readOptionFile(path, name).replace(/\r?\n$/, '');
}

/**
 * The library's refusal of an option, as a usage error naming the flag that set it: the message keeps
 * the library's reason and drops its option name, which means nothing on a command line.
 *
 * @example
 * ```ts
 * throw flagError('alg', error, '; the token is signed with ES256');
 * ```
 */
export function flagError(flag: string, error: AuthConfigError, more = ''): UsageError {
  return new UsageError(`--${flag}: ${error.message.replace(/^grpc-jwt-auth: invalid option `[^`]*`: /, '')}${more}`);
}
