import type { AuthContext } from '../auth-context.ts';
import { AuthConfigError, AuthError, describeForLog } from '../errors.ts';
import { parseCompactToken, type ParsedToken } from './compact.ts';
import { VERIFY_OPTION_NAMES, checkMaxTokenBytes, compileVerifyOptions, type CompiledVerifyOptions, type VerifyOptions } from './options.ts';
import { TokenVerifier } from './verifier.ts';

/** One trusted token issuer among several; see {@link AuthenticatorOptions.issuers}. */
export interface IssuerOptions extends Omit<VerifyOptions, 'issuer' | 'maxTokenBytes'> {
  /** The exact `iss` value this issuer's tokens carry. */
  readonly issuer: string;
}

/**
 * How tokens are authenticated: either the fields of {@link VerifyOptions} for one issuer, or `issuers`
 * for several (then top-level fields other than `keys` and `algorithms` are defaults for each issuer).
 */
export interface AuthenticatorOptions extends Partial<VerifyOptions> {
  /**
   * Several trusted issuers. A token is routed by its unverified `iss` to the one issuer that matches
   * exactly; a token from any other issuer is refused before any key is fetched. Keys are never looked
   * up from a URL found in a token.
   */
  readonly issuers?: readonly IssuerOptions[];
  /** The clock, in milliseconds since the epoch. Default `Date.now`; tests inject their own. */
  readonly clock?: () => number;
}

/** A verified token: the context for handlers and until when it may be used. */
export interface Authentication {
  readonly context: AuthContext;
  /** Milliseconds since the epoch after which the token is refused (`exp` plus tolerance), if it expires. */
  readonly validUntil: number | undefined;
}

/** Turns a bearer token into a verified {@link AuthContext}, or throws an {@link AuthError}. */
export interface Authenticator {
  authenticate(token: string, method: string): Promise<Authentication>;
  /** Prefetches remote keys of every issuer. */
  ready(): Promise<void>;
  /** Stops background work of every key resolver. */
  close(): void;
}

export const AUTHENTICATOR_OPTION_NAMES: readonly string[] = [...VERIFY_OPTION_NAMES, 'issuers', 'clock'];

function compileIssuers(options: AuthenticatorOptions): Map<string, TokenVerifier> {
  const { issuers, keys, algorithms, clock: _clock, ...defaults } = options;
  if (!Array.isArray(issuers) || issuers.length === 0) throw new AuthConfigError('issuers', 'expected a non-empty array of { issuer, keys, algorithms, ... }');
  if (keys !== undefined || algorithms !== undefined || options.issuer !== undefined) {
    throw new AuthConfigError('issuers', 'give keys, algorithms and issuer inside each issuers[] entry, not at the top level as well');
  }
  const byIssuer = new Map<string, TokenVerifier>();
  issuers.forEach((entry, index) => {
    const prefix = `issuers[${index}].`;
    if (typeof entry?.issuer !== 'string' || entry.issuer === '') throw new AuthConfigError(`${prefix}issuer`, 'expected the exact iss value of this issuer');
    if (byIssuer.has(entry.issuer)) throw new AuthConfigError(`${prefix}issuer`, `${JSON.stringify(entry.issuer)} is listed twice`);
    byIssuer.set(entry.issuer, new TokenVerifier(compileVerifyOptions({ ...defaults, ...entry }, prefix)));
  });
  return byIssuer;
}

/**
 * Builds the authenticator behind the interceptor: size and format check, issuer routing, verification,
 * the `validate` hook. It knows nothing of gRPC, so the CLI and tests use it directly.
 *
 * @example
 * ```ts
 * const authenticator = createAuthenticator({ keys: fromSecret(secret), algorithms: ['HS256'] });
 * const auth = await authenticator.authenticate(token, '/pkg.Service/Method');
 * ```
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new AuthConfigError('clock', 'expected a function returning milliseconds since the epoch');
  const single = options.issuers === undefined ? new TokenVerifier(compileVerifyOptions(options as VerifyOptions)) : undefined;
  const byIssuer = single === undefined ? compileIssuers(options) : undefined;
  const maxTokenBytes = checkMaxTokenBytes(options.maxTokenBytes, 'maxTokenBytes');
  const verifiers: readonly TokenVerifier[] = single ? [single] : [...(byIssuer?.values() ?? [])];

  function route(parsed: ParsedToken): TokenVerifier {
    if (single) return single;
    const iss = parsed.claims.iss;
    const verifier = typeof iss === 'string' ? byIssuer?.get(iss) : undefined;
    if (!verifier) throw new AuthError('ERR_AUTH_ISSUER_INVALID', `token iss ${describeForLog(iss)} is not a configured issuer`);
    return verifier;
  }

  async function runValidate(options: CompiledVerifyOptions, context: AuthContext, method: string): Promise<void> {
    if (!options.validate) return;
    let verdict: unknown;
    try {
      verdict = await options.validate(context.claims, { header: context.header, method });
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw new AuthError('ERR_AUTH_INTERNAL', `validate hook threw: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    if (verdict === false) throw new AuthError('ERR_AUTH_TOKEN_REJECTED', 'validate hook refused the token');
  }

  return {
    async authenticate(token, method) {
      const parsed = parseCompactToken(token, maxTokenBytes);
      const verifier = route(parsed);
      const { context, exp } = await verifier.verify(parsed, clock() / 1000);
      await runValidate(verifier.options, context, method);
      return { context, validUntil: exp === undefined ? undefined : (exp + verifier.options.claims.clockTolerance) * 1000 };
    },
    async ready() {
      await Promise.all(verifiers.map((v) => v.options.keys.ready?.()));
    },
    close() {
      for (const verifier of verifiers) verifier.options.keys.close?.();
    },
  };
}

