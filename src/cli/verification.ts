/**
 * Verifies a token exactly as a server would: the library's authenticator, with the options given as
 * flags. A refusal comes back with its diagnosis.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { isAuthError, type AuthError } from '../errors/auth-error.ts';
import type { Algorithm } from '../keys/key-algorithms.ts';
import { createAuthenticator, type AuthenticatorOptions } from '../verify/authenticator.ts';
import { DEFAULT_CLOCK_TOLERANCE } from '../verify/options.ts';
import { UsageError, flagError, listOption, numberOption, supportedAlgorithm, type ParsedArgs } from './args.ts';
import { diagnose, type Diagnosis, type ExpectedClaims } from './diagnose.ts';
import { printable } from './format.ts';
import { KEY_FLAGS, keySourceFromArgs, type KeySource } from './key-source.ts';

/**
 * What to verify against: keys, and the checks the flags set.
 *
 * @example
 * ```ts
 * import type { KeySource } from './key-source.ts';
 * declare const source: KeySource; // from --jwks, --issuer-url, --secret, --secret-file or --pem
 * const settings: VerifySettings = { source, algorithms: ['RS256'], issuers: ['https://idp.example/'], audiences: [], clockTolerance: 60 };
 * ```
 */
export interface VerifySettings extends ExpectedClaims {
  readonly source: KeySource;
  readonly algorithms: readonly Algorithm[];
}

/**
 * How a verification went.
 *
 * @example
 * ```ts
 * declare const result: VerificationResult;
 * console.log(result.ok ? `verified with key ${result.kid}` : result.diagnosis.fix);
 * ```
 */
export type VerificationResult =
  { readonly ok: true; readonly kid: string | undefined } | { readonly ok: false; readonly error: AuthError; readonly diagnosis: Diagnosis };

/** The method a `validate` hook would be told about; the CLI has no gRPC call. */
const CLI_METHOD = '/grpc-jwt-auth.cli/Inspect';
const SETTING_FLAGS = ['alg', 'iss', 'aud', 'clock-tolerance'] as const;
/** Authenticator option names as the flags that set them, for errors. */
const FLAG_OF_OPTION: Readonly<Partial<Record<string, string>>> = {
  algorithms: 'alg',
  issuer: 'iss',
  audience: 'aud',
  clockTolerance: 'clock-tolerance',
} satisfies Partial<Record<keyof AuthenticatorOptions, string>>;

/**
 * Reads the verification flags, or returns undefined when no key source is given (decode only).
 *
 * @example
 * ```ts
 * import { parseCommandArgs } from './args.ts';
 * const flags = { jwks: { type: 'string' }, alg: { type: 'string', multiple: true }, aud: { type: 'string', multiple: true } } as const;
 * const { values } = parseCommandArgs(['--jwks', 'https://idp.example/jwks.json', '--alg', 'RS256', '--aud', 'orders-api'], flags, 0);
 * const settings = verifySettingsFromArgs(values); // keys from the JWKS URL, algorithms ['RS256'], audiences ['orders-api']
 * ```
 */
export function verifySettingsFromArgs(values: ParsedArgs['values']): VerifySettings | undefined {
  const source = keySourceFromArgs(values);
  if (source === undefined) {
    const orphan = SETTING_FLAGS.find((flag) => values[flag] !== undefined);
    if (orphan) throw new UsageError(`--${orphan} needs keys to verify with: ${KEY_FLAGS.map((flag) => `--${flag}`).join(', ')}`);
    return undefined;
  }
  try {
    const algorithms = listOption(values, 'alg').map(supportedAlgorithm);
    if (algorithms.length === 0) {
      throw new UsageError('--alg is required to verify: list the algorithms your server allows, e.g. --alg RS256 (never taken from the token)');
    }
    return {
      source,
      algorithms,
      issuers: listOption(values, 'iss'),
      audiences: listOption(values, 'aud'),
      // The server's default, so a token inspect accepts is one the interceptor accepts with default options.
      clockTolerance: numberOption(values, 'clock-tolerance', { min: 0, max: 300 }) ?? DEFAULT_CLOCK_TOLERANCE,
    };
  } catch (error) {
    source.close();
    throw error;
  }
}

/**
 * Verifies `token` with the library's own authenticator and explains a refusal.
 *
 * @example
 * ```ts
 * import { decodeJwt, decodeProtectedHeader } from 'jose';
 * declare const settings: VerifySettings;
 * const result = await verifyToken(token, { header: decodeProtectedHeader(token), claims: decodeJwt(token) }, settings, Date.now);
 * if (!result.ok) console.log(result.diagnosis.problem);
 * ```
 */
export async function verifyToken(
  token: string,
  decoded: { readonly header: Readonly<Record<string, unknown>>; readonly claims: Readonly<Record<string, unknown>> },
  settings: VerifySettings,
  clock: () => number,
): Promise<VerificationResult> {
  const { source } = settings;
  let authenticator;
  try {
    authenticator = createAuthenticator({
      keys: source.resolver,
      algorithms: settings.algorithms,
      ...(settings.issuers.length > 0 ? { issuer: settings.issuers } : {}),
      ...(settings.audiences.length > 0 ? { audience: settings.audiences } : {}),
      clockTolerance: settings.clockTolerance,
      cache: false,
      clock,
    });
  } catch (error) {
    source.close();
    if (!(error instanceof AuthConfigError)) throw error;
    const option = error.option.split(/[.[]/)[0] ?? error.option;
    const flag = FLAG_OF_OPTION[option] ?? source.flag.slice(2);
    const tokenAlg = option === 'algorithms' ? `; the token is signed with ${printable(decoded.header.alg)}` : '';
    throw flagError(flag, error, ` (a server set up so would not start)${tokenAlg}`);
  }
  try {
    const { context } = await authenticator.authenticate(token, CLI_METHOD);
    return { ok: true, kid: context.header.kid };
  } catch (error) {
    if (!isAuthError(error)) throw error;
    // Judged last, once signature and claims passed: the CLI has no connection to prove a certificate
    // binding on (a server over mutual TLS with that certificate admits the token), nor a DPoP proof to
    // check (a server admits the token with its key's proof), so the token verified.
    if (error.code === 'ERR_AUTH_CERTIFICATE_MISSING' || error.code === 'ERR_AUTH_DPOP_SCHEME_REQUIRED')
      return { ok: true, kid: typeof decoded.header.kid === 'string' ? decoded.header.kid : undefined };
    const diagnosis = diagnose({
      error,
      header: decoded.header,
      claims: decoded.claims,
      expected: settings,
      keysOrigin: source.origin,
      keysFlag: source.flag,
      keysRemote: source.remote,
      listing: error.code === 'ERR_AUTH_KEY_NOT_FOUND' ? await source.listing() : undefined,
      fetchFailure: source.lastFailure,
      now: clock(),
    });
    return { ok: false, error, diagnosis };
  } finally {
    authenticator.close();
  }
}
