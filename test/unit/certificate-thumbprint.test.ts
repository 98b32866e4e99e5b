/**
 * RFC 8705 §3.1 thumbprints, the `cnf` reader, the certificate source without grpc-js `getAuthContext`,
 * and the options of certificate binding.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createHash, generateKeyPairSync } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { Metadata, type ServerInterceptingCallInterface } from '@grpc/grpc-js';
import { AuthConfigError, certificateThumbprint, createAuthenticator, createAuthInterceptor, fromSecret } from '../../src/index.ts';
import { certificateThumbprint as testingThumbprint, createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { isThumbprint, sameThumbprint, thumbprintFromFingerprint256, thumbprintOfDer } from '../../src/verify/certificate-thumbprint.ts';
import { readConfirmation } from '../../src/verify/confirmation.ts';
import { certificateSource } from '../../src/server/client-certificate.ts';
import { selfSignedCertificate } from '../support/pem.ts';

const pem = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const x509 = new X509Certificate(pem);
const secret = 'a-secret-of-thirty-two-bytes-or-more!';

describe('certificateThumbprint (x5t#S256, RFC 8705 §3.1)', () => {
  it('is base64url SHA-256 of the DER bytes, 43 characters, no padding', () => {
    const expected = createHash('sha256').update(x509.raw).digest('base64url');
    assert.equal(certificateThumbprint(pem), expected);
    assert.equal(expected.length, 43);
    assert.ok(isThumbprint(expected));
  });

  it('PEM string, PEM bytes and DER bytes give the same thumbprint; the testing entry exports the same function', () => {
    const fromPem = certificateThumbprint(pem);
    assert.equal(certificateThumbprint(Buffer.from(pem)), fromPem);
    assert.equal(certificateThumbprint(x509.raw), fromPem);
    assert.equal(certificateThumbprint(new Uint8Array(x509.raw)), fromPem);
    assert.equal(testingThumbprint, certificateThumbprint);
  });

  it('Node fingerprint256 (hex with colons) → the same thumbprint as hashing raw', () => {
    assert.equal(thumbprintFromFingerprint256(x509.fingerprint256), thumbprintOfDer(x509.raw));
    assert.equal(thumbprintFromFingerprint256(x509.fingerprint256.toLowerCase()), thumbprintOfDer(x509.raw));
  });

  it('anything but a fingerprint256 → undefined (the caller hashes raw instead)', () => {
    for (const value of [undefined, '', 'AB:CD', x509.fingerprint, x509.fingerprint256.replaceAll(':', ''), `${x509.fingerprint256}:00`, 42]) {
      assert.equal(thumbprintFromFingerprint256(value), undefined, String(value));
    }
  });

  it('not a certificate (a key, garbage, a number) → AuthConfigError', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    for (const value of [key, 'garbage', new Uint8Array([0x30, 0x00]), 42 as never]) {
      assert.throws(() => certificateThumbprint(value), AuthConfigError);
    }
  });

  it('isThumbprint accepts only the canonical 43-character spelling', () => {
    assert.ok(isThumbprint('A'.repeat(43)));
    assert.ok(isThumbprint(`${'_-'.repeat(21)}w`));
    for (const value of ['A'.repeat(42), 'A'.repeat(44), `${'A'.repeat(43)}=`, `${'A'.repeat(42)}B`, 'ab'.repeat(32), `${'A'.repeat(42)}+`, 43, null]) {
      assert.equal(isThumbprint(value), false, String(value));
    }
  });

  it('sameThumbprint: equal → true, one character off or another length → false', () => {
    assert.equal(sameThumbprint('A'.repeat(43), 'A'.repeat(43)), true);
    assert.equal(sameThumbprint('A'.repeat(43), `${'A'.repeat(42)}E`), false);
    assert.equal(sameThumbprint('A'.repeat(43), 'A'.repeat(42)), false);
  });
});

describe('readConfirmation (cnf)', () => {
  const x5t = certificateThumbprint(pem);
  it('no cnf, or cnf without x5t#S256 → undefined; x5t#S256 → { x5tS256 }', () => {
    assert.equal(readConfirmation({}, 'when-bound'), undefined);
    assert.equal(readConfirmation({ cnf: {} }, 'required'), undefined);
    assert.equal(readConfirmation({ cnf: { jwk: {} } }, 'when-bound'), undefined);
    assert.deepEqual(readConfirmation({ cnf: { 'x5t#S256': x5t, other: 1 } }, 'when-bound'), { x5tS256: x5t });
  });
  it('malformed cnf → CLAIM_INVALID under when-bound and required; ignored under off', () => {
    for (const cnf of ['x', null, [], 5, { 'x5t#S256': 'ab'.repeat(32) }, { 'x5t#S256': null }]) {
      for (const mode of ['when-bound', 'required'] as const) {
        assert.throws(() => readConfirmation({ cnf }, mode), { code: 'ERR_AUTH_CLAIM_INVALID' }, JSON.stringify(cnf));
      }
      assert.equal(readConfirmation({ cnf }, 'off'), undefined);
    }
  });
});

describe('certificate source', () => {
  it('a grpc-js without getAuthContext: no certificate, and one warning however many calls', () => {
    const warnings: string[] = [];
    const source = certificateSource(undefined, { warn: (_fields, message) => warnings.push(message) });
    const oldCall = { getPeer: () => '127.0.0.1:1' } as unknown as ServerInterceptingCallInterface;
    assert.equal(source(oldCall, new Metadata(), '/p.S/M'), undefined);
    assert.equal(source(oldCall, new Metadata(), '/p.S/M'), undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /getAuthContext/);
  });

  it('a verified certificate without fingerprint256 is hashed from raw', () => {
    const source = certificateSource(undefined, undefined);
    const call = {
      getAuthContext: () => ({ transportSecurityType: 'ssl', sslPeerCertificate: { raw: x509.raw } }),
    } as unknown as ServerInterceptingCallInterface;
    assert.equal(source(call, new Metadata(), '/p.S/M'), certificateThumbprint(pem));
  });
});

describe('options of certificate binding', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
  });

  it('certificateBinding: anything but required | when-bound | off → AuthConfigError naming it (top level and issuers[i])', () => {
    const keys = fromSecret(secret);
    for (const value of ['Required', 'on', true, null, 1]) {
      assert.throws(() => createAuthInterceptor({ keys, algorithms: ['HS256'], certificateBinding: value as never }), { option: 'certificateBinding' });
      assert.throws(() => createAuthenticator({ keys, algorithms: ['HS256'], certificateBinding: value as never }), { option: 'certificateBinding' });
      assert.throws(() => createAuthInterceptor({ issuers: [{ issuer: 'https://a.test', keys, algorithms: ['HS256'], certificateBinding: value as never }] }), {
        option: 'issuers[0].certificateBinding',
      });
    }
    for (const value of ['required', 'when-bound', 'off'] as const) createAuthInterceptor({ keys, algorithms: ['HS256'], certificateBinding: value });
  });

  it('clientCertificate: not a function → AuthConfigError naming it', () => {
    for (const value of ['x-forwarded-client-cert', 5, {}, null]) {
      assert.throws(() => createAuthInterceptor({ keys: fromSecret(secret), algorithms: ['HS256'], clientCertificate: value as never }), {
        option: 'clientCertificate',
      });
    }
  });

  it('sign bindTo: puts cnf x5t#S256, merged with the claims own cnf; a non-certificate → AuthConfigError bindTo.certificate', async () => {
    const token = await idp.sign({ cnf: { kid: 'k' } }, { bindTo: { certificate: pem } });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { cnf: Record<string, string> };
    assert.deepEqual(payload.cnf, { kid: 'k', 'x5t#S256': certificateThumbprint(pem) });
    await assert.rejects(idp.sign({}, { bindTo: { certificate: 'not a certificate' } }), { option: 'bindTo.certificate' });
    await assert.rejects(idp.sign({}, { bindTo: { cert: pem } as never }), { option: 'bindTo.cert' });
    await assert.rejects(idp.sign({}, { bindTo: 'cert' as never }), { option: 'bindTo' });
  });
});

describe('review: what a clientCertificate hook returns', () => {
  const call = { getPeer: () => '127.0.0.1:1', getAuthContext: () => ({}) } as unknown as ServerInterceptingCallInterface;

  it('hook returns the 32-byte SHA-256 itself (not DER) → ERR_AUTH_INTERNAL, never hashed again into a thumbprint no token matches', () => {
    const hash = createHash('sha256').update(x509.raw).digest();
    for (const answer of [hash, new Uint8Array(hash), Buffer.from(certificateThumbprint(pem))]) {
      const source = certificateSource(() => answer, undefined);
      assert.throws(() => source(call, new Metadata(), '/p.S/M'), { code: 'ERR_AUTH_INTERNAL' });
    }
  });

  it('hook returns DER (Buffer or Uint8Array) → the certificate thumbprint', () => {
    for (const answer of [x509.raw, new Uint8Array(x509.raw)]) {
      assert.equal(certificateSource(() => answer, undefined)(call, new Metadata(), '/p.S/M'), certificateThumbprint(pem));
    }
  });
});

describe('review: createAuthenticator and certificate-bound tokens (no connection to prove them on)', () => {
  let idp: TestIssuer;
  let bound: string;
  let unbound: string;
  const x5t = certificateThumbprint(pem);
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    bound = await idp.sign({}, { bindTo: { certificate: pem } });
    unbound = await idp.sign({});
  });
  const authenticator = (certificateBinding?: 'required' | 'when-bound' | 'off') =>
    createAuthenticator({
      keys: idp.keys,
      algorithms: ['HS256'],
      issuer: idp.issuer,
      audience: idp.audience,
      ...(certificateBinding ? { certificateBinding } : {}),
    });

  it('when-bound (default): a bound token without a certificate → ERR_AUTH_CERTIFICATE_MISSING, not admitted as a bearer token', async () => {
    await assert.rejects(authenticator().authenticate(bound, '/p.S/M'), { code: 'ERR_AUTH_CERTIFICATE_MISSING' });
    await assert.rejects(authenticator('when-bound').authenticate(bound, '/p.S/M', {}), { code: 'ERR_AUTH_CERTIFICATE_MISSING' });
  });

  it('when-bound: the matching clientCertificate (x5t#S256 or DER) → admitted with confirmation; another → ERR_AUTH_CERTIFICATE_MISMATCH', async () => {
    const admitted = await authenticator().authenticate(bound, '/p.S/M', { clientCertificate: x5t });
    assert.equal(admitted.context.confirmation?.x5tS256, x5t);
    assert.equal((await authenticator().authenticate(bound, '/p.S/M', { clientCertificate: x509.raw })).context.confirmation?.x5tS256, x5t);
    await assert.rejects(authenticator().authenticate(bound, '/p.S/M', { clientCertificate: 'A'.repeat(43) }), { code: 'ERR_AUTH_CERTIFICATE_MISMATCH' });
    assert.equal((await authenticator().authenticate(unbound, '/p.S/M')).context.confirmation, undefined);
  });

  it('required: an unbound token → ERR_AUTH_TOKEN_NOT_BOUND (it was admitted)', async () => {
    await assert.rejects(authenticator('required').authenticate(unbound, '/p.S/M', { clientCertificate: x5t }), { code: 'ERR_AUTH_TOKEN_NOT_BOUND' });
    await assert.rejects(authenticator('required').authenticate(bound, '/p.S/M'), { code: 'ERR_AUTH_CERTIFICATE_MISSING' });
  });

  it('off: a bound token passes without a certificate, as a bearer token', async () => {
    assert.equal((await authenticator('off').authenticate(bound, '/p.S/M')).context.confirmation, undefined);
  });

  it('a clientCertificate that is neither an x5t#S256 nor DER (hex, PEM, a number) → rejects ERR_AUTH_INTERNAL', async () => {
    for (const value of ['ab'.repeat(32), pem, 42]) {
      await assert.rejects(authenticator().authenticate(bound, '/p.S/M', { clientCertificate: value as never }), { code: 'ERR_AUTH_INTERNAL' });
    }
  });
});

describe('review: admission when reading the certificate fails', () => {
  it('a certificate source that throws (getAuthContext failing) refuses the bound token, on a miss and on a cache hit', async () => {
    const { admit } = await import('../../src/server/admission.ts');
    const { buildAuthenticator } = await import('../../src/verify/authenticator.ts');
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = buildAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const bound = await idp.sign({}, { bindTo: { certificate: pem } });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${bound}`);
    const policy = { rule: 'authenticated' as const, info: { method: '/p.S/M' } };
    const failing = (): string => {
      throw new Error('socket gone');
    };
    await assert.rejects(async () => admit(policy, authenticator, metadata, failing), /socket gone/);
    await assert.rejects(async () => admit(policy, authenticator, metadata, failing), /socket gone/);
    assert.ok(await admit(policy, authenticator, metadata, () => certificateThumbprint(pem)));
  });
});
