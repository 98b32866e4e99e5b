import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createAuthenticator, fromJwks, fromPem, fromSecret, type KeyResolver } from '../../src/index.ts';
import { rsaKeyPair, selfSignedCertificate } from '../support/pem.ts';

const isConfigError = (option: string) => (error: { code?: string; option?: string }) => error.code === 'ERR_AUTH_INVALID_OPTION' && error.option === option;
const keysOf = async (resolver: KeyResolver, alg: string, kid?: string) => resolver.getKeys({ alg, kid });

describe('fromSecret', () => {
  it('refuses secrets shorter than 32 bytes, and HS384/HS512 with secrets shorter than 48/64', () => {
    assert.throws(() => fromSecret('x'.repeat(31)), isConfigError('secret'));
    assert.throws(() => fromSecret({ old: 'x'.repeat(32), new: 'short' }), isConfigError('secret["new"]'));
    assert.throws(() => fromSecret({}), isConfigError('secret'));
    assert.throws(() => fromSecret(42 as never), isConfigError('secret'));
    fromSecret('x'.repeat(48)).checkAlgorithms(['HS256', 'HS384'], 'algorithms');
    assert.throws(() => fromSecret('x'.repeat(48)).checkAlgorithms(['HS512'], 'algorithms'), isConfigError('algorithms'));
  });

  it('never serves an RS or ES algorithm, so a token cannot pick public-key verification', async () => {
    const resolver = fromSecret('x'.repeat(64));
    assert.throws(() => resolver.checkAlgorithms(['RS256'], 'algorithms'), isConfigError('algorithms'));
    await assert.rejects(async () => keysOf(resolver, 'RS256'), { code: 'ERR_AUTH_KEY_NOT_FOUND' });
  });

  it('a map by kid serves only the named key; an unknown kid is KEY_NOT_FOUND', async () => {
    const resolver = fromSecret({ a: 'a'.repeat(32), b: new Uint8Array(64) });
    assert.equal((await keysOf(resolver, 'HS256', 'a'))[0]?.kid, 'a');
    assert.equal((await keysOf(resolver, 'HS512', 'b'))[0]?.kid, 'b');
    await assert.rejects(async () => keysOf(resolver, 'HS512', 'a'), { code: 'ERR_AUTH_KEY_NOT_FOUND' }, 'a 32-byte secret never serves HS512');
    for (const kid of ['c', '__proto__', 'constructor', 'toString']) {
      await assert.rejects(async () => keysOf(resolver, 'HS256', kid), { code: 'ERR_AUTH_KEY_NOT_FOUND' });
    }
  });

  it('imports a secret once per algorithm and reuses it', async () => {
    const [key] = await keysOf(fromSecret('s'.repeat(32)), 'HS256');
    const first = await key?.material('HS256');
    assert.equal(await key?.material('HS256'), first);
  });
});

describe('fromPem', () => {
  const { publicKey, privateKey } = rsaKeyPair();
  const spki = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const pkcs1 = publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;

  it('accepts SPKI, PKCS#1 and an X.509 certificate, and verifies tokens with each', async () => {
    const certificate = selfSignedCertificate(privateKey);
    const token = await new SignJWT({ sub: 'pem', exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    for (const pem of [spki, pkcs1, certificate]) {
      const authenticator = createAuthenticator({ keys: fromPem(pem), algorithms: ['RS256', 'PS256'] });
      const { context } = await authenticator.authenticate(token, '/x.Y/Z');
      assert.equal(context.subject, 'pem');
    }
  });

  it('refuses private keys, RSA under 2048 bits, non-PEM text and HS algorithms', () => {
    assert.throws(() => fromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), isConfigError('pem'));
    assert.throws(() => fromPem(rsaKeyPair(1024).publicKey.export({ type: 'spki', format: 'pem' }) as string), isConfigError('pem'));
    assert.throws(() => fromPem('not a pem'), isConfigError('pem'));
    assert.throws(() => fromPem({ k1: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }), isConfigError('pem["k1"]'));
    assert.throws(() => fromPem(spki).checkAlgorithms(['HS256'], 'algorithms'), isConfigError('algorithms'));
  });

  it('an EC key serves only the ES algorithm of its curve; Ed25519 serves EdDSA', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    fromPem(p256).checkAlgorithms(['ES256'], 'algorithms');
    assert.throws(() => fromPem(p256).checkAlgorithms(['ES384'], 'algorithms'), isConfigError('algorithms'));
    assert.throws(() => fromPem(p256).checkAlgorithms(['RS256'], 'algorithms'), isConfigError('algorithms'));
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    fromPem(ed).checkAlgorithms(['EdDSA', 'Ed25519'], 'algorithms');
    const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    assert.throws(() => fromPem(secp256k1), isConfigError('pem'));
  });
});

describe('fromJwks (local)', () => {
  const rsa = rsaKeyPair();
  const jwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'good' };

  it('skips keys that must not verify and keeps the good one', async () => {
    const resolver = fromJwks({
      keys: [
        { ...jwk, kid: 'enc', use: 'enc' },
        { ...jwk, kid: 'no-verify', key_ops: ['sign'] },
        { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'private' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'oct' },
        { ...rsaKeyPair(1024).publicKey.export({ format: 'jwk' }), kid: 'small' },
        { ...jwk, kid: 'es-alg', alg: 'ES256' },
        { kty: 'RSA', kid: 'broken', n: 'AQAB', e: 'AQAB' },
        'not an object' as never,
        jwk,
      ],
    });
    assert.equal((await keysOf(resolver, 'RS256', 'good')).length, 1);
    for (const kid of ['enc', 'no-verify', 'private', 'oct', 'small', 'es-alg', 'broken']) {
      await assert.rejects(async () => keysOf(resolver, 'RS256', kid), { code: 'ERR_AUTH_KEY_NOT_FOUND' }, kid);
    }
  });

  it('a published alg pins the key to that algorithm', async () => {
    const resolver = fromJwks({ keys: [{ ...jwk, alg: 'PS256' }] });
    assert.equal((await keysOf(resolver, 'PS256', 'good')).length, 1);
    await assert.rejects(async () => keysOf(resolver, 'RS256', 'good'), { code: 'ERR_AUTH_KEY_NOT_FOUND' });
  });

  it('refuses a document that is not a key set, or one with no usable key', () => {
    assert.throws(() => fromJwks({ keys: 'nope' } as never), isConfigError('jwks'));
    assert.throws(() => fromJwks({ keys: [{ ...jwk, use: 'enc' }] }), isConfigError('jwks'));
  });

  it('a token without kid tries the keys that fit its algorithm', async () => {
    const other = rsaKeyPair();
    const resolver = fromJwks({ keys: [{ ...other.publicKey.export({ format: 'jwk' }) }, { ...rsa.publicKey.export({ format: 'jwk' }) }] });
    const token = await new SignJWT({ exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    const { context } = await createAuthenticator({ keys: resolver, algorithms: ['RS256'] }).authenticate(token, '/x.Y/Z');
    assert.equal(context.header.alg, 'RS256');
  });
});
