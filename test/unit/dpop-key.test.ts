/**
 * The client's DPoP key (RFC 9449 §4): proof contents, the checks of a given key pair, the nonce cache and
 * the default `htu` origin of a channel target.
 *
 * The proof-content cases are ported from panva/oauth4webapi `test/dpop.test.ts` (commit 11c0206):
 * "dpop()" (header `{ alg, typ: 'dpop+jwt' }` plus the public `jwk`, claims exactly `htu` without query and
 * fragment, `htm`, a number `iat`, a string `jti`, `ath` = base64url SHA-256 of the token) and
 * "dpop() w/ a nonce" (no nonce until the server sent one, then that nonce). Our own code, their cases.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { EmbeddedJWK, calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';
import { AuthConfigError, createDpopKey, type DpopKey } from '../../src/client/index.ts';
import { nonceFor, rememberNonce } from '../../src/client/dpop-nonces.ts';
import { defaultDpopOrigin } from '../../src/client/dpop-target.ts';

const HTU = 'https://rs.example.com/resource';

function assertConfigError(option: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof AuthConfigError, String(error));
    assert.equal(error.option, option);
    return true;
  };
}

/** Verifies a proof as a server would, with jose and the key in its own header. */
async function verified(proof: string, alg: string) {
  return jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [alg] });
}

describe('createDpopKey: proofs', () => {
  for (const alg of ['ES256', 'EdDSA', 'PS256'] as const) {
    it(`${alg}: header { typ: dpop+jwt, alg, jwk } with the public key only; the signature verifies with that jwk`, async () => {
      const key = await createDpopKey({ alg });
      assert.equal(key.alg, alg);
      const proof = await key.proof({ htu: HTU });
      const { jwk, ...header } = decodeProtectedHeader(proof);
      assert.deepEqual(header, { typ: 'dpop+jwt', alg });
      assert.deepEqual(jwk, key.publicJwk);
      const members = Object.keys(key.publicJwk).sort();
      assert.deepEqual(members, alg === 'PS256' ? ['e', 'kty', 'n'] : alg === 'ES256' ? ['crv', 'kty', 'x', 'y'] : ['crv', 'kty', 'x']);
      await verified(proof, alg);
      assert.equal(key.thumbprint, await calculateJwkThumbprint(key.publicJwk, 'sha256'));
    });
  }

  it('dpop(): claims are htu without query and fragment, htm, a numeric iat, a string jti, and ath of the token', async () => {
    const key = await createDpopKey();
    const proof = await key.proof({ htu: 'https://rs.example.com/resource?foo#bar', htm: 'GET', accessToken: 'token' });
    const { iat, jti, ath, ...claims } = decodeJwt(proof);
    assert.deepEqual(claims, { htu: HTU, htm: 'GET' });
    assert.equal(typeof iat, 'number');
    assert.equal(typeof jti, 'string');
    assert.equal(ath, createHash('sha256').update('token').digest('base64url'));
  });

  it('htm defaults to POST; no ath without an access token, no nonce without one', async () => {
    const key = await createDpopKey();
    const claims = decodeJwt(await key.proof({ htu: HTU }));
    assert.equal(claims.htm, 'POST');
    assert.equal('ath' in claims, false);
    assert.equal('nonce' in claims, false);
  });

  it('dpop() w/ a nonce: the nonce given is in the proof', async () => {
    const key = await createDpopKey();
    assert.equal(decodeJwt(await key.proof({ htu: HTU, nonce: 'foo' })).nonce, 'foo');
  });

  it('jti: 128 random bits, base64url, different in every proof', async () => {
    const key = await createDpopKey({ alg: 'EdDSA' });
    const ids = new Set<unknown>();
    for (let i = 0; i < 200; i++) ids.add(decodeJwt(await key.proof({ htu: HTU })).jti);
    assert.equal(ids.size, 200);
    for (const id of ids) assert.match(String(id), /^[A-Za-z0-9_-]{22}$/);
  });

  it('iat comes from the clock option, in whole seconds', async () => {
    const key = await createDpopKey({ clock: () => Date.UTC(2030, 0, 1, 0, 0, 0, 999) });
    assert.equal(decodeJwt(await key.proof({ htu: HTU })).iat, Date.UTC(2030, 0, 1) / 1000);
  });

  it('a clock that reads seconds instead of milliseconds fails the proof with AuthConfigError naming clock', async () => {
    const key = await createDpopKey({ clock: () => Date.now() / 1000 });
    await assert.rejects(key.proof({ htu: HTU }), assertConfigError('clock'));
  });

  it('bad proof requests are refused, naming the field: htu not an absolute http(s) URL or with credentials, htm, nonce, accessToken', async () => {
    const key = await createDpopKey();
    await assert.rejects(key.proof({ htu: '/relative' }), assertConfigError('htu'));
    await assert.rejects(key.proof({ htu: 'ftp://rs.example.com/x' }), assertConfigError('htu'));
    await assert.rejects(key.proof({ htu: 'https://user:pass@rs.example.com/x' }), assertConfigError('htu'));
    await assert.rejects(key.proof({ htu: HTU, htm: 'GE T' }), assertConfigError('htm'));
    await assert.rejects(key.proof({ htu: HTU, nonce: 'a"b' }), assertConfigError('nonce'));
    await assert.rejects(key.proof({ htu: HTU, nonce: 'n'.repeat(1025) }), assertConfigError('nonce'));
    await assert.rejects(key.proof({ htu: HTU, accessToken: '' }), assertConfigError('accessToken'));
    await assert.rejects(key.proof({ htu: HTU, accessToken: 'tökén' }), assertConfigError('accessToken'));
  });

  it('the key object is frozen: neither the algorithm nor the public JWK can be swapped', async () => {
    const key = await createDpopKey();
    assert.ok(Object.isFrozen(key));
    assert.ok(Object.isFrozen(key.publicJwk));
  });
});

