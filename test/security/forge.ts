/**
 * Forgery kit for the attack suite: builds compact tokens with any header, payload and signature bytes,
 * signed (or not) with whatever key an attacker would try. Uses node:crypto directly because forgeries
 * must be exactly what we say, not what a careful library would agree to produce.
 */
import { createHmac, sign, type KeyObject } from 'node:crypto';

export const b64u = (value: unknown): string =>
  (value instanceof Uint8Array ? Buffer.from(value) : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))).toString('base64url');

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A compact token from raw parts: header and payload are JSON-encoded unless already strings. */
export function compact(header: unknown, payload: unknown, signature: Uint8Array | string = ''): string {
  const signaturePart = typeof signature === 'string' ? signature : b64u(signature);
  return `${b64u(header)}.${b64u(payload)}.${signaturePart}`;
}

/** The signing input of a token, as a signer sees it. */
export function signingInput(header: unknown, payload: unknown): Buffer {
  return Buffer.from(`${b64u(header)}.${b64u(payload)}`);
}

const HASH: Record<string, string> = {
  HS256: 'sha256',
  HS384: 'sha384',
  HS512: 'sha512',
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

/** An HMAC token keyed by any bytes (the classic confusion attack uses the public key as the secret). */
export function hmacToken(alg: 'HS256' | 'HS384' | 'HS512', secret: Uint8Array | string, header: Record<string, unknown>, payload: unknown): string {
  const fullHeader = { alg, ...header };
  const mac = createHmac(HASH[alg] as string, secret)
    .update(signingInput(fullHeader, payload))
    .digest();
  return compact(fullHeader, payload, mac);
}

/** An RSA PKCS#1 v1.5 or ECDSA token signed with a private key, ECDSA in JOSE (r||s) or DER form. */
export function keyToken(
  alg: string,
  privateKey: KeyObject,
  header: Record<string, unknown>,
  payload: unknown,
  dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363',
): string {
  const fullHeader = { alg, ...header };
  const input = signingInput(fullHeader, payload);
  const signature = alg === 'EdDSA' ? sign(null, input, privateKey) : sign(HASH[alg] as string, input, { key: privateKey, dsaEncoding });
  return compact(fullHeader, payload, signature);
}

/** Standard claims that pass every check of the targets, so only the attack decides. */
export function goodClaims(issuer: string, audience: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return { iss: issuer, aud: audience, sub: 'attacker', iat: now, exp: now + 600, ...extra };
}

/** Flips one bit of a base64url segment's decoded bytes and re-encodes it. */
export function flipBit(segment: string, bit: number): string {
  const bytes = Buffer.from(segment, 'base64url');
  const index = Math.floor(bit / 8) % bytes.length;
  bytes[index] = (bytes[index] as number) ^ (1 << (bit % 8));
  return bytes.toString('base64url');
}

/** A token over arbitrary payload bytes, signed with an HMAC secret or a private key. */
export function rawToken(alg: 'HS256' | 'RS256', key: Uint8Array | KeyObject, header: Record<string, unknown>, payload: string | Uint8Array): string {
  const fullHeader = { alg, ...header };
  const input = Buffer.from(`${b64u(fullHeader)}.${Buffer.from(payload).toString('base64url')}`);
  const signature =
    alg === 'HS256'
      ? createHmac('sha256', key as Uint8Array)
          .update(input)
          .digest()
      : sign('sha256', input, key as KeyObject);
  return `${input.toString()}.${b64u(signature)}`;
}
