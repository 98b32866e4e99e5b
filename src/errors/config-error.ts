/**
 * The configuration error: thrown by every factory at construction, never at the first call, so a
 * mistake in the options stops the server at start-up instead of refusing (or admitting) calls later.
 */

/**
 * Thrown at construction when an option is wrong. Names the option so the fix is obvious.
 *
 * @example
 * ```ts
 * import { AuthConfigError, createAuthInterceptor } from 'grpc-jwt-auth';
 * try { createAuthInterceptor({ keys, algorithms: [] }); }
 * catch (e) { if (e instanceof AuthConfigError) console.error(e.option, e.message); }
 * ```
 */
export class AuthConfigError extends TypeError {
  /** Always `'AuthConfigError'`. */
  override readonly name = 'AuthConfigError';
  /** Always `ERR_AUTH_INVALID_OPTION`. */
  readonly code = 'ERR_AUTH_INVALID_OPTION';
  /** The option at fault, as a path such as `algorithms` or `issuers[1].audience`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(`grpc-jwt-auth: invalid option \`${option}\`: ${message}`);
    this.option = option;
  }
}
