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
 * What a token is bound to, from its `cnf` claim: the thumbprint of a client certificate (RFC 8705).
 * A call is admitted only once what is listed here was proven on it. (`jkt`, RFC 9449 DPoP, is for later.)
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
  /** `cnf.jkt` (RFC 9449): the RFC 7638 thumbprint of the DPoP key the token is bound to; proven on this call. */
  readonly jkt?: string;
}

function invalid(message: string): AuthError {
  return new AuthError('ERR_AUTH_CLAIM_INVALID', message);
}

/**
 * Reads `cnf` for an issuer whose mode is `binding`. Undefined when there is nothing to prove (no `cnf`,
 * no member this library checks, or mode `'off'`). A `cnf` that is not an object, or an `x5t#S256` that is
 * not a 43-character base64url SHA-256, refuses the token with `ERR_AUTH_CLAIM_INVALID`: a binding the
 * server cannot read must not degrade into a bearer token. Unknown `cnf` members are ignored.
 *
 * @example
 * ```ts
 * readConfirmation({ cnf: { 'x5t#S256': 'A'.repeat(43) } }, 'when-bound'); // { x5tS256: 'AAA…' }
 * readConfirmation({ cnf: 'bound' }, 'when-bound'); // throws ERR_AUTH_CLAIM_INVALID
 * readConfirmation({ cnf: 'bound' }, 'off'); // undefined: cnf ignored
 * ```
 */
export function readConfirmation(claims: Readonly<Record<string, unknown>>, binding: CertificateBinding): Confirmation | undefined {
  if (binding === 'off' || !Object.hasOwn(claims, 'cnf')) return undefined;
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) throw invalid(`claim cnf is ${describeForLog(cnf)}, not an object`);
  if (!Object.hasOwn(cnf, 'x5t#S256')) return undefined;
  const x5t = (cnf as Record<string, unknown>)['x5t#S256'];
  if (!isThumbprint(x5t)) throw invalid(`claim cnf["x5t#S256"] is ${describeForLog(x5t)}, not a base64url SHA-256 thumbprint (43 characters)`);
  return Object.freeze({ x5tS256: x5t });
}