describe('createDpopKey: options and a given key pair', () => {
  it('unknown option, unsupported alg, clock not a function → AuthConfigError naming the option', async () => {
    await assert.rejects(createDpopKey({ algorithm: 'ES256' } as never), assertConfigError('algorithm'));
    await assert.rejects(createDpopKey({ alg: 'RS256' as never }), assertConfigError('alg'));
    await assert.rejects(createDpopKey({ alg: 'HS256' as never }), assertConfigError('alg'));
    await assert.rejects(createDpopKey({ clock: 5 as never }), assertConfigError('clock'));
  });

  it('a given ES256 pair signs the proofs; its thumbprint is that of its public key', async () => {
    const keyPair = await generateKeyPair('ES256', { extractable: true });
    const key = await createDpopKey({ keyPair });
    assert.equal(key.alg, 'ES256');
    assert.equal(key.thumbprint, await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)));
    await verified(await key.proof({ htu: HTU }), 'ES256');
  });

  it('without alg, a given pair sets it (Ed25519 → EdDSA); an alg the pair does not fit → AuthConfigError naming alg', async () => {
    const ed = await generateKeyPair('EdDSA');
    assert.equal((await createDpopKey({ keyPair: ed })).alg, 'EdDSA');
    await assert.rejects(createDpopKey({ keyPair: ed, alg: 'ES256' }), assertConfigError('alg'));
  });

  it('keys that cannot make DPoP proofs → AuthConfigError naming keyPair', async () => {
    const es = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const p384 = await generateKeyPair('ES384');
    const rs = await generateKeyPair('RS256');
    const hidden = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as { privateKey: CryptoKey };
    const publicNotExtractable = await webcrypto.subtle.importKey(
      'jwk',
      await webcrypto.subtle.exportKey('jwk', es.publicKey as webcrypto.CryptoKey),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const weakPss = await webcrypto.subtle.generateKey(
      { name: 'RSA-PSS', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    );
    const nodeKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cases: Array<[string, unknown]> = [
      ['not an object', 'ES256'],
      ['a node KeyObject pair', nodeKeys],
      ['public key given as the private one', { privateKey: es.publicKey, publicKey: es.publicKey }],
      ['private key given as the public one', { privateKey: es.privateKey, publicKey: es.privateKey }],
      ['public key not extractable', { privateKey: hidden.privateKey, publicKey: publicNotExtractable }],
      ['halves of two pairs', { privateKey: es.privateKey, publicKey: other.publicKey }],
      ['P-384', p384],
      ['RSASSA-PKCS1-v1_5', rs],
      ['RSA-PSS of 1024 bits', weakPss],
      ['halves of different kinds', { privateKey: es.privateKey, publicKey: rs.publicKey }],
    ];
    for (const [name, keyPair] of cases) {
      await assert.rejects(createDpopKey({ keyPair: keyPair as never }), assertConfigError('keyPair'), name);
    }
  });
});

