/**
 * Keys that must never verify anything, whoever publishes them: an RSA public exponent of 1 (every
 * "signature" is the padded digest, so anyone forges tokens) or an even one, ROCA moduli
 * (CVE-2017-15361, the private key is computable), and Ed25519 public keys of small order or in a
 * non-canonical encoding (a signature with S = 0 verifies for a fixed share of all messages). Refused by
 * every key source (local JWKS, PEM), and skipped with a `keySkipped` event in a remote JWKS or a
 * discovered one, so no configuration can slip one in.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { SignJWT, jwtVerify } from 'jose';
import { AuthConfigError, createAuthInterceptor, createAuthenticator, fromIssuer, fromJwks, fromPem, type KeyResolver } from '../../src/index.ts';
import { importJwks } from '../../src/keys/jwk.ts';
import { hasRocaFingerprint } from '../../src/keys/rsa-key-checks.ts';
import { unary } from '../support/calls.ts';
import { startEchoServer } from '../support/echo-server.ts';
import { json, startFakeProvider } from '../support/fake-provider.ts';
import { eventLog } from '../support/remote-keys.ts';
import { compact, goodClaims, keyToken } from './forge.ts';
import { bearer } from './targets.ts';
import { ED25519_NON_CANONICAL as NON_CANONICAL, ED25519_SMALL_ORDER as SMALL_ORDER, loadVector, publicPart, type Jwk } from './vectors.ts';

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

const okpJwk = (hex: string, kid?: string): Jwk => ({ kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url'), ...(kid ? { kid } : {}) });
const ed25519Pem = (hex: string): string =>
  createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' }).export({
    type: 'spki',
    format: 'pem',
  }) as string;
const refusedAs = (option: string, reason: RegExp) => (error: unknown) =>
  error instanceof AuthConfigError && error.option === option && reason.test(error.message);

/**
 * Tokens `sub: admin` signed by nobody: R = the identity point, S = 0, and `jti` varied until one passes
 * jose with the key as node imports it. That KeyObject is what our resolvers handed jose before they
 * checked Ed25519 keys, so each token returned is a forgery today's code path would have admitted.
 */
async function forgeAgainst(jwk: Jwk, issuer: string, audience: string, header: Record<string, unknown>, wanted: number): Promise<string[]> {
  const key: KeyObject = createPublicKey({ key: jwk as never, format: 'jwk' });
  const signature = Buffer.concat([Buffer.from(SMALL_ORDER['identity (order 1)'], 'hex'), Buffer.alloc(32)]);
  const forged: string[] = [];
  for (let jti = 0; jti < 400 && forged.length < wanted; jti++) {
    const token = compact({ alg: 'EdDSA', ...header }, goodClaims(issuer, audience, { sub: 'admin', jti: `forged-${jti}` }), signature);
    try {
      await jwtVerify(token, key, { algorithms: ['EdDSA'], issuer, audience });
      forged.push(token);
    } catch {
      // This hash missed the identity; the next jti is another try (one in four hits for this key).
    }
  }
  assert.equal(forged.length, wanted, 'forgeries found against the key as node imports it');
  return forged;
}

