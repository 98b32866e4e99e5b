/**
 * The token's confirmation claim (`cnf`, RFC 7800): what the caller must prove besides holding the token.
 * Read once per verification (its result is cached with the token); checked per call by the server.
 */
import { AuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import { isThumbprint } from './certificate-thumbprint.ts';

/**
 * How an issuer's certificate-bound tokens (RFC 8705, `cnf["x5t#S256"]`) are treated:
 * - `'when-bound'` (default): a bound token is admitted only if the call's verified client certificate
 *   hashes to it; an unbound token passes.
 * - `'required'`: every token must be bound, and match (`ERR_AUTH_TOKEN_NOT_BOUND` otherwise).
 * - `'off'`: `cnf` is ignored (the token is used as a bearer token).
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type CertificateBinding } from 'grpc-jwt-auth';
 * const binding: CertificateBinding = 'required';
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], certificateBinding: binding });
 * ```
 */
export type CertificateBinding = 'required' | 'when-bound' | 'off';

/** The modes of {@link CertificateBinding}, for the option check. */
export const CERTIFICATE_BINDINGS: readonly CertificateBinding[] = ['required', 'when-bound', 'off'];

/**
 * How an issuer's DPoP-bound tokens (RFC 9449, `cnf.jkt`) are treated; a bound token always needs the
 * `DPoP` scheme and a proof signed by its key (there is no `'off'`: a DPoP-bound token used as a bearer
 * token is what DPoP exists to refuse):
 * - `'when-bound'` (default): unbound tokens pass as bearer tokens.
 * - `'required'`: every token must be DPoP-bound (`ERR_AUTH_TOKEN_NOT_BOUND` otherwise); needs the
 *   interceptor's `dpop` option.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type DpopBinding } from 'grpc-jwt-auth';
 * const dpopBinding: DpopBinding = 'required';
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], dpop: { origins: ['https://orders.example'] }, dpopBinding });
 * ```
 */
export type DpopBinding = 'required' | 'when-bound';

/** The modes of {@link DpopBinding}, for the option check. */
export const DPOP_BINDINGS: readonly DpopBinding[] = ['required', 'when-bound'];

/**
 * What a token is bound to, from its `cnf` claim: the thumbprint of a client certificate (RFC 8705), of
 * a DPoP key (RFC 9449), or both. A call is admitted only once what is listed here was proven on it.
 *
 * @example
 * ```ts
 * import { getAuth, type Confirmation } from 'grpc-jwt-auth';
 * const confirmation: Confirmation | undefined = getAuth(call).confirmation;
 * if (confirmation?.x5tS256) console.info(`certificate-bound call, x5t#S256 ${confirmation.x5tS256}`);
 * ```
 */
export interface Confirmation {
  /** `cnf["x5t#S256"]`: base64url SHA-256 of the client certificate the token is bound to; proven on this call. */
  readonly x5tS256?: string;
  /** `cnf.jkt`: RFC 7638 SHA-256 thumbprint of the DPoP key the token is bound to; its proof verified on this call. */
  readonly jkt?: string;
}

function invalid(message: string): AuthError {
  return new AuthError('ERR_AUTH_CLAIM_INVALID', message);
}

/**
 * Reads `cnf` for an issuer whose certificate mode is `binding`. Undefined when there is nothing to prove
 * (no `cnf`, no member this library checks). A `cnf` that is not an object, or an `x5t#S256` or `jkt` that
 * is not a 43-character base64url SHA-256, refuses the token with `ERR_AUTH_CLAIM_INVALID`: a binding the
 * server cannot read must not degrade into a bearer token. Unknown `cnf` members are ignored. Mode
 * `'off'` ignores `x5t#S256` (and a `cnf` that is no object), never `jkt`.
 *
 * @example
 * ```ts
 * readConfirmation({ cnf: { 'x5t#S256': 'A'.repeat(43) } }, 'when-bound'); // { x5tS256: 'AAA…' }
 * readConfirmation({ cnf: { jkt: 'A'.repeat(43) } }, 'off'); // { jkt: 'AAA…' }
 * readConfirmation({ cnf: 'bound' }, 'when-bound'); // throws ERR_AUTH_CLAIM_INVALID
 * readConfirmation({ cnf: 'bound' }, 'off'); // undefined: cnf ignored
 * ```
 */
export function readConfirmation(claims: Readonly<Record<string, unknown>>, binding: CertificateBinding): Confirmation | undefined {
  if (!Object.hasOwn(claims, 'cnf')) return undefined;
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) {
    if (binding === 'off') return undefined;
    throw invalid(`claim cnf is ${describeForLog(cnf)}, not an object`);
  }
  const members = cnf as Record<string, unknown>;
  const x5tS256 = binding !== 'off' && Object.hasOwn(members, 'x5t#S256') ? members['x5t#S256'] : undefined;
  if (x5tS256 !== undefined && !isThumbprint(x5tS256))
    throw invalid(`claim cnf["x5t#S256"] is ${describeForLog(x5tS256)}, not a base64url SHA-256 thumbprint (43 characters)`);
  const jkt = Object.hasOwn(members, 'jkt') ? members.jkt : undefined;
  // `jkt: null` or `""` is a binding the issuer meant and the server cannot check: refused, never read as unbound.
  if (Object.hasOwn(members, 'jkt') && !isThumbprint(jkt))
    throw invalid(`claim cnf.jkt is ${describeForLog(jkt)}, not a base64url SHA-256 JWK thumbprint (43 characters)`);
  if (x5tS256 === undefined && jkt === undefined) return undefined;
  return Object.freeze({ ...(x5tS256 === undefined ? {} : { x5tS256 }), ...(jkt === undefined ? {} : { jkt: jkt as string }) });
}
