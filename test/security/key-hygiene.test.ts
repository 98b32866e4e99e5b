/**
 * Keys that must never verify anything, whoever publishes them: an RSA public exponent of 1 (every
 * "signature" is the padded digest, so anyone forges tokens) or an even one, and ROCA moduli
 * (CVE-2017-15361, the private key is computable). Found by the Wycheproof JWK set; refused by every
 * key source (local JWKS, PEM), so a remote JWKS or discovery document cannot slip one in either.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { AuthConfigError, createAuthenticator, fromJwks, fromPem } from '../../src/index.ts';
import { hasRocaFingerprint } from '../../src/keys/rsa-key-checks.ts';
import { loadVector, publicPart, type Jwk } from './vectors.ts';

const wycheproofKey = (comment: string): Jwk => {
  const group = loadVector('wycheproof/json_web_key_test.json').testGroups.find((g: any) => g.comment === comment);
  return publicPart(group.public.keys[0]);
};
const pemOf = (jwk: Jwk): string => createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;

/** A PKCS#1 v1.5 SHA-256 "signature" that verifies under e = 1: the encoded message itself. */
function forgeForExponentOne(jwk: Jwk, signingInput: string): Buffer {
  const length = Buffer.from(String(jwk.n), 'base64url').length;
  const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(signingInput).digest()]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(length - digestInfo.length - 3, 0xff), Buffer.from([0]), digestInfo]);
}

describe('key hygiene: RSA keys that must not verify', () => {
  it('public exponent 1: the forgery is real, and fromJwks and fromPem refuse the key', () => {
    const jwk = wycheproofKey('exponentOne');
    const input = `${Buffer.from('{"alg":"RS256","kid":"RS256_2048"}').toString('base64url')}.${Buffer.from('{"sub":"admin"}').toString('base64url')}`;
    // Without our check, a plain verifier accepts a signature made without any private key.
    assert.equal(verify('sha256', Buffer.from(input), createPublicKey({ key: jwk as never, format: 'jwk' }), forgeForExponentOne(jwk, input)), true);
    assert.throws(
      () => fromJwks({ keys: [jwk] }),
      (error: unknown) => error instanceof AuthConfigError && /exponent 1/.test(error.message),
    );
    assert.throws(
      () => fromPem({ k: pemOf(jwk) }),
      (error: unknown) => error instanceof AuthConfigError && /exponent 1/.test(error.message),
    );
  });

  it('ROCA modulus: fromJwks and fromPem refuse the key', () => {
    const jwk = wycheproofKey('jws_rsa_roca_key');
    assert.throws(
      () => fromJwks({ keys: [jwk] }),
      (error: unknown) => error instanceof AuthConfigError && /ROCA/.test(error.message),
    );
    assert.throws(
      () => fromPem(pemOf(jwk)),
      (error: unknown) => error instanceof AuthConfigError && /ROCA/.test(error.message),
    );
  });

  it('a weak key beside a good one is skipped; the good one keeps working', () => {
    const good = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'good' };
    const resolver = fromJwks({ keys: [wycheproofKey('exponentOne'), wycheproofKey('jws_rsa_roca_key'), good] });
    assert.doesNotThrow(() => resolver.checkAlgorithms(['RS256'], 'algorithms'));
    assert.throws(() => resolver.getKeys({ alg: 'RS256', kid: 'RS256_2048' }), /ERR_AUTH_KEY_NOT_FOUND|no key/);
  });

  it('ordinary keys pass: fresh RSA moduli carry no ROCA fingerprint, e = 3 and 65537 are accepted', () => {
    for (let i = 0; i < 3; i++) {
      assert.doesNotThrow(() => fromPem(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string));
    }
    assert.doesNotThrow(() =>
      fromPem(generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey.export({ type: 'spki', format: 'pem' }) as string),
    );
    // A random odd number is not fingerprinted; the Wycheproof ROCA modulus is.
    assert.equal(hasRocaFingerprint((1n << 2047n) + 12345n), false);
    assert.equal(hasRocaFingerprint(BigInt(`0x${Buffer.from(String(wycheproofKey('jws_rsa_roca_key').n), 'base64url').toString('hex')}`)), true);
  });
});

describe('key hygiene: RSA-PSS-restricted keys', () => {
  // jose cannot verify with such a key: taken, it turned every token, valid or forged, into INTERNAL.
  const pssSpki = (options: object = {}) =>
    generateKeyPairSync('rsa-pss', { modulusLength: 2048, ...options }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

  it('refused at construction with a message that says what to publish instead, restricted to a hash or not', () => {
    for (const pem of [pssSpki(), pssSpki({ hashAlgorithm: 'sha256', mgf1HashAlgorithm: 'sha256', saltLength: 32 })]) {
      assert.throws(
        () => fromPem({ 'pss-key': pem }),
        (error: unknown) =>
          error instanceof AuthConfigError && error.option === 'pem["pss-key"]' && /RSA-PSS-restricted.*rsaEncryption.*PS256/.test(error.message),
      );
    }
  });

  it('the same modulus as a plain rsaEncryption key verifies PS256 tokens', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'PS256' }).setIssuedAt().setExpirationTime('5m').sign(privateKey);
    const authenticator = createAuthenticator({
      keys: fromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string),
      algorithms: ['PS256'],
      cache: false,
    });
    assert.equal((await authenticator.authenticate(token, '/test.echo.v1.Echo/Unary')).context.subject, 'alice');
  });
});
