/**
 * The `dpop` option of the interceptor (RFC 9449 DPoP on gRPC), checked and compiled once.
 */
import { randomBytes } from 'node:crypto';
import { AuthConfigError } from '../errors/config-error.ts';
import { checkOptionNames, isRecord, optionNames, optionalSeconds } from '../util/option-checks.ts';
import { compileOrigins } from './htu.ts';

/**
 * The algorithms a DPoP proof may be signed with: asymmetric only (a proof carries its public key; a
 * shared secret in a header would be no proof at all).
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type DpopAlgorithm } from 'grpc-jwt-auth';
 * const algorithms: readonly DpopAlgorithm[] = ['ES256', 'EdDSA'];
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], dpop: { origins: ['https://orders.example'], algorithms } });
 * ```
 */
export type DpopAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'Ed25519' | 'PS256' | 'PS384' | 'PS512' | 'RS256' | 'RS384' | 'RS512';

/** Every {@link DpopAlgorithm}, for the option check. */
export const DPOP_ALGORITHMS: readonly DpopAlgorithm[] = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];

/** The FAPI 2.0 set: what current clients sign with. */
export const DEFAULT_DPOP_ALGORITHMS: readonly DpopAlgorithm[] = ['ES256', 'EdDSA', 'PS256'];

/**
 * DPoP (RFC 9449) on the server: calls may send `authorization: DPoP <token>` with a `dpop` metadata
 * proof, and tokens bound to a key (`cnf.jkt`) are admitted only with a proof signed by that key.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type DpopOptions } from 'grpc-jwt-auth';
 * const dpop: DpopOptions = { origins: ['https://orders.example', 'https://orders.internal:8443'], nonce: { secret: process.env.DPOP_NONCE_SECRET! } };
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], dpop });
 * ```
 */
export interface DpopOptions {
  /**
   * The absolute origins clients address this service by (`https://orders.example`,
   * `https://orders.internal:8443`): a proof's `htu` must name one of them plus the called method path.
   * Required. Never taken from the call's `:authority`, which the client chooses: a proof made for
   * another service could then be replayed here.
   */
  readonly origins: readonly string[];
  /** The algorithms proofs may use. Default `['ES256', 'EdDSA', 'PS256']`; asymmetric only. */
  readonly algorithms?: readonly DpopAlgorithm[];
  /** How old a proof may be (from its `iat`), in seconds, without nonces: from 1 to 600, default 60. */
  readonly proofMaxAge?: number;
  /** Clock skew tolerated for a proof's `iat`, in seconds: from 0 to 60, default 10. */
  readonly clockTolerance?: number;
  /**
   * Server nonces (RFC 9449 §9): every proof must carry a recent nonce the server issued (sent in the
   * `dpop-nonce` response metadata), so a proof cannot be made ahead of time. `true`: a random secret of
   * this process, shared by every verifier in it (one replica only). `{ secret }` (at least 32 bytes): shared by every replica, no store
   * needed. Off by default.
   */
  readonly nonce?:
    | true
    | {
        /** The secret nonces are derived from: at least 32 bytes, the same on every replica, kept like a key. */
        readonly secret: string | Uint8Array;
      };
}

/** {@link DpopOptions} as the verifier uses them. */
export interface CompiledDpopOptions {
  readonly origins: ReadonlySet<string>;
  readonly algorithms: ReadonlySet<DpopAlgorithm>;
  /** Seconds. */
  readonly proofMaxAge: number;
  /** Seconds. */
  readonly clockTolerance: number;
  /** The nonce secret; undefined when nonces are off. */
  readonly nonceSecret: Uint8Array | undefined;
}

/** Names of every option of {@link DpopOptions}. */
export const DPOP_OPTION_NAMES = optionNames<DpopOptions>({ origins: true, algorithms: true, proofMaxAge: true, clockTolerance: true, nonce: true });

const MIN_SECRET_BYTES = 32;
/** The secret of `nonce: true`, drawn once per process on first use. */
let processSecret: Uint8Array | undefined;

function processNonceSecret(): Uint8Array {
  processSecret ??= randomBytes(MIN_SECRET_BYTES);
  // A copy: compiled options are handed around, and nobody may change the process's nonces through them.
  return Uint8Array.prototype.slice.call(processSecret);
}

function compileAlgorithms(value: unknown, option: string): ReadonlySet<DpopAlgorithm> {
  if (value === undefined) return new Set(DEFAULT_DPOP_ALGORITHMS);
  if (!Array.isArray(value) || value.length === 0) throw new AuthConfigError(option, `expected a non-empty list of ${DPOP_ALGORITHMS.join(', ')}`);
  value.forEach((alg: unknown, index) => {
    if (!(DPOP_ALGORITHMS as readonly unknown[]).includes(alg)) {
      throw new AuthConfigError(
        `${option}[${index}]`,
        `${JSON.stringify(alg)} is not a DPoP algorithm: one of ${DPOP_ALGORITHMS.join(', ')} (asymmetric only)`,
      );
    }
  });
  return new Set(value as DpopAlgorithm[]);
}

function compileNonce(value: unknown, option: string): Uint8Array | undefined {
  if (value === undefined) return undefined;
  // One process: nobody else must derive these nonces, and nobody else needs to. One secret for every
  // verifier of the process: two servers (or a server and its token endpoint) on one origin would
  // otherwise refuse each other's nonces, and a client would pay a use_dpop_nonce retry on every switch.
  if (value === true) return processNonceSecret();
  if (!isRecord(value)) throw new AuthConfigError(option, 'expected true or { secret } (a string or bytes, at least 32 bytes)');
  checkOptionNames(value, new Set(['secret']), option);
  const { secret } = value;
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret instanceof Uint8Array ? secret : undefined;
  // The secret is never echoed: only its length is named.
  if (bytes === undefined || bytes.length < MIN_SECRET_BYTES) {
    throw new AuthConfigError(`${option}.secret`, `expected a string or bytes of at least ${MIN_SECRET_BYTES} bytes, shared by every replica`);
  }
  return Uint8Array.prototype.slice.call(bytes);
}

/**
 * Checks the `dpop` option and compiles it. Every mistake throws an {@link AuthConfigError} naming the
 * option (`dpop.origins[1]`, `dpop.nonce.secret`).
 *
 * @example
 * ```ts
 * const compiled = compileDpopOptions({ origins: ['https://orders.example'] }, 'dpop');
 * compiled.proofMaxAge; // 60
 * compileDpopOptions({ origins: [] }, 'dpop'); // throws AuthConfigError('dpop.origins', ...)
 * ```
 */
export function compileDpopOptions(options: unknown, option = 'dpop'): CompiledDpopOptions {
  checkOptionNames(options, DPOP_OPTION_NAMES, option);
  return {
    origins: compileOrigins(options.origins, `${option}.origins`),
    algorithms: compileAlgorithms(options.algorithms, `${option}.algorithms`),
    proofMaxAge: optionalSeconds(options.proofMaxAge, `${option}.proofMaxAge`, 1, 600) ?? 60,
    clockTolerance: optionalSeconds(options.clockTolerance, `${option}.clockTolerance`, 0, 60) ?? 10,
    nonceSecret: compileNonce(options.nonce, `${option}.nonce`),
  };
}
