/**
 * The CLI's `verify` and certificate-bound tokens (RFC 8705): the CLI has no connection to prove a binding
 * on, so a bound token whose signature and claims verify is reported verified, as before
 * `createAuthenticator` began refusing bound tokens given no client certificate.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { createTestIssuer } from '../../src/testing/index.ts';
import { verifyToken, type VerifySettings } from '../../src/cli/verification.ts';
import type { KeySource } from '../../src/cli/key-source.ts';
import { selfSignedCertificate } from '../support/pem.ts';

const decode = (token: string) => {
  const [header, claims] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
  return { header: header!, claims: claims! };
};

describe('CLI verify of a certificate-bound token', () => {
  it('bound token, good signature and claims → ok with the key id (no certificate to check it against)', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const pem = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const source = { resolver: idp.keys, flag: '--jwks', origin: 'test', remote: false, listing: async () => undefined, lastFailure: undefined, close() {} };
    const settings = { source: source as unknown as KeySource, algorithms: ['ES256'], issuers: [], audiences: [], clockTolerance: 60 } satisfies VerifySettings;
    const bound = await idp.sign({}, { bindTo: { certificate: pem } });
    const result = await verifyToken(bound, decode(bound), settings, Date.now);
    assert.deepEqual(result, { ok: true, kid: decode(bound).header.kid });
    const malformed = await idp.sign({ cnf: { 'x5t#S256': 'ab'.repeat(32) } });
    const refused = await verifyToken(malformed, decode(malformed), settings, Date.now);
    assert.equal(refused.ok ? undefined : refused.error.code, 'ERR_AUTH_CLAIM_INVALID');
  });
});

describe('CLI verify of a DPoP-bound token', () => {
  it('cnf.jkt, good signature and claims → ok (no proof to check); a malformed jkt → CLAIM_INVALID', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const source = { resolver: idp.keys, flag: '--jwks', origin: 'test', remote: false, listing: async () => undefined, lastFailure: undefined, close() {} };
    const settings = { source: source as unknown as KeySource, algorithms: ['ES256'], issuers: [], audiences: [], clockTolerance: 60 } satisfies VerifySettings;
    const bound = await idp.sign({ cnf: { jkt: 'A'.repeat(43) } });
    assert.deepEqual(await verifyToken(bound, decode(bound), settings, Date.now), { ok: true, kid: decode(bound).header.kid });
    const malformed = await idp.sign({ cnf: { jkt: 'ab'.repeat(32) } });
    const refused = await verifyToken(malformed, decode(malformed), settings, Date.now);
    assert.equal(refused.ok ? undefined : refused.error.code, 'ERR_AUTH_CLAIM_INVALID');
  });
});
