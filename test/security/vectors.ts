/**
 * Conformance harness: public JOSE test vectors (Wycheproof, RFC 7520, RFC 8037, RFC 7797, copied into
 * test/fixtures/vectors/) run through OUR signature layer — the strict compact format check, the header
 * policy, our key resolvers and `verifySignature` — not through jose directly. Most Wycheproof payloads
 * are the bytes `foo`, not a claims set, so the claim checks are out of scope here. Wycheproof's raw
 * EdDSA set (`ed25519_test.json`) is not JWS: its keys go through our resolvers, its signatures through
 * the key material they hand to jose. The Ed25519 key vectors below serve it and the key-hygiene tests.
 */
import { readFileSync } from 'node:fs';
import { fromJwks, fromSecret, AuthConfigError, AuthError, SUPPORTED_ALGORITHMS, type KeyResolver } from '../../src/index.ts';
import { decodeJsonObject, splitCompactToken } from '../../src/verify/compact.ts';
import { verifySignature } from '../../src/verify/signature.ts';

/** A JWK as found in a vector file. */
export type Jwk = Readonly<Record<string, unknown>>;

/** How our layer answered: accepted, or refused with our error code (or `KEY_REFUSED` when no key could be configured). */
export type Verdict = { readonly accepted: true } | { readonly accepted: false; readonly code: string; readonly why: string };

const FIXTURES = new URL('../fixtures/vectors/', import.meta.url);

/** Reads a vector file under test/fixtures/vectors/. */
export function loadVector<T = any>(relative: string): T {
  return JSON.parse(readFileSync(new URL(relative, FIXTURES), 'utf8')) as T;
}

// What a verifier never holds: private RSA/EC/OKP members. (`k` is the whole of an oct key, kept apart.)
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

/** The public part of a JWK, as an identity provider would publish it. */
export function publicPart(jwk: Jwk): Jwk {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name)));
}

/** The keys configured, or why the configuration itself was refused (then nothing can verify). */
export type Keys = { readonly resolver: KeyResolver } | { readonly refused: string };

/**
 * The resolver a user of this library would configure for these keys: `fromSecret` (k decoded from
 * base64url, keyed by kid) when every key is symmetric, otherwise `fromJwks` over the public parts, which
 * skips symmetric keys, keys with `use: "enc"` or without `verify` in `key_ops`, bad curves, small RSA.
 * Returns `undefined` for a set that cannot be expressed at all (a kid twice among secrets: a map by kid
 * has one entry per kid).
 */
export function configureKeys(jwks: readonly Jwk[]): Keys | undefined {
  try {
    if (jwks.every((jwk) => jwk.kty === 'oct')) {
      const secret = (jwk: Jwk) => Buffer.from(String(jwk.k ?? ''), 'base64url');
      if (jwks.length === 1 && typeof jwks[0]?.kid !== 'string') return { resolver: fromSecret(secret(jwks[0] as Jwk)) };
      const byKid: Record<string, Uint8Array> = {};
      for (const jwk of jwks) {
        const kid = String(jwk.kid);
        if (Object.hasOwn(byKid, kid)) return undefined;
        byKid[kid] = secret(jwk);
      }
      return { resolver: fromSecret(byKid) };
    }
    return { resolver: fromJwks({ keys: jwks.map(publicPart) }) };
  } catch (error) {
    if (error instanceof AuthConfigError) return { refused: error.message };
    throw error;
  }
}

/**
 * The widest `algorithms` option these keys accept. Verifying under the widest allowlist means no
 * rejection below comes from a narrow configuration: the key layer itself must refuse the wrong ones.
 */
export function widestAllowlist(resolver: KeyResolver): string[] {
  return SUPPORTED_ALGORITHMS.filter((alg) => {
    try {
      resolver.checkAlgorithms([alg], 'algorithms');
      return true;
    } catch {
      return false;
    }
  });
}

/** Runs one compact JWS through the format check, header policy, key lookup and signature check. */
export async function verifyCompact(token: string, keys: Keys): Promise<Verdict> {
  if ('refused' in keys) return { accepted: false, code: 'KEY_REFUSED', why: keys.refused };
  try {
    // 1 MiB, the largest maxTokenBytes allowed: the size cap is tested elsewhere, not by vectors.
    const segments = splitCompactToken(token, 1024 * 1024);
    const header = decodeJsonObject(segments.header, 'header');
    await verifySignature(token, header, { algorithms: new Set(widestAllowlist(keys.resolver)), typ: undefined }, keys.resolver, (key) => key);
    return { accepted: true };
  } catch (error) {
    if (error instanceof AuthError) return { accepted: false, code: error.code, why: error.message };
    throw error;
  }
}

/** A JSON-serialized JWS signature (RFC 7515 §7.2) as a compact token, when it has one (a protected header). */
export function compactOf(payload: string, signature: { readonly protected?: string; readonly signature: string }): string | undefined {
  if (signature.protected === undefined) return undefined;
  return `${signature.protected}.${payload}.${signature.signature}`;
}

// Ed25519 public keys (RFC 8032 §5.1.2 encodings, hex) that must never verify anything.
// The eight points of order 1, 2, 4 and 8, canonically encoded: with such a key A, [h]A is one of these
// points for every message hash h, so a signature with S = 0 and a small-order R verifies, without any
// private key, for about one message in eight (h hashes R too, so each try is a fresh draw).
export const ED25519_SMALL_ORDER = {
  'identity (order 1)': '0100000000000000000000000000000000000000000000000000000000000000',
  '(0, -1) (order 2)': 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'y = 0, all zero (order 4)': '0000000000000000000000000000000000000000000000000000000000000000',
  'y = 0, sign bit set (order 4)': '0000000000000000000000000000000000000000000000000000000000000080',
  'order 8, first point': 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'order 8, first point negated': 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  'order 8, second point': '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'order 8, second point negated': '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
} as const;
// Encodings a conforming decoder refuses (RFC 8032 §5.1.3): y ≥ p = 2^255 - 19, or x = 0 with the sign
// bit set. Several decode, leniently, to small-order points; all give one key several spellings.
export const ED25519_NON_CANONICAL = {
  'y = p (≡ 0)': 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'y = p, sign bit set': 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'y = p + 1 (≡ 1)': 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'y = p + 1, sign bit set': 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'y = p + 3': 'f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'y = 2^255 - 1': 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'x = 0 (y = 1) with the sign bit set': '0100000000000000000000000000000000000000000000000000000000000080',
  'x = 0 (y = -1) with the sign bit set': 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
} as const;

const P = (1n << 255n) - 19n;

/**
 * What is wrong with a raw Ed25519 public key (hex), judged by the lists above and the plain rules of
 * RFC 8032 §5.1.3 — independently of the library's own check, which the tests compare against it.
 */
export function ed25519Flaw(hex: string): 'small order' | 'non-canonical' | undefined {
  const bytes = Buffer.from(hex, 'hex');
  const signBit = ((bytes[31] ?? 0) & 0x80) !== 0;
  bytes[31] = (bytes[31] ?? 0) & 0x7f;
  const y = BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
  if (y >= P || (signBit && (y === 1n || y === P - 1n))) return 'non-canonical';
  return (Object.values(ED25519_SMALL_ORDER) as string[]).includes(hex.toLowerCase()) ? 'small order' : undefined;
}
