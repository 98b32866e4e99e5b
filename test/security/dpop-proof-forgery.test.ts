/**
 * Forged and hostile DPoP proofs against the pure verifier (createDpopProofVerifier): keys that do not
 * fit their algorithm, keys anyone can forge for, headers that point elsewhere (counted on a hostile
 * loopback HTTP server: never fetched), duplicate JSON members, typ variants, htu spellings, and the
 * proof-key cache (no poisoning, no growth from garbage, and a hit costs no JWK import nor thumbprint:
 * counted on WebCrypto, not timed).
 *
 * Ported inputs (our own code): panva/node-oidc-provider test/dpop/dpop.test.js, commit
 * b95c294475d7c858a3ea63276dbc8eed77c0bfd2 ("validates the DPoP proof JWT is conform": alg mismatch, no
 * symmetric key); auth0/node-oauth2-jwt-bearer packages/access-token-jwt/test/dpop-verifier.test.ts,
 * commit 8701dab5c44839607755b94b247ce1912aff1aca (`normalizeUrl`: userinfo, backslashes are a parser
 * failure there, trailing dot, IPv6, punycode) checked end to end through `verify`.
 */
import assert from 'node:assert/strict';
import { KeyObject, generateKeyPairSync, randomBytes, sign, type webcrypto } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDpopProofVerifier, ProofVerifier, type DpopProofVerifierOptions, type DpopRequest } from '../../src/verify/dpop-proof.ts';
import { compileDpopOptions } from '../../src/verify/dpop-options.ts';
import { DpopKeyCache } from '../../src/verify/dpop-key-cache.ts';
import { createMemoryReplayStore } from '../../src/stores/memory-replay-store.ts';
import { refusedWith, ath, makeProof, proofKey, symmetricProof, TEST_ORIGIN, type ProofKey, type ProofOverrides } from '../support/dpop-proofs.ts';
import { ED25519_NON_CANONICAL, ED25519_SMALL_ORDER } from './vectors.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const PATH = '/test.echo.v1.Echo/Unary';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const key = await proofKey('ES256');
const other = await proofKey('ES256');

function verifier(options: Partial<DpopProofVerifierOptions> = {}): ReturnType<typeof createDpopProofVerifier> {
  return createDpopProofVerifier({ origins: [TEST_ORIGIN], clock: () => T0, ...options });
}

function request(text: string, extra: Partial<DpopRequest> = {}): DpopRequest {
  return { proof: text, path: PATH, accessToken: TOKEN, ...extra };
}

function proof(overrides: ProofOverrides = {}): Promise<string> {
  return makeProof(key, { now: T0, accessToken: TOKEN, ...overrides });
}

const encode = (text: string): string => Buffer.from(text).toString('base64url');

/** The claims of a good proof at T0, as JSON text. */
function claimsJson(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ jti: randomBytes(8).toString('hex'), htm: 'POST', htu: `${TEST_ORIGIN}${PATH}`, iat: T0 / 1000, ath: ath(TOKEN), ...extra });
}

