import type { AuthContext } from '../auth-context.ts';
import { AuthConfigError, AuthError, describeForLog } from '../errors.ts';
import { checkTimeClaims } from './claims.ts';
import { parseCompactToken, type ParsedToken } from './compact.ts';
import { VERIFY_OPTION_NAMES, checkMaxTokenBytes, compileVerifyOptions, type VerifyOptions } from './options.ts';
import { TokenCache, type CachedToken, type TokenCacheOptions } from './token-cache.ts';
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
  /**
   * The verified-token cache: a token seen before is answered without crypto, its time claims and the
   * `validate` hook still checked per call. On by default; `false` disables it.
   */
  readonly cache?: TokenCacheOptions | false;
}

/** A verified token: the context for handlers and until when it may be used. */
export interface Authentication {
  readonly context: AuthContext;
  /** Milliseconds since the epoch after which the token is refused (`exp` plus tolerance), if it expires. */
  readonly validUntil: number | undefined;
}

/**
 * Turns a bearer token into a verified {@link AuthContext}, or throws (or rejects with) an
 * {@link AuthError}. Returns synchronously on a verified-token cache hit.
 */
export interface Authenticator {
  authenticate(token: string, method: string): Authentication | Promise<Authentication>;
  /** Prefetches remote keys of every issuer. */
  ready(): Promise<void>;
  /** Stops background work of every key resolver. */
  close(): void;
}

export const AUTHENTICATOR_OPTION_NAMES: readonly string[] = [...VERIFY_OPTION_NAMES, 'issuers', 'clock', 'cache'];
const ISSUER_ENTRY_OPTION_NAMES: ReadonlySet<string> = new Set(VERIFY_OPTION_NAMES);

function compileIssuers(options: AuthenticatorOptions): Map<string, TokenVerifier> {
  const { issuers, keys, algorithms, clock: _clock, cache: _cache, ...defaults } = options;
  if (!Array.isArray(issuers) || issuers.length === 0) throw new AuthConfigError('issuers', 'expected a non-empty array of { issuer, keys, algorithms, ... }');
  if (keys !== undefined || algorithms !== undefined || options.issuer !== undefined) {
    throw new AuthConfigError('issuers', 'give keys, algorithms and issuer inside each issuers[] entry, not at the top level as well');
  }
  const byIssuer = new Map<string, TokenVerifier>();
  issuers.forEach((entry, index) => {
    const prefix = `issuers[${index}].`;
    if (typeof entry !== 'object' || entry === null) throw new AuthConfigError(`issuers[${index}]`, 'expected { issuer, keys, algorithms, ... }');
    for (const name of Object.keys(entry)) {
      // The size cap runs before a token is routed, so it cannot differ per issuer.
      if (name === 'maxTokenBytes') throw new AuthConfigError(`${prefix}${name}`, 'applies before a token is routed to its issuer; set it at the top level');
      // A misspelt option (`audiance`) would otherwise silently disable a check for this issuer.
      if (!ISSUER_ENTRY_OPTION_NAMES.has(name)) throw new AuthConfigError(`${prefix}${name}`, 'unknown option');
    }
    if (typeof entry.issuer !== 'string' || entry.issuer === '') throw new AuthConfigError(`${prefix}issuer`, 'expected the exact iss value of this issuer');
    if (byIssuer.has(entry.issuer)) throw new AuthConfigError(`${prefix}issuer`, `${JSON.stringify(entry.issuer)} is listed twice`);
    // A field left undefined keeps the top-level default instead of switching that check off.
    const given = Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined));
    byIssuer.set(entry.issuer, new TokenVerifier(compileVerifyOptions({ ...defaults, ...given } as VerifyOptions, prefix)));
  });
  return byIssuer;
}

