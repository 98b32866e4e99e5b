/**
 * Cases ported from panva/jose's key-set tests (test/jwks/local.test.ts and the option checks of
 * test/jwks/remote.test.ts, read at commit afbc664), rewritten against our API: what jose refuses as a
 * malformed set or an unusable key, we refuse or skip too. Where our answer differs by design, the
 * case says so: an empty or all-skipped set is a configuration error here (a verifier with no key
 * would refuse every call), where jose accepts it and finds no key later.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { AuthConfigError, createAuthenticator, fromIssuer, fromJwks } from '../../src/index.ts';
import { importJwks } from '../../src/keys/jwk.ts';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = ec.publicKey.export({ format: 'jwk' });
const privateJwk = ec.privateKey.export({ format: 'jwk' });

const configError = (error: unknown): boolean => error instanceof AuthConfigError && error.option === 'jwks';

/** The reason our import skips this one key, or undefined when it is taken. */
function skipReason(jwk: Record<string, unknown>): string | undefined {
  const { keys, skipped } = importJwks({ keys: [jwk] });
  assert.equal(keys.length + skipped.length, 1);
  return skipped[0]?.reason;
}

describe('peer cases (jose local JWKS): malformed sets', () => {
  const sparse: unknown[] = [];
  sparse.length = 1;
  const shapes: Array<[string, unknown]> = [
    ['null', null],
    ['{}', {}],
    ['{ keys: null }', { keys: null }],
    ['{ keys: {} }', { keys: {} }],
    ['{ keys: [null] }', { keys: [null] }],
    ['{ keys: [0] }', { keys: [0] }],
    ['{ keys: [undefined] }', { keys: [undefined] }],
    ['{ keys: [[]] }', { keys: [[]] }],
    ['{ keys: <one hole> }', { keys: sparse }],
    ['1', 1],
    ['a function (Boolean)', Boolean],
    ['{ keys: [] } (jose accepts it; a verifier with no key is a configuration mistake here)', { keys: [] }],
  ];
  for (const [name, set] of shapes) {
    it(`${name} → AuthConfigError naming jwks`, () => {
      assert.throws(() => fromJwks(set as never), configError);
    });
  }

  it('a hole or a non-object beside a good key: skipped with its index, the good key is used', () => {
    const keys: unknown[] = [null, 0, [], { ...publicJwk, kid: 'good' }];
    const { keys: taken, skipped } = importJwks({ keys });
    assert.deepEqual(
      taken.map((key) => key.kid),
      ['good'],
    );
    assert.deepEqual(
      skipped.map((key) => key.index),
      [0, 1, 2],
    );
  });
});

describe('peer cases (jose local JWKS): members that make a key unusable', () => {
  const sparseKeyOps: unknown[] = [];
  sparseKeyOps[1] = 'verify';
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['use 0 (not a string)', { use: 0 }, /use/],
    ['use "enc"', { use: 'enc' }, /use/],
    ['alg 0 (not a string)', { alg: 0 }, /alg/],
    ['alg ES384 on a P-256 key', { alg: 'ES384' }, /alg/],
    ['alg HS256 on a public key', { alg: 'HS256' }, /alg/],
    ['key_ops null', { key_ops: null }, /key_ops/],
    ['key_ops {}', { key_ops: {} }, /key_ops/],
    ['key_ops "verify" (a string)', { key_ops: 'verify' }, /key_ops/],
    ['key_ops 0', { key_ops: 0 }, /key_ops/],
    ['key_ops ["verify", "verify"]', { key_ops: ['verify', 'verify'] }, /key_ops/],
    ['key_ops ["verify", 0]', { key_ops: ['verify', 0] }, /key_ops/],
    ['key_ops [<hole>, "verify"]', { key_ops: sparseKeyOps }, /key_ops/],
    ['ext "true" (not a boolean)', { ext: 'true' }, /ext/],
    ['kid 0 (not a string)', { kid: 0 }, /kid/],
  ];
  for (const [name, members, reason] of cases) {
    it(`${name} → skipped, with a reason naming the member`, () => {
      assert.match(skipReason({ ...publicJwk, ...members }) ?? 'taken', reason);
    });
  }

  it('a private JWK (d present) → skipped: a verifier must not hold the signing key', () => {
    assert.match(skipReason({ ...privateJwk }) ?? 'taken', /private/);
  });

  it('the plain public key, with use "sig", key_ops ["verify"], ext true or alg ES256 → taken', () => {
    for (const members of [{}, { use: 'sig' }, { key_ops: ['verify'] }, { ext: true }, { alg: 'ES256' }]) {
      assert.equal(skipReason({ ...publicJwk, ...members }), undefined, JSON.stringify(members));
    }
  });
});

describe('peer cases (jose local JWKS): key selection', () => {
  it('a token whose kid is a number never reaches the key named "expected", nor the only-key fallback', async () => {
    const authenticator = createAuthenticator({ keys: fromJwks({ keys: [{ ...publicJwk, kid: 'expected' }] }), algorithms: ['ES256'] });
    const token = await new SignJWT({ sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 })
      .setProtectedHeader({ alg: 'ES256', kid: 0 as never })
      .sign(ec.privateKey);
    await assert.rejects(async () => authenticator.authenticate(token, '/x.Y/Z'), { code: 'ERR_AUTH_TOKEN_HEADER_INVALID' });
  });
});

describe('peer cases (jose remote JWKS): options', () => {
  const url = 'https://idp.example/.well-known/jwks.json';
  const numbers = ['timeout', 'cooldown', 'cacheMaxAge', 'minCacheMaxAge', 'maxCacheMaxAge', 'staleIfError', 'maxResponseBytes'] as const;

  for (const value of [Number.NaN, Number.POSITIVE_INFINITY, -1, '5']) {
    it(`every numeric option refuses ${typeof value === 'string' ? `the string ${value}` : value}, naming the option`, () => {
      for (const option of numbers) {
        assert.throws(
          () => fromJwks(url, { [option]: value }),
          (error: unknown) => error instanceof AuthConfigError && error.option === option,
          option,
        );
      }
    });
  }

  it('every option is read once: a getter cannot pass the check with one value and be used with another', () => {
    const values: Record<string, unknown> = {
      timeout: 1,
      cooldown: 30,
      cacheMaxAge: 600,
      minCacheMaxAge: 60,
      maxCacheMaxAge: 3600,
      staleIfError: 60,
      maxResponseBytes: 65_536,
      tokensWithoutKid: 'try',
      allowInsecureHttp: false,
      clock: Date.now,
      onEvent: () => undefined,
    };
    for (const build of [(options: object) => fromJwks(url, options), (options: object) => fromIssuer('https://idp.example', options)]) {
      for (const [option, value] of Object.entries(values)) {
        let reads = 0;
        const options = Object.defineProperty({}, option, {
          enumerable: true,
          get() {
            reads += 1;
            return value;
          },
        });
        build(options).close?.();
        assert.equal(reads, 1, option);
      }
    }
  });

  it('allowInsecureHttp as a getter that answers false, then "yes": checked once, so http to a remote host stays refused', () => {
    let reads = 0;
    const options = Object.defineProperty({}, 'allowInsecureHttp', {
      enumerable: true,
      get: () => (++reads === 1 ? false : 'yes'),
    });
    assert.throws(
      () => fromJwks('http://idp.example/jwks.json', options),
      (error: unknown) => error instanceof AuthConfigError && error.option === 'jwksUri',
    );
  });
});
