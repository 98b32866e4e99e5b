/**
 * Forged DPoP proofs against a real gRPC server with `dpop`: every one is refused with
 * DPOP_PROOF_INVALID (or the precise DPoP code) and no handler runs; nothing in a proof makes the server
 * fetch a URL; garbage headers never grow the proof-key cache.
 *
 * Attacks after the peers (our own code): panva/node-oidc-provider test/dpop/dpop.test.js (commit
 * b95c2944: "no private key in header", "no symmetric key", alg mismatch, invalid typ), opentdf/platform
 * service/internal/auth/dpop_nonce_test.go (commit 053f7e5d7: HS256 and none are not DPoP algorithms),
 * and the JWS attacks of RFC 8725 §2 applied to the embedded `jwk`.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor } from '../../src/index.ts';
import { decodeErrorInfo } from '../../src/client/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { ProofVerifier } from '../../src/verify/dpop-proof.ts';
import { compileDpopOptions } from '../../src/verify/dpop-options.ts';
import { createMemoryReplayStore } from '../../src/stores/memory-replay-store.ts';
import { isAuthError } from '../../src/errors/auth-error.ts';
import { startEchoServer, METHODS, type EchoServer } from '../support/echo-server.ts';
import { makeProof, proofKey, proofParts, rawProof, symmetricProof, unsignedProof, weakRsaKey, TEST_ORIGIN, type ProofKey } from '../support/dpop-proofs.ts';

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A compact JWS with exactly this header and payload and a signature of zero bytes of `length`. */
const withSignature = (header: unknown, payload: unknown, length = 64): string =>
  `${encode(header)}.${encode(payload)}.${Buffer.alloc(length).toString('base64url')}`;

