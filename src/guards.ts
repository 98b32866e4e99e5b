import type { AuthContext } from './auth-context.ts';
import { AuthError } from './errors.ts';

/** A guard's refusal, with what would have granted access. */
export interface GuardDenial {
  readonly allowed: false;
  /** For logs, e.g. `missing scope orders:write`. */
  readonly message: string;
  /** Scopes that would grant access; named in `www-authenticate` and ErrorInfo. */
  readonly requiredScopes?: readonly string[];
}

/** What a guard returns: `true` allows; `false` or a {@link GuardDenial} refuses. */
export type GuardResult = boolean | GuardDenial;

/** Facts about the call a guard may use besides the caller's token. */
export interface GuardInfo {
  /** The full gRPC method path. */
  readonly method: string;
}

/**
 * An authorization check on a verified caller. Only a literal `true` allows: a guard that forgets to
 * return (undefined) refuses, so a bug fails closed.
 *
 * @example
 * ```ts
 * import type { Guard } from 'grpc-jwt-auth';
 * const sameTenant: Guard = (auth) => auth.claims.tenant === 'acme';
 * ```
 */
export type Guard = (auth: AuthContext, info: GuardInfo) => GuardResult | Promise<GuardResult>;

/**
 * Runs a guard and throws PERMISSION_DENIED unless it allowed; stays synchronous for a synchronous guard.
 * A guard that throws an {@link AuthError} is answered with it; any other throw is INTERNAL (a bug, not a
 * verdict).
 */
export function enforceGuard(guard: Guard, auth: AuthContext, info: GuardInfo): void | Promise<void> {
  let result: GuardResult | Promise<GuardResult>;
  try {
    result = guard(auth, info);
  } catch (error) {
    throw guardFailure(error);
  }
  if (result instanceof Promise) {
    return result.then(
      (settled) => judge(settled, info),
      (error: unknown) => {
        throw guardFailure(error);
      },
    );
  }
  judge(result, info);
}

function guardFailure(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  return new AuthError('ERR_AUTH_INTERNAL', `guard threw: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

function judge(result: GuardResult, info: GuardInfo): void {
  if (result === true) return;
  const denial = typeof result === 'object' && result !== null ? result : undefined;
  throw new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', denial?.message ?? `guard refused ${info.method}`, denial?.requiredScopes ? { requiredScopes: denial.requiredScopes } : {});
}
