/**
 * Conformance harness: public JOSE test vectors (Wycheproof, RFC 7520, RFC 8037, RFC 7797, copied into
 * test/fixtures/vectors/) run through OUR signature layer — the strict compact format check, the header
 * policy, our key resolvers and `verifySignature` — not through jose directly. Most Wycheproof payloads
 * are the bytes `foo`, not a claims set, so the claim checks are out of scope here.
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
    await verifySignature(token, header, { algorithms: new Set(widestAllowlist(keys.resolver)), typ: undefined }, keys.resolver);
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
