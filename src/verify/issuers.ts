/**
 * Several trusted issuers (`issuers: [...]`): each entry compiled into its own verifier, with the
 * top-level verify options as defaults, keyed by the exact `iss` a token is routed by.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { checkOptionNames, isRecord, optionNames, optionalString } from '../util/option-checks.ts';
import type { AuthenticatorOptions } from './authenticator.ts';
import { NO_DPOP, VERIFY_OPTION_FLAGS, VERIFY_OPTION_NAMES, compileVerifyOptions, type VerifyContext, type VerifyOptions } from './options.ts';
import { TokenVerifier } from './verifier.ts';

/**
 * One trusted token issuer among several; see {@link AuthenticatorOptions.issuers}. Fields it leaves
 * out take the top-level value of the same name.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromIssuer, fromSecret, type IssuerOptions } from 'grpc-jwt-auth';
 * const staff: IssuerOptions = { issuer: 'https://login.acme.example/', keys: fromIssuer('https://login.acme.example/'), algorithms: ['RS256'] };
 * const jobs: IssuerOptions = { issuer: 'https://jobs.acme.internal', keys: fromSecret(process.env.JOBS_JWT_SECRET!), algorithms: ['HS256'], typ: 'at+jwt' };
 * const auth = createAuthInterceptor({ issuers: [staff, jobs], audience: 'orders-api' });
 * ```
 */
export interface IssuerOptions extends Omit<VerifyOptions, 'issuer' | 'maxTokenBytes'> {
  /** The exact `iss` value this issuer's tokens carry. */
  readonly issuer: string;
}

/**
 * What an `issuers[]` entry may hold: the verify options and its `issuer`. (`maxTokenBytes` is in the list
 * so that it gets its own message: it applies before a token is routed, so only at the top level.)
 */
const ISSUER_OPTION_NAMES = optionNames<IssuerOptions>({ ...VERIFY_OPTION_FLAGS, issuer: true });

/**
 * Checks the `issuers` option and compiles one verifier per entry. A misspelt or mistyped field throws
 * an {@link AuthConfigError} named where it was written (`issuers[1].audience`, or `audience` for a
 * wrong top-level default).
 *
 * @example
 * ```ts
 * import { fromSecret } from '../keys/secret.ts';
 * const keys = fromSecret('a-secret-of-thirty-two-bytes-or-more!');
 * const verifiers = compileIssuers({ issuers: [{ issuer: 'https://jobs.example/', keys, algorithms: ['HS256'] }], audience: 'orders-api' });
 * verifiers.get('https://jobs.example/'); // the verifier for that iss
 * ```
 */
export function compileIssuers(options: AuthenticatorOptions, context: VerifyContext = NO_DPOP): Map<string, TokenVerifier> {
  const { issuers, keys, algorithms } = options;
  // Only verification options are defaults for the entries (not rules, hooks or the cache).
  const defaults = Object.fromEntries(
    [...VERIFY_OPTION_NAMES]
      .filter((name) => options[name as keyof AuthenticatorOptions] !== undefined)
      .map((name) => [name, options[name as keyof AuthenticatorOptions]]),
  );
  if (!Array.isArray(issuers) || issuers.length === 0) throw new AuthConfigError('issuers', 'expected a non-empty array of { issuer, keys, algorithms, ... }');
  if (keys !== undefined || algorithms !== undefined || options.issuer !== undefined) {
    throw new AuthConfigError('issuers', 'give keys, algorithms and issuer inside each issuers[] entry, not at the top level as well');
  }
  const byIssuer = new Map<string, TokenVerifier>();
  issuers.forEach((entry: unknown, index) => {
    const path = `issuers[${index}]`;
    if (!isRecord(entry)) throw new AuthConfigError(path, 'expected { issuer, keys, algorithms, ... }');
    // The size cap runs before a token is routed, so it cannot differ per issuer.
    if (Object.hasOwn(entry, 'maxTokenBytes'))
      throw new AuthConfigError(`${path}.maxTokenBytes`, 'applies before a token is routed to its issuer; set it at the top level');
    // A misspelt option (`audiance`) would otherwise silently disable a check for this issuer.
    checkOptionNames(entry, ISSUER_OPTION_NAMES, path);
    const issuer = optionalString(entry.issuer, `${path}.issuer`);
    if (issuer === undefined) throw new AuthConfigError(`${path}.issuer`, 'required: the exact iss value of this issuer');
    if (byIssuer.has(issuer)) throw new AuthConfigError(`${path}.issuer`, `${JSON.stringify(issuer)} is listed twice`);
    // A field left undefined keeps the top-level default instead of switching that check off.
    const given = Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined));
    // A mistake is named where it was written: a wrong top-level default is `audience`, not `issuers[0].audience`,
    // which would send the reader to an entry that has no audience. Anything else (a wrong or missing
    // `keys`, `algorithms`, or a field of the entry's own) is the entry's.
    const nameOf = (option: string): string => (Object.hasOwn(defaults, option) && !Object.hasOwn(given, option) ? option : `${path}.${option}`);
    byIssuer.set(issuer, new TokenVerifier(compileVerifyOptions({ ...defaults, ...given } as unknown as VerifyOptions, nameOf, context)));
  });
  return byIssuer;
}
