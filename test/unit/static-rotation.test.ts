import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createAuthenticator, fromPem, fromSecret, type Algorithm, type KeyResolver } from '../../src/index.ts';
import { outcome } from '../support/remote-keys.ts';

/**
 * The documented recipe for static keys (fromSecret / fromPem maps by kid):
 *   1. add the new key beside the old one on every verifier (deploy everywhere first);
 *   2. start signing with the new key;
 *   3. once the longest-lived token signed with the old key has expired, remove the old key.
 * Every token that is still valid must pass at every step.
 */
interface Signer {
  readonly kid: string;
  sign(): Promise<string>;
}

async function walkRecipe(
  alg: Algorithm,
  verifierFor: (kids: readonly string[]) => KeyResolver,
  signers: { old: Signer; new: Signer },
): Promise<{ failed: number; checked: number; removedOld: string }> {
  const authenticatorFor = (kids: readonly string[]) => createAuthenticator({ keys: verifierFor(kids), algorithms: [alg], issuer: 'https://static.example' });
  let failed = 0;
  let checked = 0;
  const expectAll = async (kids: readonly string[], tokens: readonly string[]) => {
    const authenticator = authenticatorFor(kids);
    for (const token of tokens) {
      checked += 1;
      if ((await outcome(authenticator, token)) !== 'OK') failed += 1;
    }
  };
  const beforeRotation = await signers.old.sign();
  await expectAll([signers.old.kid], [beforeRotation]);
  // Step 1: both keys verify; some verifiers may still run the old configuration while others run the new.
  const duringStep1 = await signers.old.sign();
  await expectAll([signers.old.kid], [beforeRotation, duringStep1]);
  await expectAll([signers.old.kid, signers.new.kid], [beforeRotation, duringStep1]);
  // Step 2: the signer switches; every verifier already knows the new key.
  const afterSwitch = await signers.new.sign();
  await expectAll([signers.old.kid, signers.new.kid], [beforeRotation, duringStep1, afterSwitch]);
  // Step 3: old tokens have expired by now; only new ones are presented.
  await expectAll([signers.new.kid], [afterSwitch, await signers.new.sign()]);
  return { failed, checked, removedOld: await outcome(authenticatorFor([signers.new.kid]), beforeRotation) };
}

function signerWith(alg: Algorithm, kid: string, key: KeyObject | Uint8Array): Signer {
  return {
    kid,
    sign: () => new SignJWT({ sub: 'rotating' }).setProtectedHeader({ alg, kid }).setIssuer('https://static.example').setExpirationTime('10m').sign(key),
  };
}

describe('static rotation recipe: add new, sign with new, remove old', () => {
  it('fromSecret map by kid: no failed call at any step; the old key, once removed, verifies nothing', async () => {
    const secrets: Record<string, Uint8Array> = { '2026-10': new Uint8Array(randomBytes(32)), '2026-11': new Uint8Array(randomBytes(32)) };
    const result = await walkRecipe('HS256', (kids) => fromSecret(Object.fromEntries(kids.map((kid) => [kid, secrets[kid] as Uint8Array]))), {
      old: signerWith('HS256', '2026-10', secrets['2026-10'] as Uint8Array),
      new: signerWith('HS256', '2026-11', secrets['2026-11'] as Uint8Array),
    });
    assert.deepEqual(result, { failed: 0, checked: 10, removedOld: 'ERR_AUTH_KEY_NOT_FOUND' });
  });

  it('fromPem map by kid (RSA → EC, algorithms listed for both during the switch): no failed call', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pems: Record<string, string> = {
      rsa: rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      ec: ec.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    };
    const verifierFor = (kids: readonly string[]) => fromPem(Object.fromEntries(kids.map((kid) => [kid, pems[kid] as string])));
    let failed = 0;
    // With a key type change, `algorithms` must fit the keys at each step: ['RS256'], then both, then ['ES256'].
    const step = (kids: readonly string[], algorithms: Algorithm[]) =>
      createAuthenticator({ keys: verifierFor(kids), algorithms, issuer: 'https://static.example' });
    const oldToken = await signerWith('RS256', 'rsa', rsa.privateKey).sign();
    const newToken = await signerWith('ES256', 'ec', ec.privateKey).sign();
    for (const [authenticator, tokens] of [
      [step(['rsa'], ['RS256']), [oldToken]],
      [step(['rsa', 'ec'], ['RS256', 'ES256']), [oldToken, newToken]],
      [step(['ec'], ['ES256']), [newToken]],
    ] as const) {
      for (const token of tokens) if ((await outcome(authenticator, token)) !== 'OK') failed += 1;
    }
    assert.equal(failed, 0);
    assert.throws(
      () => step(['ec'], ['RS256', 'ES256']),
      { code: 'ERR_AUTH_INVALID_OPTION', option: 'algorithms' },
      'RS256 cannot stay listed once the RSA key is gone',
    );
    assert.equal(await outcome(step(['ec'], ['ES256']), oldToken), 'ERR_AUTH_ALG_NOT_ALLOWED');
  });

  it('fromPem map by kid, same key type: a token naming the old kid after removal is KEY_NOT_FOUND, never tried against the new key', async () => {
    const oldPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const newPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pems: Record<string, string> = {
      old: oldPair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      new: newPair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    };
    const result = await walkRecipe('ES256', (kids) => fromPem(Object.fromEntries(kids.map((kid) => [kid, pems[kid] as string]))), {
      old: signerWith('ES256', 'old', oldPair.privateKey),
      new: signerWith('ES256', 'new', newPair.privateKey),
    });
    assert.deepEqual(result, { failed: 0, checked: 10, removedOld: 'ERR_AUTH_KEY_NOT_FOUND' });
  });
});
