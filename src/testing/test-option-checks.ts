/**
 * Option checks of the testing helpers, on top of util/option-checks: names are checked by their path
 * (`token.clients.worker.secrt`), because the helpers take nested options objects.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { isRecord, optionalSeconds, optionNames } from '../util/option-checks.ts';
import { LAST_NUMERIC_DATE } from '../util/clock.ts';
import type { SignOptions } from './test-issuer.ts';
import { certificateThumbprint, isThumbprint } from '../verify/certificate-thumbprint.ts';

/**
 * Refuses an options object of the testing helpers with names it does not know, naming the option by
 * its path (`token.clients.worker.secrt`): a misspelt `expiresIn` or `keepPrevious` would otherwise
 * leave the default in force and let a test pass for the wrong reason. Arrays and null are refused too.
 *
 * @example
 * ```ts
 * import { optionNames } from '../util/option-checks.ts';
 * const CLIENT_OPTIONS = optionNames<{ secret?: string; scope?: string }>({ secret: true, scope: true });
 * checkTestOptionNames({ secrt: 'x' }, CLIENT_OPTIONS, 'token.clients.worker.'); // throws AuthConfigError('token.clients.worker.secrt', ...)
 * ```
 */
export function checkTestOptionNames<T>(options: T, known: ReadonlySet<string>, path = ''): asserts options is T & Record<string, unknown> {
  if (!isRecord(options)) throw new AuthConfigError(path === '' ? 'options' : path.slice(0, -1), 'expected an options object');
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new AuthConfigError(`${path}${name}`, 'unknown option');
  }
}

/**
 * A time in seconds, absolute (a NumericDate) or relative (a lifetime, an offset; negative for the
 * past), or undefined when not given: `expiresIn: '1h'` would otherwise be concatenated into a string
 * `exp`. Bounded by the last NumericDate a verifier accepts, so no sum of two of them is Infinity.
 *
 * @example
 * ```ts
 * optionalTime(-60, 'expiresIn'); // -60: a token that expired a minute ago
 * optionalTime('1h', 'expiresIn'); // throws AuthConfigError('expiresIn', ...)
 * ```
 */
export function optionalTime(value: unknown, option: string): number | undefined {
  return optionalSeconds(value, option, -LAST_NUMERIC_DATE, LAST_NUMERIC_DATE);
}

/**
 * A plain object (claims, a header, clients by id), or undefined when not given.
 *
 * @example
 * ```ts
 * optionalRecord({ typ: 'at+jwt' }, 'header'); // { typ: 'at+jwt' }
 * optionalRecord('at+jwt', 'header'); // throws AuthConfigError('header', 'expected an object')
 * ```
 */
export function optionalRecord(value: unknown, option: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw new AuthConfigError(option, 'expected an object');
  return value;
}

/**
 * A string, the empty one included (an empty response body, say), or undefined when not given.
 *
 * @example
 * ```ts
 * optionalText('', 'fault.body'); // ''
 * optionalText(42, 'fault.body'); // throws AuthConfigError('fault.body', 'expected a string')
 * ```
 */
export function optionalText(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AuthConfigError(option, 'expected a string');
  return value;
}

const SIGN_OPTIONS = optionNames<SignOptions>({ expiresIn: true, notBefore: true, issuedAt: true, header: true, bindTo: true });
const BIND_TO_OPTIONS = optionNames<NonNullable<SignOptions['bindTo']>>({ certificate: true, jkt: true });

/**
 * `bindTo` checked: a certificate that is not one, or a `jkt` that is not a thumbprint, throws here
 * naming `bindTo.certificate` / `bindTo.jkt`. (A test that needs a malformed `cnf` puts it in the claims.)
 */
function checkedBindTo(value: unknown, path: string): SignOptions['bindTo'] {
  if (value === undefined) return undefined;
  checkTestOptionNames(value, BIND_TO_OPTIONS, `${path}bindTo.`);
  if (value.certificate !== undefined) {
    try {
      certificateThumbprint(value.certificate as string | Uint8Array);
    } catch {
      throw new AuthConfigError(`${path}bindTo.certificate`, 'expected an X.509 certificate, PEM (string or bytes) or DER');
    }
  }
  // A hex digest or a JWK instead of its thumbprint would sign a token no DPoP proof can ever match.
  if (value.jkt !== undefined && !isThumbprint(value.jkt))
    throw new AuthConfigError(`${path}bindTo.jkt`, 'expected an RFC 7638 SHA-256 JWK thumbprint: base64url, 43 characters');
  return {
    ...(value.certificate === undefined ? {} : { certificate: value.certificate as string | Uint8Array }),
    ...(value.jkt === undefined ? {} : { jkt: value.jkt }),
  };
}

/**
 * {@link SignOptions} checked, names by their path: what `sign` takes, and what a token fault passes on
 * to it, so a fault with a misspelt sign option is refused when it is injected, not at the request.
 *
 * @example
 * ```ts
 * checkedSignOptions({ expiresIn: 60 }); // { expiresIn: 60, issuedAt: undefined, notBefore: undefined, header: undefined, bindTo: undefined }
 * checkedSignOptions({ expiresin: 60 }, 'fault.signOptions.'); // throws AuthConfigError('fault.signOptions.expiresin', ...)
 * ```
 */
export function checkedSignOptions(options: unknown, path = ''): { readonly [K in keyof Required<SignOptions>]: SignOptions[K] | undefined } {
  checkTestOptionNames(options, SIGN_OPTIONS, path);
  return {
    expiresIn: optionalTime(options.expiresIn, `${path}expiresIn`),
    notBefore: optionalTime(options.notBefore, `${path}notBefore`),
    issuedAt: optionalTime(options.issuedAt, `${path}issuedAt`),
    header: optionalRecord(options.header, `${path}header`),
    bindTo: checkedBindTo(options.bindTo, path),
  };
}
