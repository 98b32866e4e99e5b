/**
 * Server nonces for DPoP (RFC 9449 §8, §9): stateless, derived from a secret and the time step, so
 * replicas that share the secret agree without a store.
 */
import { hkdfSync, timingSafeEqual } from 'node:crypto';

/** One nonce per minute. */
const STEP = 60;
/** Steps accepted around the current one: the nonce issued now (`step + 1`) stays valid for about four minutes. */
const ACCEPTED_STEPS = [-2, -1, 0, 1, 2] as const;
/**
 * How long a proof that carries a valid nonce can be accepted, in seconds: five steps. The `iat` of such a
 * proof may be this far from the server's clock (the nonce is the freshness proof), and its `jti` is
 * remembered this long.
 */
export const NONCE_WINDOW = STEP * ACCEPTED_STEPS.length;

/** Separates these keys from anything else derived from the same secret. */
const INFO = 'grpc-jwt-auth DPoP nonce v1';

/**
 * The nonce source of one server.
 *
 * @example
 * ```ts
 * const nonces: DpopNonces = createDpopNonces(new Uint8Array(32), Date.now);
 * nonces.check(nonces.current()); // true
 * ```
 */
export interface DpopNonces {
  /** The nonce clients should use next (43 base64url characters). */
  current(): string;
  /** True when `nonce` is one of the nonces of the accepted steps. Constant time per candidate. */
  check(nonce: string): boolean;
}

function stepBytes(step: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(BigInt(step));
  return bytes;
}

/**
 * Nonces derived as base64url(HKDF-SHA256(secret, salt = the 60-second step, 32 bytes)): the nonce handed
 * out belongs to the next step and is accepted for steps −2..+2 around the current one. Nothing is stored;
 * the step is read from `clock` (milliseconds) on every use, so every replica with the secret agrees.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * const nonces = createDpopNonces(randomBytes(32), Date.now);
 * const nonce = nonces.current(); // e.g. 'q2v0Wl…', 43 characters
 * ```
 */
export function createDpopNonces(secret: Uint8Array, clock: () => number): DpopNonces {
  const key = Uint8Array.prototype.slice.call(secret);
  let step = Number.NaN;
  let values: readonly Buffer[] = [];

  function window(): readonly Buffer[] {
    const now = Math.floor(clock() / 1000 / STEP);
    if (now !== step) {
      step = now;
      values = ACCEPTED_STEPS.map((offset) => Buffer.from(hkdfSync('sha256', key, stepBytes(now + offset), INFO, 32)));
    }
    return values;
  }

  return {
    current: () => (window()[3] as Buffer).toString('base64url'),
    check(nonce) {
      if (typeof nonce !== 'string' || nonce.length !== 43) return false;
      const given = Buffer.from(nonce, 'base64url');
      // A respelling (non-canonical last character) decodes to the same bytes: compare the text too.
      if (given.length !== 32 || given.toString('base64url') !== nonce) return false;
      let matched = false;
      for (const value of window()) matched = timingSafeEqual(value, given) || matched;
      return matched;
    },
  };
}