/** Signs exactly `headerJson.payloadJson` with a node private key, as `alg` would. */
function signRaw(privateKey: KeyObject, alg: string, headerJson: string, payloadJson: string): string {
  const input = `${encode(headerJson)}.${encode(payloadJson)}`;
  const digest = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  const signature = sign(digest, Buffer.from(input), {
    key: privateKey,
    ...(alg.startsWith('ES') ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    ...(alg.startsWith('PS') ? { padding: 6, saltLength: Number(alg.slice(2)) / 8 } : {}),
  });
  return `${input}.${signature.toString('base64url')}`;
}

const keyObject = (k: ProofKey): KeyObject => KeyObject.from(k.privateKey as webcrypto.CryptoKey);

/** Counts WebCrypto calls (jose imports keys, hashes thumbprints and verifies through `crypto.subtle`). */
function countSubtle(): { counts: Record<'importKey' | 'digest' | 'verify', number>; restore(): void } {
  const subtle = globalThis.crypto.subtle as unknown as Record<string, (...args: unknown[]) => unknown>;
  const counts = { importKey: 0, digest: 0, verify: 0 };
  const originals = new Map<string, unknown>();
  for (const name of Object.keys(counts) as Array<keyof typeof counts>) {
    const original = subtle[name] as (...args: unknown[]) => unknown;
    originals.set(name, Object.getOwnPropertyDescriptor(subtle, name));
    subtle[name] = function (this: unknown, ...args: unknown[]) {
      counts[name]++;
      return original.apply(this, args);
    };
  }
  return {
    counts,
    restore() {
      for (const [name, descriptor] of originals) {
        if (descriptor === undefined) delete subtle[name];
        else Object.defineProperty(subtle, name, descriptor as PropertyDescriptor);
      }
    },
  };
}

describe('forgery: keys that do not fit the algorithm → DPOP_PROOF_INVALID', () => {
  it('ES256 with a P-384 key, and with a secp256k1 key', async () => {
    for (const namedCurve of ['P-384', 'secp256k1']) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      const header = JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicKey.export({ format: 'jwk' }) });
      await refusedWith(
        'ERR_AUTH_DPOP_PROOF_INVALID',
        verifier({ algorithms: ['ES256', 'ES384'] }).verify(request(signRaw(privateKey, 'ES256', header, claimsJson()))),
      );
    }
  });

  it('EdDSA with an Ed448 key, and with an X25519 (key agreement) key', async () => {
    const ed448 = generateKeyPairSync('ed448');
    const x25519 = generateKeyPairSync('x25519');
    const ed448Header = JSON.stringify({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: ed448.publicKey.export({ format: 'jwk' }) });
    await refusedWith(
      'ERR_AUTH_DPOP_PROOF_INVALID',
      verifier({ algorithms: ['EdDSA'] }).verify(request(signRaw(ed448.privateKey, 'EdDSA', ed448Header, claimsJson()))),
    );
    const x25519Header = JSON.stringify({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: x25519.publicKey.export({ format: 'jwk' }) });
    const text = `${encode(x25519Header)}.${encode(claimsJson())}.${randomBytes(64).toString('base64url')}`;
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier({ algorithms: ['EdDSA'] }).verify(request(text)));
  });

  it('PS256 with an RSA 1024 key (a real signature)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const header = JSON.stringify({ typ: 'dpop+jwt', alg: 'PS256', jwk: publicKey.export({ format: 'jwk' }) });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(signRaw(privateKey, 'PS256', header, claimsJson()))));
  });

  it('RS256 by default (not in the FAPI set), a real signature', async () => {
    const rsa = await proofKey('RS256');
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(await makeProof(rsa, { now: T0, accessToken: TOKEN }))));
  });

  it('an EC key under PS256, an RSA key under ES256', async () => {
    const rsa = await proofKey('PS256');
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(await proof({ header: { alg: 'PS256' }, signWith: rsa }))));
    await refusedWith(
      'ERR_AUTH_DPOP_PROOF_INVALID',
      verifier().verify(request(await makeProof(rsa, { now: T0, accessToken: TOKEN, header: { alg: 'ES256' }, signWith: key }))),
    );
  });

  it('HS256 with an oct jwk whose secret is the one signing (oidc-provider "no symmetric key")', async () => {
    const text = await symmetricProof(new Uint8Array(32).fill(3), { now: T0, accessToken: TOKEN });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier({ algorithms: ['ES256', 'PS256'] }).verify(request(text)));
  });

  it('RSA moduli over 4096 bits are refused before any signature check (a 16384-bit verify costs ten ES256 ones)', async () => {
    for (const bits of [8192, 16384]) {
      const modulus = randomBytes(bits / 8);
      modulus[0] = (modulus[0] ?? 0) | 0x80;
      modulus[modulus.length - 1] = (modulus.at(-1) ?? 0) | 1;
      const header = JSON.stringify({ typ: 'dpop+jwt', alg: 'PS256', jwk: { kty: 'RSA', n: modulus.toString('base64url'), e: 'AQAB' } });
      const text = `${encode(header)}.${encode(claimsJson())}.${randomBytes(bits / 8).toString('base64url')}`;
      const subtle = countSubtle();
      try {
        await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify({ proof: text, path: PATH }));
      } finally {
        subtle.restore();
      }
      assert.equal(subtle.counts.verify, 0, `${bits}-bit key reached the signature check`);
    }
  });

  it('a 4096-bit RSA proof key still verifies', async () => {
    const rsa = await proofKey('PS256', { modulusLength: 4096 });
    assert.equal((await verifier().verify(request(await makeProof(rsa, { now: T0, accessToken: TOKEN })))).jkt, rsa.jkt);
  });
});

