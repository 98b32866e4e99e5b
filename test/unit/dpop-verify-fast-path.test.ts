/**
 * The proof signature check without jose's compactVerify (node:crypto on the cached KeyObject): the same
 * inputs are refused as before. Public vectors run through `signatureVerifies` against jose's answer, and
 * forged proofs go through the verifier on a key-cache hit, where the header is not re-read.
 */
import assert from 'node:assert/strict';
import { constants, createHash, KeyObject, randomUUID, sign, type webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CompactSign, compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { AuthError } from '../../src/errors/auth-error.ts';
import { splitCompactToken } from '../../src/verify/compact.ts';
import { signatureVerifies, type DpopKeyEntry } from '../../src/verify/dpop-key-cache.ts';
import { createDpopProofVerifier } from '../../src/verify/dpop-proof.ts';
import type { DpopAlgorithm } from '../../src/verify/dpop-options.ts';

const FIXTURES = new URL('../fixtures/vectors/', import.meta.url);
const ORIGIN = 'https://orders.test';
const PATH = '/test.echo.v1.Echo/Unary';
const ACCESS_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3b3JrZXIifQ.c2lnbmF0dXJl';
const ath = createHash('sha256').update(ACCESS_TOKEN, 'ascii').digest('base64url');

interface WycheproofGroup {
  readonly public?: JWK & { alg?: string };
  readonly tests: readonly { tcId: number; jws: string; result: 'valid' | 'invalid' | 'acceptable'; comment: string }[];
}

async function entryFor(jwk: JWK, alg: DpopAlgorithm): Promise<DpopKeyEntry> {
  return { jkt: 'unused', alg, key: KeyObject.from((await importJWK(jwk, alg)) as webcrypto.CryptoKey) };
}

/** The signing input and signature of a compact JWS, or undefined when the strict format check refuses it first. */
function parts(jws: string): { input: Buffer; signature: Buffer } | undefined {
  try {
    const { header, payload, signature } = splitCompactToken(jws, 1 << 16);
    return { input: Buffer.from(`${header}.${payload}`, 'latin1'), signature: Buffer.from(signature, 'base64url') };
  } catch {
    return undefined;
  }
}

describe('DPoP fast path: public signature vectors', () => {
  it('Wycheproof ES256, PS256/384/512, RS256/384/512: node:crypto answers as jose compactVerify on every strictly encoded case', async () => {
    const file = JSON.parse(readFileSync(new URL('wycheproof/json_web_signature_test.json', FIXTURES), 'utf8')) as { testGroups: WycheproofGroup[] };
    const algorithms = new Set(['ES256', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);
    let checked = 0;
    let valid = 0;
    for (const group of file.testGroups) {
      const alg = group.public?.alg;
      if (group.public === undefined || alg === undefined || !algorithms.has(alg)) continue;
      const { alg: _alg, kid: _kid, use: _use, key_ops: _ops, ...publicJwk } = group.public;
      const entry = await entryFor(publicJwk, alg as DpopAlgorithm);
      for (const test of group.tests) {
        const split = parts(test.jws);
        if (split === undefined) continue;
        const ours = signatureVerifies(entry, split.input, split.signature);
        const theirs: boolean = await compactVerify(test.jws, entry.key, { algorithms: [alg] }).then(
          () => true,
          () => false,
        );
        // jose also refuses a header whose alg is not the key's: the verifier checks the header itself.
        const header = JSON.parse(Buffer.from(test.jws.split('.')[0] as string, 'base64url').toString('utf8')) as {
          alg?: unknown;
          crit?: unknown;
          b64?: unknown;
        };
        if (header.alg === alg && header.crit === undefined && header.b64 === undefined) {
          assert.equal(ours, theirs, `tcId ${test.tcId} (${test.comment})`);
        }
        // Valid for the group's algorithm (RFC 7520's figures reuse one key under other algs too).
        if (test.result === 'valid' && header.alg === alg) {
          assert.equal(ours, true, `valid tcId ${test.tcId} (${test.comment})`);
          valid++;
        }
        // Whatever jose refuses, the fast path refuses.
        if (!theirs) assert.equal(ours, false, `tcId ${test.tcId} (${test.comment})`);
        checked++;
      }
    }
    assert.ok(checked > 200 && valid > 20, `${checked} checked, ${valid} valid`);
  });

  it('RFC 8037 Ed25519: the example verifies; a flipped bit, a truncated and a padded signature do not', async () => {
    const vector = JSON.parse(readFileSync(new URL('jose-cookbook/curve25519/jws.json', FIXTURES), 'utf8')) as {
      input: { key: JWK };
      output: { compact: string };
    };
    const { d: _d, ...publicJwk } = vector.input.key;
    for (const alg of ['EdDSA', 'Ed25519'] as const) {
      const entry = await entryFor(publicJwk, alg);
      const split = parts(vector.output.compact) as { input: Buffer; signature: Buffer };
      assert.equal(signatureVerifies(entry, split.input, split.signature), true);
      const flipped = Buffer.from(split.signature);
      flipped[10] = (flipped[10] as number) ^ 1;
      assert.equal(signatureVerifies(entry, split.input, flipped), false);
      assert.equal(signatureVerifies(entry, split.input, split.signature.subarray(0, 63)), false);
      assert.equal(signatureVerifies(entry, split.input, Buffer.concat([split.signature, Buffer.alloc(1)])), false);
      assert.equal(signatureVerifies(entry, Buffer.concat([split.input, Buffer.from('x')]), split.signature), false);
    }
  });
});

type ProofAlg = 'ES256' | 'EdDSA' | 'PS256';

async function client(alg: ProofAlg) {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  const header = { typ: 'dpop+jwt', alg, jwk };
  const claims = (overrides: Record<string, unknown> = {}) => ({
    jti: randomUUID(),
    htm: 'POST',
    htu: `${ORIGIN}${PATH}`,
    iat: Math.floor(Date.now() / 1000),
    ath,
    ...overrides,
  });
  return {
    privateKey: KeyObject.from(pair.privateKey as webcrypto.CryptoKey),
    proof: (overrides?: Record<string, unknown>) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(claims(overrides)))).setProtectedHeader(header).sign(pair.privateKey),
    /** A proof whose signature segment is `forge(signingInput, validSignature)`, with the same header. */
    forged: async (forge: (input: Buffer, signature: Buffer) => Buffer) => {
      const good = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims()))).setProtectedHeader(header).sign(pair.privateKey);
      const [h, p, s] = good.split('.') as [string, string, string];
      return `${h}.${p}.${forge(Buffer.from(`${h}.${p}`, 'latin1'), Buffer.from(s, 'base64url')).toString('base64url')}`;
    },
  };
}

