/**
 * Independent review of the client's DPoP key and nonce handling: misuse of createDpopKey, what the key
 * object exposes, and the `WWW-Authenticate` challenges that count as a nonce refusal.
 *
 * The challenge cases port panva/oauth4webapi `src/index.ts` `isDPoPNonceError` and
 * `parseWwwAuthenticateChallenges` (commit 11c0206f15aff6af0c8831aa176a92f46ff8ca49): a nonce refusal is
 * exactly one challenge, scheme `DPoP` (any case), auth-param `error` equal to `use_dpop_nonce` (token or
 * quoted string); two challenges, another scheme or another error are not. Our own code, their behaviour.
 *
 * From panva/openid-client `test/client/dpop.test.js` (commit 23f7b499bc5b005c3ab29aa463ce20e4e6290b91):
 * "DPoP Proof JWT w/ ath" (the `ath` of the token `foo` is the literal `LCa0a2j_…`), "DPoP Proof JWT w/o
 * ath" (jwk members per key type, `typ`, `iat`, `jti`, `htu`, `htm`), and "unless the key dictates an
 * algorithm" turned around: openid-client signs with whatever the key is for (ES384, ES512, ...); we take
 * only the three proof algorithms servers accept by default and refuse the others at construction.
 */
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { AuthConfigError, createDpopKey } from '../../src/client/index.ts';
import { isDpopNonceChallenge } from '../../src/client/dpop-challenge.ts';
import { defaultDpopOrigin } from '../../src/client/dpop-target.ts';

const HTU = 'https://rs.example.com/resource';

function assertConfigError(option: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof AuthConfigError, String(error));
    assert.equal(error.option, option);
    return true;
  };
}

describe('review: WWW-Authenticate challenges that ask for a DPoP nonce (oauth4webapi isDPoPNonceError)', () => {
  const yes = [
    'DPoP error="use_dpop_nonce"',
    'dpop error=use_dpop_nonce',
    'DPOP   error = "use_dpop_nonce" , error_description="Authorization server requires nonce in DPoP proof"',
    'DPoP algs="ES256 PS256", error="use_dpop_nonce"',
    'DPoP error_description="a \\"quoted\\" word, and a comma", error="use_dpop_nonce"',
  ];
  for (const value of yes) {
    it(`one nonce challenge: ${value}`, () => assert.equal(isDpopNonceChallenge([value]), true));
  }

  const no: Array<[string, unknown[]]> = [
    ['no challenge', []],
    ['empty value', ['']],
    ['another DPoP error', ['DPoP error="invalid_dpop_proof"']],
    ['Bearer with that error', ['Bearer error="use_dpop_nonce"']],
    ['two challenges in one value', ['Bearer realm="api", DPoP error="use_dpop_nonce"']],
    ['two challenges in two values', ['DPoP error="use_dpop_nonce"', 'Bearer realm="api"']],
    ['the same challenge twice', ['DPoP error="use_dpop_nonce"', 'DPoP error="use_dpop_nonce"']],
    ['error in another param', ['DPoP error_description="use_dpop_nonce"']],
    ['unterminated quoted string', ['DPoP error="use_dpop_nonce']],
    ['trailing garbage', ['DPoP error="use_dpop_nonce" garbage']],
    ['not a string', [Buffer.from('DPoP error="use_dpop_nonce"')]],
    ['over 8 KiB', [`DPoP error="use_dpop_nonce", error_description="${'x'.repeat(9000)}"`]],
  ];
  for (const [name, values] of no) {
    it(`not a nonce challenge: ${name}`, () => assert.equal(isDpopNonceChallenge(values), false));
  }

  it('a hostile 8 KiB of commas and quotes is parsed in linear time (no catastrophic backtracking)', () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 50; i++) {
      isDpopNonceChallenge([`DPoP ${'a=",\\\\'.repeat(1000)}`]);
      isDpopNonceChallenge([`DPoP ${'a=b, '.repeat(1600)}`]);
    }
    // Generous bound: a backtracking parser takes seconds on these inputs, a linear one milliseconds.
    assert.ok(process.hrtime.bigint() - started < 5_000_000_000n);
  });
});

