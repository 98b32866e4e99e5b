import { createPublicKey } from 'node:crypto';
import { isRecord } from '../util/option-checks.ts';
import { algorithmsForPublicKey, isSupportedAlgorithm } from './key-algorithms.ts';
import type { VerificationKey } from './resolver.ts';
import { PublicVerificationKey } from './verification-key.ts';

/**
 * A key of a JWKS that was not taken, and why (for logs and the `keySkipped` event).
 *
 * @example
 * ```ts
 * import type { SkippedKey } from './jwk.ts';
 * const skipped: SkippedKey[] = importJwks({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'hs' }] }).skipped;
 * for (const { kid, index, reason } of skipped) console.warn(`key ${index} (${kid}) skipped: ${reason}`);
 * ```
 */
export interface SkippedKey {
  /** The key's `kid`, when it had a string one. */
  readonly kid: string | undefined;
  /** Its position in the set's `keys` array. */
  readonly index: number;
  /** Why it was skipped, e.g. `use is "enc"`. */
  readonly reason: string;
}

/** The usable keys of a JWKS and the ones skipped. */
interface ImportedKeySet {
  readonly keys: VerificationKey[];
  readonly skipped: SkippedKey[];
}

// Members that only private or symmetric keys have. A JWKS that publishes them is misconfigured, and a
// verifier should neither need nor hold them.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const ASYMMETRIC_KTY = new Set(['RSA', 'EC', 'OKP']);
// The key operations of a signature key pair (RFC 7517 §4.3 names them as the pair that belongs together).
const SIGNATURE_OPERATIONS: ReadonlySet<unknown> = new Set(['sign', 'verify']);

/**
 * Why `key_ops` forbids verifying with this key, or undefined when it allows it (or is absent). RFC 7517
 * §4.3: an array of case-sensitive strings, none repeated; jose refuses a key that breaks this too. A
 * malformed list is not read leniently: what a publisher meant by it is unknown. Operations other than
 * signing are refused as well: with `use: "sig"` they contradict it, and a key that also decrypts or
 * unwraps is one whose holder may act as a signing oracle (for RSA, c^d is a signature).
 */
function keyOpsProblem(keyOps: unknown): string | undefined {
  if (keyOps === undefined) return undefined;
  if (!Array.isArray(keyOps)) return 'key_ops is not an array';
  // Array.from reads a hole as undefined, which the string check below refuses.
  const operations: unknown[] = Array.from(keyOps);
  if (operations.some((operation) => typeof operation !== 'string')) return 'key_ops holds a value that is not a string';
  if (new Set(operations).size !== operations.length) return 'key_ops repeats a value';
  if (!operations.includes('verify')) return 'key_ops does not include "verify"';
  const other = operations.find((operation) => !SIGNATURE_OPERATIONS.has(operation));
  if (other !== undefined) return `key_ops also allows ${JSON.stringify(other)}: a verification key must serve signatures only`;
  return undefined;
}

/** Why this JWK must not verify signatures, or the algorithms it may verify. */
function judgeJwk(jwk: Record<string, unknown>): string | { algorithms: Set<string>; key: ReturnType<typeof createPublicKey> } {
  if (typeof jwk.kty !== 'string') return 'kty is missing';
  if (jwk.kty === 'oct') return 'symmetric (oct) keys are not taken from a JWKS; use fromSecret';
  if (!ASYMMETRIC_KTY.has(jwk.kty)) return `kty ${JSON.stringify(jwk.kty)} is not supported`;
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return 'kid is not a string';
  if (jwk.use !== undefined && jwk.use !== 'sig') return `use is ${JSON.stringify(jwk.use)}, not "sig"`;
  const keyOps = keyOpsProblem(jwk.key_ops);
  if (keyOps !== undefined) return keyOps;
  // WebCrypto's extractable flag; jose refuses a key whose ext is not a boolean, and so do we.
  if (jwk.ext !== undefined && typeof jwk.ext !== 'boolean') return 'ext is not a boolean';
  const privateMember = PRIVATE_MEMBERS.find((name) => Object.hasOwn(jwk, name));
  if (privateMember !== undefined) return `holds private key material (${privateMember})`;
  if (jwk.alg !== undefined && !isSupportedAlgorithm(jwk.alg)) return `alg ${JSON.stringify(jwk.alg)} is not supported`;
  let key;
  let algorithms;
  try {
    key = createPublicKey({ key: jwk as never, format: 'jwk' });
    algorithms = algorithmsForPublicKey(key);
  } catch (cause) {
    return (cause as Error).message;
  }
  if (typeof jwk.alg === 'string') {
    // A published alg pins the key to that one algorithm (RFC 7517 §4.4).
    if (!algorithms.has(jwk.alg)) return `alg ${jwk.alg} does not fit a ${jwk.kty} key`;
    algorithms = new Set([jwk.alg]);
  }
  return { algorithms, key };
}

/**
 * Imports the verification keys of a JWKS document. Keys that must not or cannot verify signatures are
 * skipped with a reason instead of failing the whole set: one broken key beside good ones must not take
 * a service down. Throws only when the document is not a key set at all.
 *
 * @example
 * ```ts
 * const response = await fetch('https://idp.example/jwks.json');
 * const { keys, skipped } = importJwks(await response.json());
 * ```
 */
export function importJwks(document: unknown): ImportedKeySet {
  if (!isRecord(document) || !Array.isArray(document.keys)) throw new TypeError('not a JWK set: expected an object with a "keys" array');
  const keys: VerificationKey[] = [];
  const skipped: SkippedKey[] = [];
  document.keys.forEach((jwk: unknown, index) => {
    if (!isRecord(jwk)) {
      skipped.push({ kid: undefined, index, reason: 'not a JSON object' });
      return;
    }
    const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
    const verdict = judgeJwk(jwk);
    if (typeof verdict === 'string') skipped.push({ kid, index, reason: verdict });
    else keys.push(new PublicVerificationKey(verdict.key, kid, verdict.algorithms));
  });
  return { keys, skipped };
}