describe('forgery: Ed25519 keys anyone can sign for → DPOP_PROOF_INVALID', () => {
  const vectors = { ...ED25519_SMALL_ORDER, ...ED25519_NON_CANONICAL };
  for (const [name, hex] of Object.entries(vectors)) {
    it(`${name}, with the S = 0 signature that verifies under small-order keys`, async () => {
      const header = JSON.stringify({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') } });
      // R = the identity, S = 0: [S]B = R + [h]A holds for the identity key and for h ≡ 0 mod the order.
      const signature = Buffer.concat([Buffer.from(ED25519_SMALL_ORDER['identity (order 1)'], 'hex'), Buffer.alloc(32)]).toString('base64url');
      const text = `${encode(header)}.${encode(claimsJson())}.${signature}`;
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier({ algorithms: ['EdDSA'] }).verify({ proof: text, path: PATH }));
    });
  }
});

describe('forgery: private and symmetric members in the header jwk → DPOP_PROOF_INVALID', () => {
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) {
    it(`jwk with ${member}`, async () => {
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(await proof({ header: { jwk: { ...key.publicJwk, [member]: 'AAAA' } } }))));
    });
  }

  it('a member with a null value counts: { d: null }', async () => {
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(await proof({ header: { jwk: { ...key.publicJwk, d: null } } }))));
  });
});

describe('forgery: headers that point elsewhere are never fetched', () => {
  let requests = 0;
  let base = '';
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [other.publicJwk] }));
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('jku, x5u, x5c and kid: the embedded jwk decides; with no jwk the proof is refused; 0 requests', async () => {
    const pointers = { jku: `${base}/jwks`, x5u: `${base}/cert.pem`, x5c: [randomBytes(300).toString('base64')], kid: `${base}/kid` };
    // With the right jwk: accepted, verified by the jwk alone.
    assert.equal((await verifier().verify(request(await proof({ header: pointers })))).jkt, key.jkt);
    // Signed by `other` (the key the server would fetch) with no jwk, or with key's jwk: refused.
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(await proof({ header: { ...pointers, jwk: undefined }, signWith: other }))));
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(await proof({ header: pointers, signWith: other }))));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(requests, 0);
  });

  it('jwk with x5u / jku members of its own: still never fetched', async () => {
    const jwk = { ...key.publicJwk, x5u: `${base}/in-jwk`, x5c: ['AAAA'] };
    assert.equal((await verifier().verify(request(await proof({ header: { jwk } })))).jkt, key.jkt);
    assert.equal(requests, 0);
  });
});

