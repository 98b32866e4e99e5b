/**
 * `authenticatedCall` with a certificate-bound token (`signOptions.bindTo`): the test call stands for a
 * call over the connection with that certificate, so the handler sees `confirmation.x5tS256`.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { certificateThumbprint, getAuth } from '../../src/index.ts';
import { authenticatedCall, createTestIssuer } from '../../src/testing/index.ts';
import { selfSignedCertificate } from '../support/pem.ts';

describe('authenticatedCall with signOptions.bindTo', () => {
  it('bound token → the call is admitted as over that certificate, confirmation.x5tS256 set', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const pem = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const call = await authenticatedCall(idp, { signOptions: { bindTo: { certificate: pem } } });
    assert.equal(getAuth(call).confirmation?.x5tS256, certificateThumbprint(pem));
  });

  it("verify.certificateBinding 'required' and an unbound token → rejects ERR_AUTH_TOKEN_NOT_BOUND", async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    await assert.rejects(authenticatedCall(idp, { verify: { certificateBinding: 'required' } }), { code: 'ERR_AUTH_TOKEN_NOT_BOUND' });
  });
});