describe('forged DPoP proofs', { timeout: 120_000 }, () => {
  let idp: TestIssuer;
  let key: ProofKey;
  let other: ProofKey;
  let token: string;
  let server: EchoServer;
  let fetched = 0;
  let keyServer: Server;
  let keyUrl: string;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
    key = await proofKey('ES256');
    other = await proofKey('ES256');
    token = await idp.sign({ sub: 'alice', cnf: { jkt: key.jkt } });
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], dpop: { origins: [TEST_ORIGIN], algorithms: ['ES256', 'EdDSA', 'PS256'] } });
    server = await startEchoServer({ interceptors: [auth] });
    // Counts every request: a proof naming this URL must never make the server fetch it.
    keyServer = createServer((_request, response) => {
      fetched += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [key.publicJwk] }));
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    const address = keyServer.address() as { port: number };
    keyUrl = `http://127.0.0.1:${address.port}/jwks.json`;
  });

  after(async () => {
    await server.close();
    await new Promise((resolve) => keyServer.close(resolve));
  });

  /** The call's refusal reason, or 'OK'. */
  function send(proof: string, accessToken = token): Promise<string> {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `DPoP ${accessToken}`);
    metadata.set('dpop', proof);
    return new Promise((resolve) => {
      server.client.Unary({ text: 'hi' }, metadata, (error: grpc.ServiceError | null) => {
        if (error === null) return resolve('OK');
        const details = error.metadata.get('grpc-status-details-bin')[0];
        resolve(details instanceof Buffer ? (decodeErrorInfo(details)?.reason ?? String(error.code)) : String(error.code));
      });
    });
  }

  /** A proof for the unary method over `token`, issued now, with its claims. */
  const claims = (): Record<string, unknown> => proofParts(key, { path: METHODS.unary, accessToken: token }).claims;

  it("control: a genuine proof is admitted (so each refusal below is the forgery's)", async () => {
    assert.equal(await send(await makeProof(key, { path: METHODS.unary, accessToken: token })), 'OK');
  });

  it('control: a PS256 proof signed by node (as the 1024-bit one below) is admitted with a 2048-bit key', async () => {
    const sound = await weakRsaKey(2048);
    const bound = await idp.sign({ sub: 'alice', cnf: { jkt: sound.jkt } });
    assert.equal(await send(rawProof(sound, { path: METHODS.unary, accessToken: bound }), bound), 'OK');
  });

  const forgeries: ReadonlyArray<readonly [string, () => Promise<string> | string, string]> = [
    ['alg none, empty signature', () => unsignedProof(key, { path: METHODS.unary, accessToken: token }), 'DPOP_PROOF_INVALID'],
    ['alg none with a signature', () => withSignature({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }, claims()), 'DPOP_PROOF_INVALID'],
    [
      'HS256 keyed with an oct jwk carried in the header (anyone can sign)',
      () => symmetricProof(new Uint8Array(32).fill(9), { path: METHODS.unary, accessToken: token }),
      'DPOP_PROOF_INVALID',
    ],
    [
      'a jwk with the private member d (the key given away)',
      () => withSignature({ typ: 'dpop+jwt', alg: 'ES256', jwk: { ...key.publicJwk, d: 'AAAA' } }, claims()),
      'DPOP_PROOF_INVALID',
    ],
    [
      'a jwk with a symmetric member k',
      () => withSignature({ typ: 'dpop+jwt', alg: 'ES256', jwk: { ...key.publicJwk, k: 'AAAA' } }, claims()),
      'DPOP_PROOF_INVALID',
    ],
    [
      'alg ES256 with an RSA jwk',
      async () => withSignature({ typ: 'dpop+jwt', alg: 'ES256', jwk: (await proofKey('PS256')).publicJwk }, claims()),
      'DPOP_PROOF_INVALID',
    ],
    ['alg EdDSA with an EC jwk', () => withSignature({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: key.publicJwk }, claims()), 'DPOP_PROOF_INVALID'],
    [
      'alg ES256 with a P-384 jwk',
      async () => withSignature({ typ: 'dpop+jwt', alg: 'ES256', jwk: (await proofKey('ES384')).publicJwk }, claims()),
      'DPOP_PROOF_INVALID',
    ],
    [
      'an RSA key of 1024 bits',
      async () => {
        const weak = await weakRsaKey(1024);
        const bound = await idp.sign({ sub: 'alice', cnf: { jkt: weak.jkt } });
        return `${bound} ${rawProof(weak, { path: METHODS.unary, accessToken: bound })}`;
      },
      'DPOP_PROOF_INVALID',
    ],
    [
      'an Ed25519 key of small order (the identity) with the signature R = identity, S = 0 that verifies under it',
      async () => {
        const jwk = { kty: 'OKP', crv: 'Ed25519', x: 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
        const { calculateJwkThumbprint } = await import('jose');
        const bound = await idp.sign({ sub: 'alice', cnf: { jkt: await calculateJwkThumbprint(jwk) } });
        const header = { typ: 'dpop+jwt', alg: 'EdDSA', jwk };
        const payload = proofParts(key, { path: METHODS.unary, accessToken: bound }).claims;
        const signature = Buffer.concat([Buffer.from([1]), Buffer.alloc(63)]).toString('base64url');
        return `${bound} ${encode(header)}.${encode(payload)}.${signature}`;
      },
      'DPOP_PROOF_INVALID',
    ],
    [
      'the jwk of the bound key, signed by another key',
      () => makeProof(key, { path: METHODS.unary, accessToken: token, signWith: other }),
      'DPOP_PROOF_INVALID',
    ],
    ["the thief's own jwk and signature", () => makeProof(other, { path: METHODS.unary, accessToken: token }), 'DPOP_KEY_MISMATCH'],
    ['crit naming an extension', () => rawProof(key, { path: METHODS.unary, accessToken: token, header: { crit: ['exp'], exp: 1 } }), 'DPOP_PROOF_INVALID'],
    ['typ JWT', () => makeProof(key, { path: METHODS.unary, accessToken: token, header: { typ: 'JWT' } }), 'DPOP_PROOF_INVALID'],
    ['no typ', () => makeProof(key, { path: METHODS.unary, accessToken: token, header: { typ: undefined } }), 'DPOP_PROOF_INVALID'],
    ['over the 8 KiB cap', () => makeProof(key, { path: METHODS.unary, accessToken: token, claims: { pad: 'x'.repeat(8200) } }), 'DPOP_PROOF_INVALID'],
    ['userinfo in htu', () => makeProof(key, { accessToken: token, claims: { htu: `https://user@orders.test${METHODS.unary}` } }), 'DPOP_PROOF_INVALID'],
    [
      '%2F for the path separator in htu',
      () => makeProof(key, { accessToken: token, claims: { htu: `${TEST_ORIGIN}/test.echo.v1.Echo%2FUnary` } }),
      'DPOP_PROOF_INVALID',
    ],
    [
      'a dot segment that leaves the method',
      () => makeProof(key, { accessToken: token, claims: { htu: `${TEST_ORIGIN}${METHODS.unary}/../Bidi` } }),
      'DPOP_PROOF_INVALID',
    ],
    ['a JWS JSON serialization instead of compact', async () => JSON.stringify({ protected: 'x', payload: 'y', signature: 'z' }), 'DPOP_PROOF_INVALID'],
  ];
  for (const [name, forge, reason] of forgeries) {
    it(`${name} → ${reason}; the handler never runs`, async () => {
      const before = server.runs.unary;
      const forged = await forge();
      // A forgery that needs its own bound token carries it before a space.
      const [accessToken, proof] = forged.includes(' ') && !forged.startsWith('{') ? (forged.split(' ') as [string, string]) : [token, forged];
      assert.equal(await send(proof, accessToken), reason);
      assert.equal(server.runs.unary, before);
    });
  }

  it('jku, x5u and x5c are never used or fetched: without a jwk the proof is refused, with one the URLs are ignored', async () => {
    const header = { jku: keyUrl, x5u: keyUrl, kid: 'k1' };
    assert.equal(await send(await makeProof(key, { path: METHODS.unary, accessToken: token, header: { ...header, jwk: undefined } })), 'DPOP_PROOF_INVALID');
    assert.equal(await send(await makeProof(key, { path: METHODS.unary, accessToken: token, header })), 'OK');
    assert.equal(fetched, 0);
  });

  it('10,000 distinct garbage headers (bad signatures) leave the proof-key cache as it was', async () => {
    const verifier = new ProofVerifier(compileDpopOptions({ origins: [TEST_ORIGIN] }), createMemoryReplayStore(), Date.now);
    const payload = claims();
    for (let i = 0; i < 10_000; i++) {
      const forged = withSignature({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk, n: i }, payload);
      await assert.rejects(verifier.verify({ proof: forged, path: METHODS.unary, accessToken: token }), (error: unknown) => isAuthError(error));
    }
    assert.equal(verifier.cachedKeys, 0);
    await verifier.verify({ proof: await makeProof(key, { path: METHODS.unary, accessToken: token }), path: METHODS.unary, accessToken: token });
    assert.equal(verifier.cachedKeys, 1);
  });

  it("headers padded past a real key's size are verified but never cached", async () => {
    const verifier = new ProofVerifier(compileDpopOptions({ origins: [TEST_ORIGIN] }), createMemoryReplayStore(), Date.now);
    const padded = await makeProof(key, { path: METHODS.unary, accessToken: token, header: { pad: 'p'.repeat(3000) } });
    assert.equal((await verifier.verify({ proof: padded, path: METHODS.unary, accessToken: token })).jkt, key.jkt);
    assert.equal(verifier.cachedKeys, 0);
  });
});
