/**
 * PEM texts holding more than one block. `fromPem` reads one key per text; OpenSSL reads the first
 * block and ignores the rest, so a second key was dropped in silence (the kid it was meant for then
 * verified with the first), and a signing key after the public key was taken without a word although
 * private keys are refused: a server that verifies tokens must not hold the signing key, even unused.
 * A certificate chain (leaf first, then its issuers) stays one key: the leaf's.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { AuthConfigError, createAuthenticator, fromPem } from '../../src/index.ts';
import { selfSignedCertificate } from '../support/pem.ts';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = (key: ReturnType<typeof pair>['publicKey']): string => key.export({ type: 'spki', format: 'pem' }) as string;
const refused = (option: string, reason: RegExp) => (error: unknown) =>
  error instanceof AuthConfigError && error.option === option && reason.test(error.message);

describe('fromPem: a text with several PEM blocks', () => {
  it('a public key followed by its private key (PKCS#8, SEC1) → refused, naming the option', () => {
    const { publicKey, privateKey } = pair();
    for (const privatePem of [privateKey.export({ type: 'pkcs8', format: 'pem' }), privateKey.export({ type: 'sec1', format: 'pem' })]) {
      assert.throws(() => fromPem(`${spki(publicKey)}${String(privatePem)}`), refused('pem', /PRIVATE/));
      assert.throws(() => fromPem({ 'key-1': `${spki(publicKey)}\n${String(privatePem)}` }), refused('pem["key-1"]', /PRIVATE/));
    }
  });

  it('two public keys in one text → refused: give each its own kid', () => {
    assert.throws(() => fromPem(`${spki(pair().publicKey)}${spki(pair().publicKey)}`), refused('pem', /2 PEM blocks/));
  });

  it('a certificate chain (leaf, then another certificate) → the leaf key verifies', async () => {
    const leaf = pair();
    const chain = `${selfSignedCertificate(leaf.privateKey)}${selfSignedCertificate(pair().privateKey)}`;
    const authenticator = createAuthenticator({ keys: fromPem(chain), algorithms: ['ES256'] });
    const token = await new SignJWT({ sub: 'leaf', exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'ES256' }).sign(leaf.privateKey);
    assert.equal((await authenticator.authenticate(token, '/x.Y/Z')).context.subject, 'leaf');
  });

  it('a certificate followed by a public key → refused: a chain holds certificates only', () => {
    const { privateKey } = pair();
    assert.throws(() => fromPem(`${selfSignedCertificate(privateKey)}${spki(pair().publicKey)}`), refused('pem', /2 PEM blocks/));
  });

  it('one block with text around it (as openssl prints it) → taken', () => {
    const { publicKey } = pair();
    assert.doesNotThrow(() => fromPem(`Public-Key: (256 bit)\n${spki(publicKey)}trailing note\n`));
  });
});
