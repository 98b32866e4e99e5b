/**
 * Attack classes: `alg: none` and broken `alg` values; signature stripping, truncation, bit flips and
 * tampered payloads; algorithm confusion; ECDSA psychic and DER signatures. Each case is a real gRPC call
 * against the secret, PEM and JWKS targets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { b64u, compact, flipBit, goodClaims, hmacToken, keyToken } from './forge.ts';
import { unary } from '../support/calls.ts';
import { AUDIENCE, ISSUER, bearer, expectRefused, startTargets, type Targets } from './targets.ts';

let targets: Targets;
before(async () => {
  targets = await startTargets();
});
after(() => targets.close());
const claims = () => goodClaims(ISSUER, AUDIENCE);
const forEachTarget = async (attack: (target: Targets['all'][number]) => Promise<unknown>) => {
  for (const target of targets.all) await attack(target);
};

describe('attack: alg none and broken alg values', () => {
  const spellings = ['none', 'None', 'NONE', 'nOnE', ' none', 'none ', 'none\u0000'];
  for (const alg of spellings) {
    it(`alg ${JSON.stringify(alg)} without a signature → UNAUTHENTICATED`, () =>
      forEachTarget((t) => expectRefused(t, compact({ alg, kid: t.kid }, claims()))));
    it(`alg ${JSON.stringify(alg)} with the signature of a valid token → UNAUTHENTICATED`, () =>
      forEachTarget((t) => expectRefused(t, compact({ alg, kid: t.kid }, claims(), t.good().split('.')[2] as string))));
  }
  for (const [name, header] of [
    ['missing alg', { typ: 'JWT' }],
    ['empty alg', { alg: '' }],
    ['numeric alg', { alg: 256 }],
    ['null alg', { alg: null }],
    ['array alg', { alg: ['RS256'] }],
    ['object alg', { alg: { name: 'RS256' } }],
  ] as const) {
    it(`${name} → UNAUTHENTICATED`, () =>
      forEachTarget((t) => expectRefused(t, compact({ ...header, kid: t.kid }, claims(), t.good().split('.')[2] as string))));
  }
});

describe('attack: signature stripping, truncation, bit flips, tampered payload', () => {
  it('signature stripped (empty third segment) → UNAUTHENTICATED', () =>
    forEachTarget((t) => {
      const [h, p] = t.good().split('.');
      return expectRefused(t, `${h}.${p}.`);
    }));
  it('signature truncated by one byte, by half, to one byte → UNAUTHENTICATED', () =>
    forEachTarget(async (t) => {
      const [h, p, s] = t.good().split('.') as [string, string, string];
      const bytes = Buffer.from(s, 'base64url');
      for (const length of [bytes.length - 1, bytes.length >> 1, 1]) await expectRefused(t, `${h}.${p}.${b64u(bytes.subarray(0, length))}`);
    }));
  it('signature with extra bytes appended → UNAUTHENTICATED', () =>
    forEachTarget((t) => {
      const [h, p, s] = t.good().split('.') as [string, string, string];
      return expectRefused(t, `${h}.${p}.${b64u(Buffer.concat([Buffer.from(s, 'base64url'), Buffer.from([0])]))}`);
    }));
  it('one bit flipped in the signature, the header and the payload (8 positions each) → UNAUTHENTICATED', () =>
    forEachTarget(async (t) => {
      const [h, p, s] = t.good().split('.') as [string, string, string];
      for (let bit = 0; bit < 64; bit += 8) {
        await expectRefused(t, `${h}.${p}.${flipBit(s, bit * 3 + 1)}`);
        await expectRefused(t, `${h}.${flipBit(p, bit * 5 + 2)}.${s}`);
      }
      await expectRefused(t, `${flipBit(h, 3)}.${p}.${s}`);
    }));
  it('payload replaced (sub: admin) under the old signature → UNAUTHENTICATED', () =>
    forEachTarget((t) => {
      const [h, , s] = t.good().split('.') as [string, string, string];
      return expectRefused(t, `${h}.${b64u(goodClaims(ISSUER, AUDIENCE, { sub: 'admin', scope: 'admin' }))}.${s}`);
    }));
  it('header and payload of one valid token with the signature of another → UNAUTHENTICATED', () =>
    forEachTarget((t) => {
      const [h, p] = t.good({ sub: 'one' }).split('.');
      const s = t.good({ sub: 'two' }).split('.')[2];
      return expectRefused(t, `${h}.${p}.${s}`);
    }));
});

describe('attack: algorithm confusion', () => {
  it('HS256/384/512 keyed with the RSA public key in every encoding a naive verifier might use → UNAUTHENTICATED', async () => {
    for (const t of targets.all.filter((target) => target.rsaPublicKey)) {
      const key = t.rsaPublicKey!;
      const spkiPem = key.export({ type: 'spki', format: 'pem' }) as string;
      const jwk = key.export({ format: 'jwk' });
      const encodings: Array<[string, string | Uint8Array]> = [
        ['SPKI PEM', spkiPem],
        ['SPKI PEM without trailing newline', spkiPem.trimEnd()],
        ['PKCS#1 PEM', key.export({ type: 'pkcs1', format: 'pem' }) as string],
        ['SPKI DER', key.export({ type: 'spki', format: 'der' })],
        ['PKCS#1 DER', key.export({ type: 'pkcs1', format: 'der' })],
        ['JWK text', JSON.stringify(jwk)],
        ['JWK text with kid', JSON.stringify({ ...jwk, kid: t.kid })],
        ['modulus bytes', Buffer.from(jwk.n as string, 'base64url')],
        ['modulus base64url text', jwk.n as string],
      ];
      for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
        for (const [, secret] of encodings) {
          await expectRefused(t, hmacToken(alg, secret, { kid: t.kid }, claims()));
          await expectRefused(t, hmacToken(alg, secret, {}, claims()));
        }
      }
    }
  });
  it('an EC public key used as an HMAC secret → UNAUTHENTICATED', async () => {
    for (const t of targets.all.filter((target) => target.ecPublicKey)) {
      const key = t.ecPublicKey!;
      for (const secret of [
        key.export({ type: 'spki', format: 'pem' }) as string,
        key.export({ type: 'spki', format: 'der' }),
        JSON.stringify(key.export({ format: 'jwk' })),
      ]) {
        await expectRefused(t, hmacToken('HS256', secret, { kid: 'ec-1' }, claims()));
      }
    }
  });
  it('a correctly signed token under an algorithm that is not allowed (PS256, RS512, ES384) → UNAUTHENTICATED', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    await forEachTarget(async (t) => {
      await expectRefused(t, keyToken('RS512', rsa.privateKey, { kid: t.kid }, claims()));
      await expectRefused(t, keyToken('ES384', ec384.privateKey, { kid: t.kid }, claims()));
    });
    // The same key material the target trusts, but the allowlist says RS256 only for RSA.
    const pem = targets.all.find((t) => t.name === 'pem')!;
    await expectRefused(pem, keyToken('RS512', rsa.privateKey, { kid: 'rsa-1' }, claims()));
  });
});

describe('attack: ECDSA psychic and DER signatures', () => {
  // P-256 group order n.
  const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
  const ecTargets = () => targets.all.filter((t) => t.ecPublicKey);
  it('r = s = 0 (CVE-2022-21449) → UNAUTHENTICATED', async () => {
    for (const t of ecTargets()) await expectRefused(t, compact({ alg: 'ES256', kid: 'ec-1' }, claims(), Buffer.alloc(64)));
  });
  it('r = s = n → UNAUTHENTICATED', async () => {
    for (const t of ecTargets()) await expectRefused(t, compact({ alg: 'ES256', kid: 'ec-1' }, claims(), Buffer.concat([n, n])));
  });
  it('r = 0, s = n and r = n, s = 0 → UNAUTHENTICATED', async () => {
    for (const t of ecTargets()) {
      await expectRefused(t, compact({ alg: 'ES256', kid: 'ec-1' }, claims(), Buffer.concat([Buffer.alloc(32), n])));
      await expectRefused(t, compact({ alg: 'ES256', kid: 'ec-1' }, claims(), Buffer.concat([n, Buffer.alloc(32)])));
    }
  });
  it('a DER-encoded ECDSA signature by the trusted key → UNAUTHENTICATED (JOSE takes r||s only); the r||s form passes', async () => {
    for (const t of ecTargets()) {
      assert.equal((await unary(t.echo.client, bearer(t.ecToken!('ieee-p1363')))).code, grpc.status.OK, `${t.name}: ES256 r||s must pass`);
      await expectRefused(t, t.ecToken!('der'));
    }
  });
  it('a DER-encoded ECDSA signature by an attacker key → UNAUTHENTICATED', async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (const t of ecTargets()) await expectRefused(t, keyToken('ES256', attacker.privateKey, { kid: 'ec-1' }, claims(), 'der'));
  });
  it('the status is UNAUTHENTICATED, never INTERNAL, for every malformed ECDSA length', async () => {
    for (const t of ecTargets()) {
      for (const length of [0, 1, 63, 65, 72, 128]) {
        await expectRefused(t, compact({ alg: 'ES256', kid: 'ec-1' }, claims(), Buffer.alloc(length, 1)), grpc.status.UNAUTHENTICATED);
      }
    }
  });
});