/**
 * Builds the authenticator behind the interceptor: size and format check, issuer routing, verification,
 * the verified-token cache, the `validate` hook. It knows nothing of gRPC, so the CLI and tests use it
 * directly. A cache hit returns synchronously: no promise, no allocation.
 *
 * @example
 * ```ts
 * const authenticator = createAuthenticator({ keys: fromSecret(secret), algorithms: ['HS256'] });
 * const { context } = await authenticator.authenticate(token, '/pkg.Service/Method');
 * ```
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new AuthConfigError('clock', 'expected a function returning milliseconds since the epoch');
  if (options.cache !== undefined && options.cache !== false && (typeof options.cache !== 'object' || options.cache === null)) {
    throw new AuthConfigError('cache', 'expected false or { maxEntries, maxTtl }');
  }
  const single = options.issuers === undefined ? new TokenVerifier(compileVerifyOptions(options as VerifyOptions)) : undefined;
  const byIssuer = single === undefined ? compileIssuers(options) : undefined;
  const maxTokenBytes = checkMaxTokenBytes(options.maxTokenBytes, 'maxTokenBytes');
  const verifiers: readonly TokenVerifier[] = single ? [single] : [...(byIssuer?.values() ?? [])];
  const cache = options.cache === false ? undefined : new TokenCache(options.cache);
  // Concurrent calls presenting the same new token share one verification.
  const inFlight = new Map<string, Promise<CachedToken>>();

  function route(parsed: ParsedToken): TokenVerifier {
    if (single) return single;
    const iss = parsed.claims.iss;
    const verifier = typeof iss === 'string' ? byIssuer?.get(iss) : undefined;
    if (!verifier) throw new AuthError('ERR_AUTH_ISSUER_INVALID', `token iss ${describeForLog(iss)} is not a configured issuer`);
    return verifier;
  }

  async function verifyFresh(token: string): Promise<CachedToken> {
    const parsed = parseCompactToken(token, maxTokenBytes);
    const verifier = route(parsed);
    const now = clock();
    const { context, exp, key } = await verifier.verify(parsed, now / 1000);
    const validUntil = exp === undefined ? undefined : (exp + verifier.options.claims.clockTolerance) * 1000;
    const verified: CachedToken = { context, key, keys: verifier.options.keys, validUntil, owner: verifier };
    cache?.set(token, verified, now);
    return verified;
  }

  function shareVerification(token: string): Promise<CachedToken> {
    let pending = inFlight.get(token);
    if (pending === undefined) {
      pending = verifyFresh(token).finally(() => inFlight.delete(token));
      inFlight.set(token, pending);
    }
    return pending;
  }

  /** The `validate` hook runs on every call, cached or not, so a denylist takes effect at once. */
  function validated(token: string, verified: CachedToken, method: string): Authentication | Promise<Authentication> {
    const { validate } = (verified.owner as TokenVerifier).options;
    if (!validate) return verified;
    let verdict: unknown;
    try {
      verdict = validate(verified.context.claims, { header: verified.context.header, method });
    } catch (error) {
      return Promise.reject(refusedByValidate(token, error));
    }
    return Promise.resolve(verdict).then(
      (result) => {
        if (result !== false) return verified;
        cache?.delete(token);
        throw new AuthError('ERR_AUTH_TOKEN_REJECTED', 'validate hook refused the token');
      },
      (error: unknown) => {
        throw refusedByValidate(token, error);
      },
    );
  }

  function refusedByValidate(token: string, error: unknown): AuthError {
    cache?.delete(token);
    if (error instanceof AuthError) return error;
    return new AuthError('ERR_AUTH_INTERNAL', `validate hook threw: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }

  return {
    authenticate(token, method) {
      const now = clock();
      const hit = cache?.get(token, now);
      if (hit !== undefined) {
        try {
          // A cached token ages like a fresh one: exp, nbf, iat and maxTokenAge against the clock of now.
          checkTimeClaims(hit.context.claims, (hit.owner as TokenVerifier).options.claims, now / 1000);
        } catch (error) {
          cache?.delete(token);
          throw error;
        }
        return validated(token, hit, method);
      }
      return shareVerification(token).then((verified) => validated(token, verified, method));
    },
    async ready() {
      await Promise.all(verifiers.map((v) => v.options.keys.ready?.()));
    },
    close() {
      for (const verifier of verifiers) verifier.options.keys.close?.();
    },
  };
}