async function refusedInvalid(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof AuthError && error.code === 'ERR_AUTH_DPOP_PROOF_INVALID');
}

describe('DPoP fast path: forged proofs on a key-cache hit', () => {
  for (const alg of ['ES256', 'EdDSA', 'PS256'] as const) {
    it(`${alg}: after one good proof (the key cached), a tampered payload, a signature by another key, an empty-bits signature, a truncated and a padded signature are refused; a good proof still passes`, async () => {
      const verifier = createDpopProofVerifier({ origins: [ORIGIN] });
      const holder = await client(alg);
      const request = (proof: string) => verifier.verify({ proof, path: PATH, accessToken: ACCESS_TOKEN });
      await request(await holder.proof());
      // Same header text, so every proof below is a cache hit.
      const good = await holder.proof();
      const [h, , s] = good.split('.') as [string, string, string];
      const otherPayload = Buffer.from(
        JSON.stringify({ jti: randomUUID(), htm: 'POST', htu: `${ORIGIN}${PATH}`, iat: Math.floor(Date.now() / 1000), ath }),
      ).toString('base64url');
      await refusedInvalid(request(`${h}.${otherPayload}.${s}`));
      const thief = await client(alg);
      const thiefSigns = (input: Buffer): Buffer =>
        alg === 'EdDSA'
          ? sign(null, input, thief.privateKey)
          : alg === 'ES256'
            ? sign('sha256', input, { key: thief.privateKey, dsaEncoding: 'ieee-p1363' })
            : sign('sha256', input, { key: thief.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
      const forgeries: ((input: Buffer, signature: Buffer) => Buffer)[] = [
        thiefSigns,
        (_input, signature) => Buffer.alloc(signature.length),
        (_input, signature) => signature.subarray(0, signature.length - 1),
        (_input, signature) => Buffer.concat([signature, Buffer.alloc(1)]),
        (_input, signature) => Buffer.concat([Buffer.alloc(1), signature]),
      ];
      for (const forge of forgeries) await refusedInvalid(request(await holder.forged(forge)));
      assert.equal((await request(good)).jti.length > 0, true);
    });
  }

  it('ES256: a DER-encoded signature of the right input (what node signs by default) is refused: JWS is r || s only', async () => {
    const verifier = createDpopProofVerifier({ origins: [ORIGIN] });
    const holder = await client('ES256');
    await verifier.verify({ proof: await holder.proof(), path: PATH, accessToken: ACCESS_TOKEN });
    const der = await holder.forged((input) => sign('sha256', input, holder.privateKey));
    await refusedInvalid(verifier.verify({ proof: der, path: PATH, accessToken: ACCESS_TOKEN }));
  });

  it('ES256: a 64-byte signature with r = 0 or s = 0 is refused', async () => {
    const verifier = createDpopProofVerifier({ origins: [ORIGIN] });
    const holder = await client('ES256');
    await verifier.verify({ proof: await holder.proof(), path: PATH, accessToken: ACCESS_TOKEN });
    await refusedInvalid(
      verifier.verify({ proof: await holder.forged((_i, s) => Buffer.concat([Buffer.alloc(32), s.subarray(32)])), path: PATH, accessToken: ACCESS_TOKEN }),
    );
    await refusedInvalid(
      verifier.verify({ proof: await holder.forged((_i, s) => Buffer.concat([s.subarray(0, 32), Buffer.alloc(32)])), path: PATH, accessToken: ACCESS_TOKEN }),
    );
  });

  it('a forged proof on a cache hit burns no jti: the same jti, properly signed, is then admitted', async () => {
    const verifier = createDpopProofVerifier({ origins: [ORIGIN] });
    const holder = await client('ES256');
    await verifier.verify({ proof: await holder.proof(), path: PATH, accessToken: ACCESS_TOKEN });
    const good = await holder.proof({ jti: 'one-jti' });
    const [h, p, s] = good.split('.') as [string, string, string];
    const broken = Buffer.from(s, 'base64url');
    broken[5] = (broken[5] as number) ^ 1;
    await refusedInvalid(verifier.verify({ proof: `${h}.${p}.${broken.toString('base64url')}`, path: PATH, accessToken: ACCESS_TOKEN }));
    assert.equal((await verifier.verify({ proof: good, path: PATH, accessToken: ACCESS_TOKEN })).jti, 'one-jti');
  });
});
