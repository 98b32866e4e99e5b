import { AuthConfigError } from '../errors/config-error.ts';

/**
 * Refuses an options object of the testing helpers with names it does not know, naming the option by
 * its path (`token.clients.worker.secrt`): a misspelt `expiresIn` or `keepPrevious` would otherwise
 * leave the default in force and let a test pass for the wrong reason.
 *
 * @example
 * ```ts
 * checkTestOptionNames(options.token, TOKEN_OPTION_NAMES, 'token.'); // throws AuthConfigError('token.accessTokenLifetim', ...)
 * ```
 */
export function checkTestOptionNames(options: unknown, known: ReadonlySet<string>, path = ''): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new AuthConfigError(path === '' ? 'options' : path.slice(0, -1), 'expected an options object');
  }
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new AuthConfigError(`${path}${name}`, 'unknown option');
  }
}

/**
 * A finite number of seconds, or undefined when not given: `expiresIn: '1h'` would otherwise be
 * concatenated into a string `exp`.
 *
 * @example
 * ```ts
 * const expiresIn = finiteSeconds(options.expiresIn, 'expiresIn') ?? 3600;
 * ```
 */
export function finiteSeconds(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new AuthConfigError(option, 'expected a finite number of seconds');
  return value;
}