describe('DPoP nonces: per key and per origin, the last 100 origins', () => {
  let key: DpopKey;

  it('a nonce is remembered for its origin and key only', async () => {
    key = await createDpopKey();
    const other = await createDpopKey();
    assert.equal(rememberNonce(key, 'https://a.example', 'n-1'), true);
    assert.equal(nonceFor(key, 'https://a.example'), 'n-1');
    assert.equal(nonceFor(key, 'https://b.example'), undefined);
    assert.equal(nonceFor(other, 'https://a.example'), undefined);
    rememberNonce(key, 'https://a.example', 'n-2');
    assert.equal(nonceFor(key, 'https://a.example'), 'n-2', 'the latest wins');
  });

  it('values that cannot be nonces are ignored (quotes, controls, empty, over 1024 characters, not a string)', () => {
    for (const value of ['a"b', 'a\\b', 'a\nb', '', 'x'.repeat(1025), 42, undefined, Buffer.from('n')]) {
      assert.equal(rememberNonce(key, 'https://a.example', value), false, String(value));
    }
    assert.equal(nonceFor(key, 'https://a.example'), 'n-2');
  });

  it('the 101st origin drops the least recently used one', async () => {
    const lru = await createDpopKey();
    for (let i = 0; i < 100; i++) rememberNonce(lru, `https://o${i}.example`, `n${i}`);
    assert.equal(nonceFor(lru, 'https://o0.example'), 'n0', 'used: now the most recent');
    rememberNonce(lru, 'https://o100.example', 'n100');
    assert.equal(nonceFor(lru, 'https://o0.example'), 'n0');
    assert.equal(nonceFor(lru, 'https://o1.example'), undefined, 'the least recently used is gone');
    assert.equal(nonceFor(lru, 'https://o100.example'), 'n100');
  });
});

describe('default htu origin of a channel target (grpc-js computeServiceUrl host, without the port)', () => {
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ['dns:orders.example:443', undefined, 'https://orders.example'],
    ['dns:///orders.example:8443', undefined, 'https://orders.example'],
    ['dns://10.0.0.53/orders.example:443', undefined, 'https://orders.example'],
    ['dns:Orders.Example', undefined, 'https://orders.example'],
    ['dns:127.0.0.1:50051', undefined, 'https://127.0.0.1'],
    ['ipv4:10.0.0.1:50051,10.0.0.2:50051', undefined, 'https://10.0.0.1'],
    ['ipv6:[::1]:50051', undefined, 'https://[::1]'],
    ['dns:[::1]:50051', undefined, 'https://[::1]'],
    ['unix:/run/orders.sock', undefined, 'https://localhost'],
    ['unix-abstract:orders', undefined, 'https://localhost'],
    ['dns:orders.example:443', 'api.example:443', 'https://api.example'],
    ['dns:orders.example:http', undefined, 'https://localhost'],
  ];
  for (const [target, host, origin] of cases) {
    it(`${target}${host === undefined ? '' : ` (call host ${host})`} → ${origin}`, () => {
      assert.equal(defaultDpopOrigin(target, host), origin);
    });
  }
  it('a host that is no URL host gives no origin (the call then fails and asks for dpop.origin)', () => {
    assert.equal(defaultDpopOrigin('dns:a/b:443', undefined), undefined);
  });
});