describe('forgery: header and payload shapes', () => {
  it('crit (even empty, even listing nothing unknown) and b64: false → DPOP_PROOF_INVALID', async () => {
    const priv = keyObject(key);
    for (const extra of [{ crit: [] }, { crit: ['b64'], b64: false }, { b64: false }, { crit: 'exp' }]) {
      const header = JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk, ...extra });
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(signRaw(priv, 'ES256', header, claimsJson()))));
    }
  });

  it('duplicate header members: the last one counts for every check (here alg none after ES256)', async () => {
    const priv = keyObject(key);
    const jwk = JSON.stringify(key.publicJwk);
    const twoAlgs = `{"typ":"dpop+jwt","alg":"ES256","jwk":${jwk},"alg":"none"}`;
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(signRaw(priv, 'ES256', twoAlgs, claimsJson()))));
    const twoTyps = `{"typ":"dpop+jwt","alg":"ES256","jwk":${jwk},"typ":"JWT"}`;
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(signRaw(priv, 'ES256', twoTyps, claimsJson()))));
    const twoJwks = `{"typ":"dpop+jwt","alg":"ES256","jwk":${jwk},"jwk":${JSON.stringify(other.publicJwk)}}`;
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(signRaw(priv, 'ES256', twoJwks, claimsJson()))));
  });

  it('duplicate payload members: the last htu or jti counts (a proof for another method is refused)', async () => {
    const priv = keyObject(key);
    const header = JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk });
    const payload = claimsJson().replace(/}$/, `,"htu":"${TEST_ORIGIN}/other.Service/Method"}`);
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(signRaw(priv, 'ES256', header, payload))));
    const v = verifier();
    const first = claimsJson({ jti: 'first' }).replace(/}$/, ',"jti":"second"}');
    assert.equal((await v.verify(request(signRaw(priv, 'ES256', header, first)))).jti, 'second');
    await refusedWith('ERR_AUTH_DPOP_PROOF_REPLAYED', v.verify(request(signRaw(priv, 'ES256', header, claimsJson({ jti: 'second' })))));
  });

  it('typ variants: DPoP+JWT and application/dpop+jwt pass; parameters, JWT, dpop, dpop+jwt with spaces, a Kelvin sign do not', async () => {
    for (const typ of ['DPoP+JWT', 'application/dpop+jwt', 'APPLICATION/DPOP+JWT']) {
      await verifier().verify(request(await proof({ header: { typ } })));
    }
    for (const typ of ['dpop+jwt; x=y', 'JWT', 'dpop', ' dpop+jwt', 'dpop+jwt ', 'dpop+\u212Awt', 'application/dpop+jwt/x', 'text/dpop+jwt', '', 1, null]) {
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(await proof({ header: { typ } }))));
    }
  });

  it('payloads that are no JSON object (array, string, number, null, invalid UTF-8) → DPOP_PROOF_INVALID', async () => {
    const priv = keyObject(key);
    const header = JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk });
    for (const payload of ['[]', '"jti"', '42', 'null', 'true', '{', '\uFFFD\uFFFD']) {
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(signRaw(priv, 'ES256', header, payload))));
    }
    const input = `${encode(header)}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(input), { key: priv, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(`${input}.${signature}`)));
  });

  it('__proto__ members in the payload or the jwk change nothing', async () => {
    const priv = keyObject(key);
    const header = `{"typ":"dpop+jwt","alg":"ES256","jwk":${JSON.stringify(key.publicJwk).replace(/}$/, ',"__proto__":{"d":"AAAA","kty":"oct"}}')}}`;
    const payload = claimsJson().replace(/^{/, '{"__proto__":{"htm":"GET","jti":"p"},');
    const result = await verifier().verify(request(signRaw(priv, 'ES256', header, payload)));
    assert.equal(result.jkt, key.jkt);
    const noJti = `{"__proto__":{"jti":"inherited"},"htm":"POST","htu":"${TEST_ORIGIN}${PATH}","iat":${T0 / 1000},"ath":"${ath(TOKEN)}"}`;
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(signRaw(priv, 'ES256', header, noJti))));
  });

  it('huge proof, huge jwk, huge jti → DPOP_PROOF_INVALID; nothing reaches the store', async () => {
    let adds = 0;
    const v = verifier({ replayStore: { add: () => (++adds, true) } });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', v.verify(request('a'.repeat(10_000_000))));
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', v.verify(request(await proof({ header: { jwk: { ...key.publicJwk, pad: 'x'.repeat(9000) } } }))));
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', v.verify(request(await proof({ claims: { jti: 'j'.repeat(4000) } }))));
    assert.equal(adds, 0);
  });
});

describe('forgery: htu spellings', () => {
  const accepted: ReadonlyArray<readonly [string, string]> = [
    ['upper-case scheme and host', `HTTPS://ORDERS.TEST${PATH}`],
    ['the default port', `https://orders.test:443${PATH}`],
    ['a query and a fragment', `${TEST_ORIGIN}${PATH}?a=1#b`],
    ['an encoded dot-dot segment that resolves to the path', `${TEST_ORIGIN}/x/%2e%2e${PATH}`],
    ['an encoded unreserved character', `${TEST_ORIGIN}/t%65st.echo.v1.Echo/Unary`],
  ];
  for (const [name, htu] of accepted) {
    it(`accepts ${name}: ${htu}`, async () => {
      await verifier().verify(request(await proof({ claims: { htu } })));
    });
  }

  const refused: ReadonlyArray<readonly [string, string]> = [
    ['another host with the origin as a prefix', `https://orders.test.evil.com${PATH}`],
    ['the origin as userinfo of another host', `https://orders.test@evil.com${PATH}`],
    ['userinfo before the origin', `https://evil.com@orders.test${PATH}`],
    ['an empty userinfo hidden by a tab', `https://\t@orders.test${PATH}`],
    ['an empty userinfo hidden by a newline', `https:/\n/@orders.test${PATH}`],
    ['backslashes for slashes (a WHATWG-only reading)', `https:\\\\orders.test\\test.echo.v1.Echo\\Unary`],
    ['a backslash before @', `https://orders.test\\@evil.com${PATH}`],
    ['a leading space', ` ${TEST_ORIGIN}${PATH}`],
    ['a tab inside the host', `https://orders.te\tst${PATH}`],
    ['a trailing dot on the host', `https://orders.test.${PATH}`],
    ['http instead of https', `http://orders.test${PATH}`],
    ['another port', `https://orders.test:8443${PATH}`],
    ['%2F for the separator', `${TEST_ORIGIN}/test.echo.v1.Echo%2FUnary`],
    ['a doubled slash (not collapsed)', `${TEST_ORIGIN}/${PATH}`],
    ['a trailing slash', `${TEST_ORIGIN}${PATH}/`],
    ['a homograph host (Cyrillic о)', `https://\u043Erders.test${PATH}`],
    ['the path in another case', `${TEST_ORIGIN}${PATH.toLowerCase()}`],
  ];
  for (const [name, htu] of refused) {
    it(`refuses ${name}: ${JSON.stringify(htu)}`, async () => {
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier().verify(request(await proof({ claims: { htu } }))));
    });
  }

  it('IPv6 and punycode origins match their other spellings', async () => {
    const v6 = verifier({ origins: ['http://[::1]:50051'] });
    await v6.verify(request(await proof({ claims: { htu: `http://[0:0:0:0:0:0:0:1]:50051${PATH}` } })));
    const idn = verifier({ origins: ['https://bücher.test'] });
    await idn.verify(request(await proof({ claims: { htu: `https://xn--bcher-kva.test${PATH}` } })));
  });
});

