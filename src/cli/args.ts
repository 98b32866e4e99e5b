/**
 * Argument parsing on `node:util` parseArgs, with every mistake turned into a {@link UsageError} (exit
 * code 2) that says what was wrong.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AuthConfigError } from '../errors/config-error.ts';
import { SUPPORTED_ALGORITHMS, isSupportedAlgorithm, type Algorithm } from '../keys/key-algorithms.ts';
import type { CommandIo } from './io.ts';

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

/**
 * The option definitions of one command, in parseArgs form.
 *
 * @example
 * ```ts
 * const options: OptionSpec = { aud: { type: 'string', multiple: true }, json: { type: 'boolean' } };
 * ```
 */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * What parseArgs returns for a spec: values by option name, and positionals.
 *
 * @example
 * ```ts
 * const parsed: ParsedArgs = parseCommandArgs(['eyJ...', '--json'], { json: { type: 'boolean' } }, 1);
 * parsed.values.json; // true
 * ```
 */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * One command of the CLI: what it accepts, its help, and what it does. `runCli` parses the arguments
 * against `options` and answers `--help` itself, so no command can forget either.
 *
 * @example
 * ```ts
 * import { EXIT } from './io.ts';
 * const hello: Command = {
 *   options: { name: { type: 'string' } },
 *   maxPositionals: 0,
 *   help: 'Usage: grpc-jwt-auth hello [--name <name>]',
 *   async run({ values }, io) {
 *     io.out(`hello ${stringOption(values, 'name') ?? 'world'}`);
 *     return EXIT.OK;
 *   },
 * };
 * ```
 */
export interface Command {
  /** The flags, in parseArgs form (`--help` is added). */
  readonly options: OptionSpec;
  /** How many arguments it takes besides flags. */
  readonly maxPositionals: number;
  /** The text `--help` prints. */
  readonly help: string;
  /** Runs the command with its parsed arguments and resolves with the exit code. */
  run(args: ParsedArgs, io: CommandIo): Promise<number>;
}

/**
 * Parses `args` strictly (unknown options and missing values are usage errors).
 *
 * @example
 * ```ts
 * const { values, positionals } = parseCommandArgs(['eyJ...', '--json'], { json: { type: 'boolean' } }, 1);
 * ```
 */
export function parseCommandArgs(args: readonly string[], options: OptionSpec, maxPositionals: number): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: OptionSpec; allowPositionals: true; strict: true; tokens: true }>>;
  try {
    parsed = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    // parseArgs' messages are precise ("Unknown option '--audience'"); keep the first line.
    throw new UsageError(String((error as Error).message).split('\n')[0] ?? 'invalid arguments');
  }
  refuseRepeatedValues(parsed.tokens, options);
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/**
 * A single-valued string flag given twice is a usage error: parseArgs alone keeps the last value, so
 * `revoke --subject alice --subject bob` would silently revoke bob only, and `sign --sub a --sub b`
 * would sign for b. Repeatable flags are declared `multiple`.
 */
function refuseRepeatedValues(tokens: ReadonlyArray<{ kind: string; name?: string }>, options: OptionSpec): void {
  const seen = new Map<string, number>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    const option = options[token.name];
    if (option?.type !== 'string' || option.multiple === true) continue;
    const count = (seen.get(token.name) ?? 0) + 1;
    seen.set(token.name, count);
    if (count === 2) throw new UsageError(`--${token.name} is given more than once: give it once`);
  }
}

/**
 * A string option's value, or undefined ({@link parseCommandArgs} already refused a single-valued option given twice).
 *
 * @example
 * ```ts
 * const { values } = parseCommandArgs(['--kid', 'key-1'], { kid: { type: 'string' } }, 0);
 * stringOption(values, 'kid'); // 'key-1'
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
 * const { values } = parseCommandArgs(['--aud', 'a', '--aud', 'b'], { aud: { type: 'string', multiple: true } }, 0);
 * listOption(values, 'aud'); // ['a', 'b']
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
 * const { values } = parseCommandArgs(['--clock-tolerance', '30'], { 'clock-tolerance': { type: 'string' } }, 0);
 * numberOption(values, 'clock-tolerance', { min: 0, max: 300 }); // 30
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
 * The value of an `--alg` flag, if the library supports it (exact, case-sensitive, as the server compares).
 *
 * @example
 * ```ts
 * supportedAlgorithm('ES256'); // 'ES256'
 * supportedAlgorithm('es256'); // throws UsageError('--alg "es256" is not supported; use one of HS256, ...')
 * ```
 */
export function supportedAlgorithm(alg: string): Algorithm {
  if (!isSupportedAlgorithm(alg)) throw new UsageError(`--alg ${JSON.stringify(alg)} is not supported; use one of ${SUPPORTED_ALGORITHMS.join(', ')}`);
  return alg;
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
 * import { AuthConfigError } from 'grpc-jwt-auth';
 * const refused = new AuthConfigError('algorithms', 'HS256 does not fit the keys');
 * throw flagError('alg', refused, '; the token is signed with HS256'); // UsageError('--alg: HS256 does not fit the keys; the token ...')
 * ```
 */
export function flagError(flag: string, error: AuthConfigError, more = ''): UsageError {
  return new UsageError(`--${flag}: ${error.message.replace(/^grpc-jwt-auth: invalid option `[^`]*`: /, '')}${more}`);
}