describe('key hygiene: Ed25519 keys of small order or non-canonical encoding', () => {
  it('all-zero x: S = 0 forgeries pass jose with the key as imported; fromJwks (remote) and fromIssuer skip it, and no forgery passes a real gRPC call', async () => {
    const provider = await startFakeProvider();
    const issuer = provider.url;
    const audience = 'orders-api';
    const good = generateKeyPairSync('ed25519');
    const zero = okpJwk(SMALL_ORDER['y = 0, all zero (order 4)'], 'zero');
    provider.on('/jwks.json', json({ keys: [zero, { ...good.publicKey.export({ format: 'jwk' }), kid: 'good' }] }));
    provider.on('/.well-known/openid-configuration', json({ issuer, jwks_uri: `${issuer}/jwks.json` }));
    const forged = [
      ...(await forgeAgainst(zero, issuer, audience, { kid: 'zero' }, 3)),
      // Without kid the only key that fits is the good one: these must fail on its signature check.
      ...(await forgeAgainst(zero, issuer, audience, {}, 2)),
    ];
    const configurations: Array<[string, (log: ReturnType<typeof eventLog>) => KeyResolver]> = [
      ['fromJwks(url)', (log) => fromJwks(`${issuer}/jwks.json`, { onEvent: log.listener })],
      ['fromIssuer(url)', (log) => fromIssuer(issuer, { onEvent: log.listener })],
    ];
    try {
      for (const [name, keys] of configurations) {
        const log = eventLog();
        const auth = createAuthInterceptor({ keys: keys(log), algorithms: ['EdDSA'], issuer, audience });
        const echo = await startEchoServer({ interceptors: [auth] });
        try {
          await auth.ready();
          for (const token of forged) {
            const outcome = await unary(echo.client, bearer(token));
            assert.equal(outcome.code, grpc.status.UNAUTHENTICATED, `${name}: forged token with S = 0 admitted (status ${outcome.code})`);
          }
          assert.equal(echo.runs.unary, 0, `${name}: no handler ran`);
          // Reported at each fetch of the set (the forged kid "zero" is unknown: it costs one refetch).
          const skipped = log.of('keySkipped');
          assert.ok(skipped.length > 0, name);
          assert.equal(skipped.length, log.of('fetched').filter((event) => event.document === 'jwks').length, name);
          for (const event of skipped) {
            assert.deepEqual([event.kid, event.index], ['zero', 0], name);
            assert.match(event.reason, /small order/, name);
          }
          const genuine = keyToken('EdDSA', good.privateKey, { kid: 'good' }, goodClaims(issuer, audience));
          assert.equal((await unary(echo.client, bearer(genuine))).code, grpc.status.OK, `${name}: the good key keeps working`);
        } finally {
          auth.close();
          await echo.close();
        }
      }
    } finally {
      await provider.close();
    }
  });

  it('all-zero x: fromJwks (local) and fromPem refuse it with an AuthConfigError naming the option', () => {
    const zero = okpJwk(SMALL_ORDER['y = 0, all zero (order 4)']);
    assert.throws(() => fromJwks({ keys: [zero] }), refusedAs('jwks', /small order/));
    assert.throws(() => fromPem(ed25519Pem(SMALL_ORDER['y = 0, all zero (order 4)'])), refusedAs('pem', /small order/));
    assert.throws(() => fromPem({ 'ed-1': ed25519Pem(SMALL_ORDER['y = 0, all zero (order 4)']) }), refusedAs('pem["ed-1"]', /small order/));
  });

  for (const [name, hex] of Object.entries(SMALL_ORDER)) {
    it(`small order, ${name}: refused by fromJwks and fromPem`, () => {
      assert.throws(() => fromJwks({ keys: [okpJwk(hex, 'k')] }), refusedAs('jwks', /small order/));
      assert.throws(() => fromPem({ k: ed25519Pem(hex) }), refusedAs('pem["k"]', /small order/));
    });
  }

  for (const [name, hex] of Object.entries(NON_CANONICAL)) {
    it(`non-canonical, ${name}: refused by fromJwks and fromPem`, () => {
      assert.throws(() => fromJwks({ keys: [okpJwk(hex, 'k')] }), refusedAs('jwks', /non-canonical/));
      assert.throws(() => fromPem({ k: ed25519Pem(hex) }), refusedAs('pem["k"]', /non-canonical/));
    });
  }

  it('a refused Ed25519 key beside a good one is skipped with its reason; the good one keeps working', () => {
    const good = { ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'good' };
    const set = { keys: [okpJwk(SMALL_ORDER['order 8, first point'], 'bad'), good] };
    const { skipped } = importJwks(set);
    assert.deepEqual(
      skipped.map(({ kid, index }) => [kid, index]),
      [['bad', 0]],
    );
    assert.match(skipped[0]?.reason ?? '', /small order/);
    const resolver = fromJwks(set);
    assert.throws(() => resolver.getKeys({ alg: 'EdDSA', kid: 'bad' }), { code: 'ERR_AUTH_KEY_NOT_FOUND' });
    assert.equal((resolver.getKeys({ alg: 'EdDSA', kid: 'good' }) as readonly unknown[]).length, 1);
  });

  it('ordinary Ed25519 keys pass: freshly generated ones and the RFC 8037 key', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey } = generateKeyPairSync('ed25519');
      assert.doesNotThrow(() => fromJwks({ keys: [publicKey.export({ format: 'jwk' })] }));
      assert.doesNotThrow(() => fromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string));
    }
    assert.doesNotThrow(() => fromJwks({ keys: [publicPart(loadVector('jose-cookbook/curve25519/jws.json').input.key)] }));
  });
});