describe('review: proofs (openid-client dpopProof cases)', () => {
  it('DPoP Proof JWT w/ ath: the ath of the access token "foo" is LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564', async () => {
    const key = await createDpopKey();
    assert.equal(decodeJwt(await key.proof({ htu: HTU, accessToken: 'foo' })).ath, 'LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564');
  });

  it('DPoP Proof JWT w/o ath: typ dpop+jwt, iat, jti, htu, htm, and the jwk members of each key type', async () => {
    for (const [alg, members] of [
      ['PS256', ['e', 'kty', 'n']],
      ['ES256', ['crv', 'kty', 'x', 'y']],
      ['EdDSA', ['crv', 'kty', 'x']],
    ] as const) {
      const key = await createDpopKey({ alg });
      const proof = await key.proof({ htu: HTU, htm: 'GET' });
      const header = decodeProtectedHeader(proof);
      assert.equal(header.typ, 'dpop+jwt');
      assert.deepEqual(Object.keys(header.jwk!).sort(), members);
      const claims = decodeJwt(proof);
      assert.equal(typeof claims.iat, 'number');
      assert.equal(typeof claims.jti, 'string');
      assert.equal(claims.htu, HTU);
      assert.equal(claims.htm, 'GET');
      assert.equal('ath' in claims, false);
    }
  });

  it('unless the key dictates an algorithm, turned around: ES384 and ES512 pairs are refused (keyPair), an RSA-PSS 2048 SHA-256 pair signs PS256', async () => {
    await assert.rejects(createDpopKey({ keyPair: await generateKeyPair('ES384') }), assertConfigError('keyPair'));
    await assert.rejects(createDpopKey({ keyPair: await generateKeyPair('ES512') }), assertConfigError('keyPair'));
    const pss = await generateKeyPair('PS256');
    const key = await createDpopKey({ keyPair: pss });
    assert.equal(key.alg, 'PS256');
    assert.equal(decodeProtectedHeader(await key.proof({ htu: HTU })).alg, 'PS256');
  });
});

describe('review: createDpopKey misuse and what a key exposes', () => {
  it('an ECDH pair, an RSA-PSS pair for SHA-384, an X25519 pair → AuthConfigError naming keyPair', async () => {
    const ecdh = await webcrypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    const pss384 = await webcrypto.subtle.generateKey(
      { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-384' },
      true,
      ['sign', 'verify'],
    );
    const x25519 = await webcrypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
    for (const [name, keyPair] of [
      ['ECDH', ecdh],
      ['RSA-PSS SHA-384', pss384],
      ['X25519', x25519],
    ] as const) {
      await assert.rejects(createDpopKey({ keyPair: keyPair as never }), assertConfigError('keyPair'), name);
    }
  });

  it('the key object holds no private member: its keys, its JSON and every proof header carry the public JWK only', async () => {
    // An extractable private key given by the user: still never reachable through the DpopKey.
    const keyPair = await generateKeyPair('ES256', { extractable: true });
    const key = await createDpopKey({ keyPair });
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'proof', 'publicJwk', 'thumbprint']);
    const json = JSON.stringify(key);
    for (const member of ['"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"', '"k"']) assert.equal(json.includes(member), false, member);
    const header = JSON.parse(Buffer.from((await key.proof({ htu: HTU })).split('.')[0]!, 'base64url').toString('utf8'));
    assert.deepEqual(Object.keys(header.jwk).sort(), ['crv', 'kty', 'x', 'y']);
  });

  it('100 concurrent proofs of one key: 100 different jti, each with the htu and nonce it was asked for', async () => {
    const key = await createDpopKey({ alg: 'EdDSA' });
    const proofs = await Promise.all(Array.from({ length: 100 }, (_, i) => key.proof({ htu: `${HTU}/${i}`, nonce: `n-${i}` })));
    const claims = proofs.map((proof) => decodeJwt(proof));
    assert.equal(new Set(claims.map((claim) => claim.jti)).size, 100);
    claims.forEach((claim, i) => {
      assert.equal(claim.htu, `${HTU}/${i}`);
      assert.equal(claim.nonce, `n-${i}`);
    });
  });

  it('a nonce with CR/LF, a tab, a space or a non-ASCII character is refused, not signed', async () => {
    const key = await createDpopKey();
    for (const nonce of ['a\r\nb', 'a\tb', 'a b', 'nönce', '\u0000']) {
      await assert.rejects(key.proof({ htu: HTU, nonce }), assertConfigError('nonce'), JSON.stringify(nonce));
    }
  });
});

describe('review: default htu origin against grpc-js (getDefaultAuthority + computeServiceUrl, 1.14.7)', () => {
  it('an internationalised host name gets the origin a server computes from it (punycode), not none', () => {
    // grpc-js names it https://bücher.example; the WHATWG URL every server parses htu with gives the A-label.
    assert.equal(defaultDpopOrigin('dns:bücher.example:443', undefined), 'https://xn--bcher-kva.example');
    assert.equal(defaultDpopOrigin('dns:orders.example:443', 'BÜCHER.example:443'), 'https://xn--bcher-kva.example');
  });

  it('a host that would change the URL (user info, path, query, fragment, backslash, port-like text) still gives no origin', () => {
    for (const host of ['u@orders.example', 'orders.example/x', 'orders.example?x', 'orders.example#x', 'orders.example\\x', 'a b']) {
      assert.equal(defaultDpopOrigin(`dns:${host}:443`, undefined), undefined, host);
    }
  });
});
