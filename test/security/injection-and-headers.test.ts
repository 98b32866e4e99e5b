/**
 * Attack classes: key injection through `jwk`, `jku`, `x5u`, `x5c` (with a listener proving no outbound
 * request is made); `kid` injection; `crit`, `b64: false` and a JWE where a JWS is expected.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { b64u, compact, goodClaims, hmacToken, keyToken } from './forge.ts';
import { AUDIENCE, ISSUER, expectRefused, startTargets, type Targets } from './targets.ts';

let targets: Targets;
before(async () => {
  targets = await startTargets();
});
after(() => targets.close());
const claims = () => goodClaims(ISSUER, AUDIENCE);

/** A self-signed certificate for the attacker's key, base64 DER as x5c wants it. */
function attackerCertificate(privateKeyPem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'x5c-'));
  try {
    writeFileSync(join(dir, 'key.pem'), privateKeyPem);
    execFileSync('openssl', ['req', '-x509', '-key', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=attacker'], {
      stdio: 'ignore',
    });
    const pem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    return pem.replace(/-----[A-Z ]+-----|\s/g, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('attack: key injection (jwk, jku, x5u, x5c)', () => {
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig' };

  it('embedded jwk with the attacker key, with its own kid, with the trusted kid, and without kid → UNAUTHENTICATED', async () => {
    for (const t of targets.all) {
      for (const header of [
        { jwk: { ...attackerJwk, kid: 'attacker' }, kid: 'attacker' },
        { jwk: { ...attackerJwk, kid: t.kid }, kid: t.kid },
        { jwk: attackerJwk },
      ]) {
        await expectRefused(t, keyToken('RS256', attacker.privateKey, header, claims()));
      }
      // For the secret target: an embedded oct key with the token's own HMAC secret.
      const forgedSecret = 'attacker-secret-attacker-secret-!!';
      await expectRefused(t, hmacToken('HS256', forgedSecret, { kid: t.kid, jwk: { kty: 'oct', k: b64u(forgedSecret) } }, claims()));
    }
  });

  it('jku, x5u and x5c pointing at or carrying the attacker key → UNAUTHENTICATED, and no request reaches any URL in a token', async () => {
    const jwksBefore = targets.jwksRequests();
    const x5c = attackerCertificate(attacker.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    for (const t of targets.all) {
      for (const header of [
        { jku: `${targets.trap.url}/jwks.json`, kid: 'attacker' },
        { jku: `${targets.trap.url}/jwks.json`, kid: t.kid },
        { x5u: `${targets.trap.url}/cert.pem`, kid: t.kid },
        { x5u: `${targets.trap.url}/cert.pem` },
        { x5c: [x5c], kid: t.kid },
        { x5c: [x5c] },
        { jku: `${targets.trap.url}/jwks.json`, x5u: `${targets.trap.url}/x`, x5c: [x5c], jwk: attackerJwk, kid: 'x' },
      ]) {
        await expectRefused(t, keyToken('RS256', attacker.privateKey, header, claims()));
      }
    }
    assert.equal(targets.trap.requests, 0, 'no request to a URL named in a token');
    assert.ok(targets.jwksRequests() - jwksBefore <= 2, 'the configured JWKS is not hammered either');
  });
});

describe('attack: kid injection', () => {
  const kids: Array<[string, unknown]> = [
    ['path traversal', '../../../../etc/passwd'],
    ['absolute path', '/dev/null'],
    ['SQL', "' OR '1'='1' --"],
    ['shell', '$(curl http://127.0.0.1:1/x); `id` | nc'],
    ['URL', 'https://evil.example/key.pem'],
    ['NUL byte', 'rsa-1\u0000'],
    ['10,000 characters', 'k'.repeat(10_000)],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['toString', 'toString'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['number', 1],
    ['null', null],
    ['object', { $ne: null }],
    ['array', ['rsa-1']],
    ['empty string', ''],
  ];
  for (const [name, kid] of kids) {
    it(`kid ${name} → UNAUTHENTICATED`, async () => {
      for (const t of targets.all) {
        // Correctly signed by the trusted key: only the kid is hostile.
        await expectRefused(t, t.good({}, { kid }));
      }
    });
  }
});

describe('attack: critical headers, unencoded payloads, JWE', () => {
  it('crit with an unknown name, with registered names, empty, or not an array → UNAUTHENTICATED', async () => {
    for (const t of targets.all) {
      for (const crit of [['x-unknown'], ['exp'], ['alg'], ['b64'], [], 'b64', [1]]) await expectRefused(t, t.good({}, { crit, 'x-unknown': true }));
    }
  });
  it('b64: false (with and without crit) → UNAUTHENTICATED', async () => {
    for (const t of targets.all) {
      await expectRefused(t, t.good({}, { b64: false, crit: ['b64'] }));
      await expectRefused(t, t.good({}, { b64: false }));
    }
  });
  it('a JWE (five segments) where a JWS is expected → UNAUTHENTICATED', async () => {
    const jwe = `${b64u({ alg: 'dir', enc: 'A256GCM' })}..${b64u('iv-iv-iv-iv')}.${b64u('ciphertext')}.${b64u('tag')}`;
    for (const t of targets.all) await expectRefused(t, jwe);
  });
  it('a nested JWT (a token as the payload, cty: JWT) → UNAUTHENTICATED', async () => {
    for (const t of targets.all) {
      const inner = t.good();
      await expectRefused(t, compact({ alg: 'none', cty: 'JWT' }, inner));
    }
  });
});
