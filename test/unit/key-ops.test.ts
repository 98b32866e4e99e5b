/**
 * `key_ops` and `use` of a published key (RFC 7517 §4.2, §4.3): a key whose `key_ops` is malformed —
 * not an array, values that are not strings, duplicates, holes — or does not allow `verify`, or also
 * allows operations other than signing (which contradicts `use: "sig"`), must not verify anything.
 * jose's key-set code (`createLocalJWKSet`, the reference each case is compared with) refuses all of
 * these too; the one key it refuses and we take is listed below with the reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT, createLocalJWKSet } from 'jose';
import { AuthConfigError, createAuthenticator, fromJwks } from '../../src/index.ts';
import { importJwks } from '../../src/keys/jwk.ts';
import { rsaKeyPair } from '../support/pem.ts';

const rsa = rsaKeyPair();
const base = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k', alg: 'RS256' };

/** An array with a hole at index 1 (JSON cannot express it; a JWKS object built in code can). */
function withHole(): unknown[] {
  const operations: unknown[] = ['verify'];
  operations[2] = 'sign';
  return operations;
}

/** Whether jose's key-set code would use this key for an RS256 token naming its kid. */
async function joseUses(jwk: Record<string, unknown>): Promise<boolean> {
  try {
    await createLocalJWKSet({ keys: [jwk as never] })({ alg: 'RS256', kid: 'k' });
    return true;
  } catch {
    return false;
  }
}

/** Whether we use it, and why not. */
function ours(jwk: Record<string, unknown>): { usable: boolean; reason: string | undefined } {
  const { keys, skipped } = importJwks({ keys: [jwk] });
  return { usable: keys.length === 1, reason: skipped[0]?.reason };
}

const token = () => new SignJWT({ sub: 'holder', exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).sign(rsa.privateKey);

describe('key_ops: malformed values make the key unusable (RFC 7517 §4.3, as jose)', () => {
  const malformed: Array<[string, unknown]> = [
    ['a duplicate: ["verify", "verify"]', ['verify', 'verify']],
    ['a duplicate beside another value: ["sign", "verify", "sign"]', ['sign', 'verify', 'sign']],
    ['a number: ["verify", 0]', ['verify', 0]],
    ['null: ["verify", null]', ['verify', null]],
    ['a nested array: ["verify", ["verify"]]', ['verify', ['verify']]],
    ['an array with a hole: ["verify", <hole>, "sign"]', withHole()],
    ['a string: "verify"', 'verify'],
    ['an object: { "0": "verify" }', { 0: 'verify' }],
    ['null', null],
  ];
  for (const [name, keyOps] of malformed) {
    it(`${name} → skipped, with a reason; jose refuses it too`, async () => {
      const jwk = { ...base, key_ops: keyOps };
      const verdict = ours(jwk);
      assert.equal(verdict.usable, false);
      assert.match(verdict.reason ?? '', /key_ops/);
      assert.equal(await joseUses(jwk), false, 'jose refuses it');
    });
  }

  it('a token signed by the key itself is refused: the only key → AuthConfigError at construction; beside a good key → KEY_NOT_FOUND', async () => {
    assert.throws(
      () => fromJwks({ keys: [{ ...base, key_ops: ['verify', 'verify'] }] }),
      (error: unknown) => error instanceof AuthConfigError && error.option === 'jwks',
    );
    const other = rsaKeyPair();
    const resolver = fromJwks({
      keys: [
        { ...base, key_ops: ['verify', 0] },
        { ...other.publicKey.export({ format: 'jwk' }), kid: 'other' },
      ],
    });
    const authenticator = createAuthenticator({ keys: resolver, algorithms: ['RS256'], cache: false });
    await assert.rejects(async () => authenticator.authenticate(await token(), '/x.Y/Z'), { code: 'ERR_AUTH_KEY_NOT_FOUND' });
  });
});

describe('key_ops: well-formed values', () => {
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['["verify"]', { key_ops: ['verify'] }, true],
    ['use "sig" with ["verify"]', { use: 'sig', key_ops: ['verify'] }, true],
    ['[] (no operation allowed)', { key_ops: [] }, false],
    ['["sign"] (verify not allowed)', { key_ops: ['sign'] }, false],
    ['["Verify"] (values are case-sensitive)', { key_ops: ['Verify'] }, false],
  ];
  for (const [name, members, usable] of cases) {
    it(`${name} → ${usable ? 'used' : 'skipped'}, as jose`, async () => {
      const jwk = { ...base, ...members };
      assert.equal(ours(jwk).usable, usable);
      assert.equal(await joseUses(jwk), usable);
    });
  }

  it('["sign", "verify"] → used; jose refuses it, documented: RFC 7517 §4.3 names sign + verify as the pair that belongs together', async () => {
    // jose's own rule takes the key; it then fails in WebCrypto's import, which allows a public key no
    // usage but "verify". A verifier holds no private key, so "sign" on the pair grants us nothing more.
    const jwk = { ...base, key_ops: ['sign', 'verify'] };
    assert.equal(ours(jwk).usable, true);
    assert.equal(await joseUses(jwk), false);
    const authenticator = createAuthenticator({ keys: fromJwks({ keys: [jwk] }), algorithms: ['RS256'] });
    assert.equal((await authenticator.authenticate(await token(), '/x.Y/Z')).context.subject, 'holder');
  });
});

describe('key_ops with operations other than signing → skipped, as jose; with use "sig" they also contradict it (RFC 7517 §4.3)', () => {
  // With an RSA key, a provider that also decrypts with it is a signing oracle: c^d is a signature.
  for (const operation of ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'deriveKey', 'deriveBits', 'x-custom']) {
    for (const use of [undefined, 'sig']) {
      it(`${use === undefined ? 'no use' : `use "${use}"`}, key_ops ["verify", "${operation}"] → skipped; jose refuses it too`, async () => {
        const jwk = { ...base, ...(use === undefined ? {} : { use }), key_ops: ['verify', operation] };
        const verdict = ours(jwk);
        assert.equal(verdict.usable, false);
        assert.match(verdict.reason ?? '', /key_ops/);
        assert.equal(await joseUses(jwk), false);
      });
    }
  }

  it('use "enc" with key_ops ["verify"] → skipped (use alone already says no)', () => {
    assert.equal(ours({ ...base, use: 'enc', key_ops: ['verify'] }).usable, false);
  });
});

describe('ext (WebCrypto extractable flag): a non-boolean makes the key unusable, as jose', () => {
  for (const ext of ['true', 1, null]) {
    it(`ext ${JSON.stringify(ext)} → skipped; jose refuses it too`, async () => {
      const jwk = { ...base, ext };
      const verdict = ours(jwk);
      assert.equal(verdict.usable, false);
      assert.match(verdict.reason ?? '', /ext/);
      assert.equal(await joseUses(jwk), false);
    });
  }

  it('ext true or false → used, as jose', async () => {
    for (const ext of [true, false]) {
      assert.equal(ours({ ...base, ext }).usable, true);
      assert.equal(await joseUses({ ...base, ext }), true);
    }
  });
});
