/**
 * The test issuer's `sign(claims, { bindTo })` for DPoP (RFC 9449): `bindTo.jkt` becomes `cnf.jkt`,
 * beside a certificate binding and any `cnf` the claims bring; a value that is not a JWK thumbprint is
 * refused when signing, naming the option.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { certificateThumbprint } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { selfSignedCertificate } from '../support/pem.ts';

describe('sign bindTo.jkt', () => {
  it('bindTo.jkt → cnf.jkt, the RFC 7638 thumbprint of the client key as given', async () => {
    const idp = await createTestIssuer();
    const { publicKey } = await generateKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
    assert.deepEqual(decodeJwt(await idp.sign({}, { bindTo: { jkt } })).cnf, { jkt });
  });

  it('jkt and certificate together → both members; merged with the claims own cnf members', async () => {
    const idp = await createTestIssuer();
    const pem = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
    const token = await idp.sign({ cnf: { kid: 'k' } }, { bindTo: { jkt, certificate: pem } });
    assert.deepEqual(decodeJwt(token).cnf, { kid: 'k', 'x5t#S256': certificateThumbprint(pem), jkt });
  });

  it('bindTo.jkt overrides a cnf.jkt of the claims; a claims cnf alone is kept as written (for hostile-token tests)', async () => {
    const idp = await createTestIssuer();
    const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
    assert.deepEqual(decodeJwt(await idp.sign({ cnf: { jkt: 'old' } }, { bindTo: { jkt } })).cnf, { jkt });
    assert.deepEqual(decodeJwt(await idp.sign({ cnf: { jkt: 42 } })).cnf, { jkt: 42 });
  });

  it('a jkt that is not a base64url SHA-256 thumbprint (hex, 42 characters, padded, a JWK, a number) → AuthConfigError bindTo.jkt', async () => {
    const idp = await createTestIssuer();
    for (const bad of ['ab'.repeat(32), 'A'.repeat(42), `${'A'.repeat(43)}=`, 'A'.repeat(44), '', { kty: 'EC' }, 42, null]) {
      await assert.rejects(idp.sign({}, { bindTo: { jkt: bad as string } }), { code: 'ERR_AUTH_INVALID_OPTION', option: 'bindTo.jkt' }, String(bad));
    }
    await assert.rejects(idp.sign({}, { bindTo: { jwk: {} } as never }), { option: 'bindTo.jwk' });
  });
});