describe('forgery: the proof-key cache', () => {
  function bare(): ProofVerifier {
    return new ProofVerifier(compileDpopOptions({ origins: [TEST_ORIGIN] }), createMemoryReplayStore({ clock: () => T0 }), () => T0);
  }

  it('a hit imports no JWK and computes no thumbprint (counted on WebCrypto); a miss does both', async () => {
    const v = bare();
    const miss = countSubtle();
    try {
      await v.verify(request(await proof()));
    } finally {
      miss.restore();
    }
    assert.ok(miss.counts.importKey >= 1 && miss.counts.digest >= 1, JSON.stringify(miss.counts));
    const next = await proof();
    const hit = countSubtle();
    try {
      await v.verify(request(next, { jkt: key.jkt }));
    } finally {
      hit.restore();
    }
    // The signature is checked by node:crypto (synchronous, on the cached KeyObject), not WebCrypto.
    assert.deepEqual(hit.counts, { importKey: 0, digest: 0, verify: 0 });
  });

  it('a header whose proof verified once does not let another key through later', async () => {
    const v = bare();
    const good = await proof();
    await v.verify(request(good, { jkt: key.jkt }));
    // The same header bytes, signed by `other`: the cached key is key's, so the signature fails.
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', v.verify(request(await proof({ signWith: other }), { jkt: key.jkt })));
    // And the cached thumbprint still binds: other's token never passes with key's header.
    await refusedWith('ERR_AUTH_DPOP_KEY_MISMATCH', v.verify(request(await proof(), { jkt: other.jkt })));
  });

  it('headers differing only in member order or whitespace are separate entries, each checked in full', async () => {
    const v = bare();
    const priv = keyObject(key);
    const jwk = JSON.stringify(key.publicJwk);
    const spellings = [
      `{"typ":"dpop+jwt","alg":"ES256","jwk":${jwk}}`,
      `{"alg":"ES256","typ":"dpop+jwt","jwk":${jwk}}`,
      `{ "typ":"dpop+jwt","alg":"ES256","jwk":${jwk}}`,
    ];
    for (const header of spellings) await v.verify(request(signRaw(priv, 'ES256', header, claimsJson())));
    assert.equal(v.cachedKeys, 3);
    // A reordered header carrying a private member is refused, whatever spelling of it is cached.
    const bad = `{"alg":"ES256","typ":"dpop+jwt","jwk":${jwk.replace(/}$/, ',"d":"AAAA"}')}}`;
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', v.verify(request(signRaw(priv, 'ES256', bad, claimsJson()))));
    assert.equal(v.cachedKeys, 3);
  });

  it('10,000 distinct garbage headers (bad signatures, bad jwks, refused claims before the key) never take a place', async () => {
    const v = bare();
    const [, payload] = (await proof()).split('.');
    for (let i = 0; i < 10_000; i++) {
      const header = encode(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { ...key.publicJwk, n: String(i) } }));
      await v.verify(request(`${header}.${payload}.${'A'.repeat(86)}`)).catch(() => undefined);
    }
    assert.equal(v.cachedKeys, 0);
  });

  it('the cache is bounded: the least recently used entry goes', () => {
    const cache = new DpopKeyCache(2);
    const entry = { jkt: key.jkt, key: {} as KeyObject, alg: 'ES256' as const };
    cache.set('a', entry);
    cache.set('b', entry);
    cache.get('a');
    cache.set('c', entry);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('a') !== undefined && cache.get('c') !== undefined);
  });
});
