/**
 * Claim-set cases ported from two peers, rewritten against our authenticator (real tokens from the test
 * issuer, a fixed clock), to check that we agree with them where we mean to, and to pin where we differ
 * on purpose:
 *
 * - panva/jose `test/jwt/verify.test.ts` (jwtVerify's claim checks: typ, iss/aud/sub, exp/nbf/iat,
 *   clockTolerance, maxTokenAge, currentDate, payload shape).
 * - auth0/node-oauth2-jwt-bearer `packages/access-token-jwt/test/validate.test.ts` and
 *   `jwt-verifier.test.ts` (typ in strict mode, exp/iat/nbf with clockTolerance and maxTokenAge, custom
 *   validators).
 *
 * Deliberate differences: options jose takes as strings ('30s') or empty strings, and a `typ` that
 * names no media type (`application/text/plain`), are configuration errors here (thrown at
 * construction, naming the option); a claim of the wrong JSON type is refused
 * before the issuer or audience is compared; `exp` is required unless `requireExp: false`; the default
 * clock tolerance is 60 s (jose 0, auth0 5) and at most 300 s; an `iat` exactly `clockTolerance` in the
 * future passes, as in jose (auth0 refuses it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthConfigError, createAuthenticator, isAuthError, type AuthenticatorOptions } from '../../src/index.ts';
import { craftUnsignedToken, createTestIssuer, type TestClaims, type TestIssuer } from '../../src/testing/index.ts';

const METHOD = '/test.v1.S/M';
/** jose's frozen clock in these tests, in seconds. */
const NOW = 1_604_416_038;

/** Claims exactly as given: none of the test issuer's defaults (iss, aud, sub, iat, exp). */
const bare = (claims: TestClaims): TestClaims => ({ iss: undefined, aud: undefined, sub: undefined, iat: undefined, exp: undefined, ...claims });

interface Peer {
  readonly idp: TestIssuer;
  /** 'ok' or the error code of verifying `token` with `options` when the clock reads `at` seconds. */
  verdict(token: string, options?: Partial<AuthenticatorOptions>, at?: number): Promise<string>;
  /** A token with exactly these claims (and header parameters). */
  token(claims: TestClaims, header?: Record<string, unknown>): Promise<string>;
  /** The option an AuthConfigError names for these options, or 'accepted'. */
  configError(options: Partial<AuthenticatorOptions>): string;
}

async function peer(): Promise<Peer> {
  const idp = await createTestIssuer({ alg: 'HS256' });
  return {
    idp,
    async verdict(token, options = {}, at = NOW) {
      const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock: () => at * 1000, ...options });
      try {
        await authenticator.authenticate(token, METHOD);
        return 'ok';
      } catch (error) {
        return isAuthError(error) ? error.code : `not an AuthError: ${String(error)}`;
      }
    },
    token: (claims, header) => idp.sign(bare(claims), header ? { header } : {}),
    configError(options) {
      try {
        createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], ...options });
        return 'accepted';
      } catch (error) {
        return error instanceof AuthConfigError ? error.option : `not an AuthConfigError: ${String(error)}`;
      }
    },
  };
}

describe('ported from panva/jose test/jwt/verify.test.ts', () => {
  it('Basic JWT Claims Set verification: iss, sub, aud, typ, nbf, iat, exp and maxTokenAge 30 all hold → ok, with the context built from them', async () => {
    const { idp, token } = await peer();
    const typ = 'urn:example:typ';
    const signed = await token(
      {
        'urn:example:claim': true,
        iss: 'urn:example:issuer',
        sub: 'urn:example:subject',
        aud: 'urn:example:audience',
        jti: 'urn:example:jti',
        nbf: NOW - 10,
        iat: NOW - 20,
        exp: NOW + 10,
      },
      { typ },
    );
    const authenticator = createAuthenticator({
      keys: idp.keys,
      algorithms: ['HS256'],
      clock: () => NOW * 1000,
      issuer: 'urn:example:issuer',
      subject: 'urn:example:subject',
      audience: 'urn:example:audience',
      typ,
      maxTokenAge: 30,
    });
    const { context } = await authenticator.authenticate(signed, METHOD);
    assert.equal(context.subject, 'urn:example:subject');
    assert.equal(context.issuer, 'urn:example:issuer');
    assert.deepEqual(context.audience, ['urn:example:audience']);
    assert.equal(context.claims['urn:example:claim'], true);
    assert.equal(context.expiresAt?.getTime(), (NOW + 10) * 1000);
    assert.equal(context.issuedAt?.getTime(), (NOW - 20) * 1000);
    assert.equal(context.header.typ, typ);
  });

  it('typ verification: application/ implied only without a slash, both ways; text/plain is not application/text/plain; typ "" is a configuration error', async () => {
    const { verdict, token, configError } = await peer();
    const exp = NOW + 60;
    assert.equal(configError({ typ: '' }), 'typ');
    const urn = await token({ exp }, { typ: 'urn:example:typ' });
    assert.equal(await verdict(urn, { typ: 'application/urn:example:typ' }), 'ok');
    assert.equal(await verdict(urn, { typ: 'urn:example:typ:2' }), 'ERR_AUTH_TOKEN_TYPE_INVALID');
    assert.equal(await verdict(urn, { typ: 'application/urn:example:typ:2' }), 'ERR_AUTH_TOKEN_TYPE_INVALID');
    const full = await token({ exp }, { typ: 'application/urn:example:typ' });
    assert.equal(await verdict(full, { typ: 'urn:example:typ' }), 'ok');
    assert.equal(await verdict(full, { typ: 'application/urn:example:typ:2' }), 'ERR_AUTH_TOKEN_TYPE_INVALID');
    assert.equal(await verdict(full, { typ: 'urn:example:typ:2' }), 'ERR_AUTH_TOKEN_TYPE_INVALID');
    const plain = await token({ exp }, { typ: 'text/plain' });
    assert.equal(await verdict(plain, { typ: 'text/plain' }), 'ok');
    assert.equal(await verdict(plain, { typ: 'application/plain' }), 'ERR_AUTH_TOKEN_TYPE_INVALID');
    // jose compares with application/text/plain and refuses; here a typ with two slashes names no media
    // type and is refused when the authenticator is built.
    assert.equal(configError({ typ: 'application/text/plain' }), 'typ');
    const appPlain = await token({ exp }, { typ: 'application/text/plain' });
    assert.equal(await verdict(appPlain, { typ: 'text/plain' }), 'ERR_AUTH_TOKEN_TYPE_INVALID');
  });

  it('Issuer[] and Audience[] verification: one of the list → ok; none → ISSUER_INVALID / AUDIENCE_INVALID; [] is a configuration error', async () => {
    const { verdict, token, configError } = await peer();
    const signed = await token({ iss: 'urn:example:issuer', aud: 'urn:example:audience', exp: NOW + 60 });
    assert.equal(await verdict(signed, { issuer: ['urn:example:issuer', 'urn:example:issuer:2'] }), 'ok');
    assert.equal(await verdict(signed, { issuer: ['urn:example:issuer:1', 'urn:example:issuer:2'] }), 'ERR_AUTH_ISSUER_INVALID');
    assert.equal(configError({ issuer: [] }), 'issuer');
    assert.equal(await verdict(signed, { audience: ['urn:example:audience', 'urn:example:audience:2'] }), 'ok');
    assert.equal(await verdict(signed, { audience: ['urn:example:audience:1', 'urn:example:audience:2'] }), 'ERR_AUTH_AUDIENCE_INVALID');
    assert.equal(configError({ audience: [] }), 'audience');
  });

  it('Subject verification failed → CLAIM_INVALID', async () => {
    const { verdict, token } = await peer();
    assert.equal(await verdict(await token({ sub: 'urn:example:subject', exp: NOW + 60 }), { subject: 'urn:example:subject:2' }), 'ERR_AUTH_CLAIM_INVALID');
  });

  it('clockTolerance num: exp = now passes with 1 s of tolerance; the string form ("1s") is a configuration error', async () => {
    const { verdict, token, configError } = await peer();
    assert.equal(await verdict(await token({ exp: NOW }), { clockTolerance: 1 }), 'ok');
    assert.equal(configError({ clockTolerance: '1s' as never }), 'clockTolerance');
  });

  it('exp must be in the future: exp = now → TOKEN_EXPIRED (tolerance 0); with the default 60 s it still passes', async () => {
    const { verdict, token } = await peer();
    const signed = await token({ exp: NOW });
    assert.equal(await verdict(signed, { clockTolerance: 0 }), 'ERR_AUTH_TOKEN_EXPIRED');
    assert.equal(await verdict(signed), 'ok');
  });

  it('nbf must be at least now: nbf = now + 1 → TOKEN_NOT_YET_VALID (tolerance 0)', async () => {
    const { verdict, token } = await peer();
    assert.equal(await verdict(await token({ nbf: NOW + 1, exp: NOW + 60 }), { clockTolerance: 0 }), 'ERR_AUTH_TOKEN_NOT_YET_VALID');
  });

  it('iat must be in the past (maxTokenAge 5, with and without exp): iat = now + 1 → TOKEN_NOT_YET_VALID (tolerance 0)', async () => {
    const { verdict, token } = await peer();
    assert.equal(await verdict(await token({ iat: NOW + 1 }), { maxTokenAge: 5, clockTolerance: 0, requireExp: false }), 'ERR_AUTH_TOKEN_NOT_YET_VALID');
    assert.equal(await verdict(await token({ iat: NOW + 1, exp: NOW + 10 }), { maxTokenAge: 5, clockTolerance: 0 }), 'ERR_AUTH_TOKEN_NOT_YET_VALID');
    assert.equal((await peer()).configError({ maxTokenAge: '5s' as never }), 'maxTokenAge');
  });

  it('maxTokenAge option: iat 31 s ago with maxTokenAge 30 → TOKEN_TOO_OLD (tolerance 0)', async () => {
    const { verdict, token } = await peer();
    assert.equal(await verdict(await token({ iat: NOW - 31, exp: NOW + 60 }), { maxTokenAge: 30, clockTolerance: 0 }), 'ERR_AUTH_TOKEN_TOO_OLD');
  });

  it('iat, nbf and exp must be numbers: a string → CLAIM_INVALID', async () => {
    const { verdict, token } = await peer();
    for (const claim of ['iat', 'nbf', 'exp']) {
      assert.equal(await verdict(await token({ exp: NOW + 60, [claim]: 'foo' })), 'ERR_AUTH_CLAIM_INVALID', claim);
    }
  });

  it('Payload must be an object, and JSON: [], "x", null, 1 and non-JSON bytes → TOKEN_MALFORMED', async () => {
    const { idp, verdict } = await peer();
    for (const payload of ['[]', '"x"', 'null', '1', 'not json', '{"exp":']) {
      assert.equal(await verdict(await idp.signRaw(payload)), 'ERR_AUTH_TOKEN_MALFORMED', payload);
    }
  });

  it('invalid UTF-8 in the claims set (C0 AF, an overlong "/") → TOKEN_MALFORMED', async () => {
    const { idp, verdict } = await peer();
    const payload = Buffer.concat([Buffer.from(`{"exp":${NOW + 60},"x":"`), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]);
    assert.equal(await verdict(await idp.signRaw(payload)), 'ERR_AUTH_TOKEN_MALFORMED');
  });

  it('signatures are compared before the claims: an expired token with a bad signature → SIGNATURE_INVALID, not TOKEN_EXPIRED', async () => {
    const { verdict, token } = await peer();
    const expired = await token({ exp: NOW - 3600 });
    const [header, payload] = expired.split('.') as [string, string];
    const forged = `${header}.${payload}.${Buffer.alloc(32).toString('base64url')}`;
    assert.equal(await verdict(forged), 'ERR_AUTH_SIGNATURE_INVALID');
  });

  it('required claims: absent iss, aud, iat, sub where issuer, audience, maxTokenAge, subject ask for them → refused; requiredClaims nbf, constructor, toString, __proto__ → CLAIM_MISSING', async () => {
    const { verdict, token } = await peer();
    const signed = await token({ 'urn:example:claim': true, exp: NOW + 60 });
    assert.equal(await verdict(signed, { issuer: 'foo' }), 'ERR_AUTH_ISSUER_INVALID');
    assert.equal(await verdict(signed, { audience: 'foo' }), 'ERR_AUTH_AUDIENCE_INVALID');
    assert.equal(await verdict(signed, { maxTokenAge: 10 }), 'ERR_AUTH_CLAIM_MISSING');
    assert.equal(await verdict(signed, { subject: 'foo' }), 'ERR_AUTH_CLAIM_INVALID');
    assert.equal(await verdict(signed, { requiredClaims: ['nbf'] }), 'ERR_AUTH_CLAIM_MISSING');
    for (const claim of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.equal(await verdict(signed, { requiredClaims: [claim] }), 'ERR_AUTH_CLAIM_MISSING', claim);
    }
  });

  it('empty-string issuer, subject or audience options are configuration errors, never "compare with the empty string"', async () => {
    const { configError } = await peer();
    for (const option of ['issuer', 'subject', 'audience'] as const) assert.equal(configError({ [option]: '' }), option);
  });

  it('maxTokenAge of 0 is enforced: iat 30 s ago → TOKEN_TOO_OLD; iat now → ok', async () => {
    const { verdict, token } = await peer();
    assert.equal(await verdict(await token({ iat: NOW - 30, exp: NOW + 60 }), { maxTokenAge: 0, clockTolerance: 0 }), 'ERR_AUTH_TOKEN_TOO_OLD');
    assert.equal(await verdict(await token({ iat: NOW, exp: NOW + 60 }), { maxTokenAge: 0, clockTolerance: 0 }), 'ok');
  });

  it('time options must be finite: clockTolerance and maxTokenAge NaN or ±Infinity throw; an invalid current date (a NaN clock) → INTERNAL; a valid tolerance still refuses an expired token', async () => {
    const { verdict, token, configError } = await peer();
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.equal(configError({ clockTolerance: value }), 'clockTolerance');
      assert.equal(configError({ maxTokenAge: value }), 'maxTokenAge');
    }
    const expired = await token({ exp: NOW - 30 });
    assert.equal(await verdict(expired, { clock: () => new Date('nope').getTime() }), 'ERR_AUTH_INTERNAL');
    assert.equal(await verdict(expired, { clockTolerance: 0 }), 'ERR_AUTH_TOKEN_EXPIRED');
  });

  it('currentDate must not silently default invalid falsy values: clock null, 0, false or "" → AuthConfigError naming clock', async () => {
    const { configError } = await peer();
    for (const clock of [null, 0, false, '']) assert.equal(configError({ clock: clock as never }), 'clock');
  });

  it('maxTokenAge must not coerce arbitrary values: { toString: () => "1 hour" } → AuthConfigError naming maxTokenAge', async () => {
    const { configError } = await peer();
    assert.equal(configError({ maxTokenAge: { toString: () => '1 hour' } as never }), 'maxTokenAge');
  });
});

describe('ported from auth0/node-oauth2-jwt-bearer access-token-jwt (validate.test.ts, jwt-verifier.test.ts)', () => {
  /**
   * auth0's times count from the epoch (its fake clock reads 100 s). A 1970 clock is refused here as a
   * wrong unit (it would make tokens without `iat` immortal), so the same offsets count from EPOCH.
   */
  const EPOCH = NOW - 1_000_000;
  const t = (seconds: number): number => EPOCH + seconds;
  const AT = t(100);

  it('typ in strict mode (at+jwt): at+jwt, AT+JWT and application/at+jwt → ok; no typ or typ 1 → TOKEN_TYPE_INVALID', async () => {
    const { verdict, token } = await peer();
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt']) {
      assert.equal(await verdict(await token({ exp: NOW + 60 }, { typ }), { typ: 'at+jwt' }), 'ok', typ);
    }
    assert.equal(await verdict(await token({ exp: NOW + 60 }, { typ: undefined }), { typ: 'at+jwt' }), 'ERR_AUTH_TOKEN_TYPE_INVALID');
    assert.equal(await verdict(await token({ exp: NOW + 60 }, { typ: 1 }), { typ: 'at+jwt' }), 'ERR_AUTH_TOKEN_TYPE_INVALID');
  });

  it('alg: none, None, NONE and an algorithm outside the allowlist → ALG_NOT_ALLOWED', async () => {
    const { verdict } = await peer();
    for (const alg of ['none', 'None', 'NONE']) {
      assert.equal(await verdict(craftUnsignedToken({ exp: NOW + 60 }, { alg })), 'ERR_AUTH_ALG_NOT_ALLOWED', alg);
    }
    const es = await createTestIssuer({ alg: 'ES256' });
    assert.equal(await verdict(await es.sign(bare({ exp: NOW + 60 }))), 'ERR_AUTH_ALG_NOT_ALLOWED');
  });

  it('issuer and audience mismatch → ISSUER_INVALID / AUDIENCE_INVALID; aud of the wrong type → CLAIM_INVALID; one shared audience → ok', async () => {
    const { verdict, token } = await peer();
    assert.equal(await verdict(await token({ iss: 'foo', exp: NOW + 60 }), { issuer: 'https://issuer.example.com' }), 'ERR_AUTH_ISSUER_INVALID');
    assert.equal(await verdict(await token({ aud: 'foo', exp: NOW + 60 }), { audience: ['bar'] }), 'ERR_AUTH_AUDIENCE_INVALID');
    assert.equal(await verdict(await token({ aud: ['bar'], exp: NOW + 60 }), { audience: ['foo'] }), 'ERR_AUTH_AUDIENCE_INVALID');
    assert.equal(await verdict(await token({ aud: 1, exp: NOW + 60 }), { audience: 'foo' }), 'ERR_AUTH_CLAIM_INVALID');
    assert.equal(await verdict(await token({ aud: 'foo', exp: NOW + 60 }), { audience: ['foo'] }), 'ok');
    assert.equal(await verdict(await token({ aud: ['foo', 'bar'], exp: NOW + 60 }), { audience: ['foo', 'bar', 'baz'] }), 'ok');
    assert.equal(await verdict(await token({ aud: ['foo', 'bar', 'baz'], exp: NOW + 60 }), { audience: ['foo', 'bar'] }), 'ok');
  });

  it('exp: t(50) s ago with tolerance 0 → TOKEN_EXPIRED; "foo" → CLAIM_INVALID; 50 s ago with tolerance 75 → ok', async () => {
    const { verdict, token } = await peer();
    assert.equal(await verdict(await token({ exp: t(50), iat: t(0) }), { clockTolerance: 0, maxTokenAge: 100 }, AT), 'ERR_AUTH_TOKEN_EXPIRED');
    assert.equal(await verdict(await token({ exp: 'foo', iat: t(0) }), { clockTolerance: 0, maxTokenAge: 100 }, AT), 'ERR_AUTH_CLAIM_INVALID');
    assert.equal(await verdict(await token({ exp: t(50), iat: t(0) }), { clockTolerance: 75, maxTokenAge: 100 }, AT), 'ok');
  });

  it('iat: 100 s old with maxTokenAge 90 → TOO_OLD; absent with maxTokenAge → CLAIM_MISSING; "foo" → CLAIM_INVALID; 100 s ahead → NOT_YET_VALID; 100 s old with maxTokenAge 10 → TOO_OLD', async () => {
    const { verdict, token } = await peer();
    const exp = AT + 3600;
    assert.equal(await verdict(await token({ iat: t(0), exp }), { clockTolerance: 0, maxTokenAge: 90 }, AT), 'ERR_AUTH_TOKEN_TOO_OLD');
    assert.equal(await verdict(await token({ exp }, { typ: 'at+jwt' }), { maxTokenAge: 0 }, AT), 'ERR_AUTH_CLAIM_MISSING');
    assert.equal(await verdict(await token({ iat: 'foo', exp }), { clockTolerance: 10, maxTokenAge: 10 }, AT), 'ERR_AUTH_CLAIM_INVALID');
    assert.equal(await verdict(await token({ iat: t(200), exp }), { clockTolerance: 10, maxTokenAge: 10 }, AT), 'ERR_AUTH_TOKEN_NOT_YET_VALID');
    assert.equal(await verdict(await token({ iat: t(0), exp }), { clockTolerance: 10, maxTokenAge: 10 }, AT), 'ERR_AUTH_TOKEN_TOO_OLD');
  });

  it('iat within maxTokenAge or tolerance → ok; 100 s ahead with tolerance 100 → ok as in jose (auth0 refuses that edge), 101 s ahead → NOT_YET_VALID', async () => {
    const { verdict, token } = await peer();
    const exp = AT + 3600;
    assert.equal(await verdict(await token({ iat: t(200), exp }), { clockTolerance: 10, maxTokenAge: 100 }, AT), 'ERR_AUTH_TOKEN_NOT_YET_VALID');
    assert.equal(await verdict(await token({ iat: t(0), exp }), { clockTolerance: 10, maxTokenAge: 100 }, AT), 'ok');
    assert.equal(await verdict(await token({ iat: t(200), exp }), { clockTolerance: 100 }, AT), 'ok');
    assert.equal(await verdict(await token({ iat: t(201), exp }), { clockTolerance: 100 }, AT), 'ERR_AUTH_TOKEN_NOT_YET_VALID');
    assert.equal(await verdict(await token({ iat: t(0), exp }), { clockTolerance: 100 }, AT), 'ok');
  });

  it('custom validators: a validate hook returning false (foo is not baz) → TOKEN_REJECTED; one returning a promise of true → ok', async () => {
    const { verdict, token } = await peer();
    const signed = await token({ foo: 'bar', exp: NOW + 60 });
    assert.equal(await verdict(signed, { validate: (claims) => claims.foo === 'baz' }), 'ERR_AUTH_TOKEN_REJECTED');
    assert.equal(await verdict(signed, { validate: (claims) => claims.foo === 'bar' }), 'ok');
    assert.equal(await verdict(signed, { validate: () => Promise.resolve(true) }), 'ok');
  });

  it('jwtVerifier: a token that expired 10 s ago → TOKEN_EXPIRED with auth0 default tolerance (5 s); ok under our default 60 s', async () => {
    const { verdict, token } = await peer();
    const signed = await token({ exp: NOW - 10 });
    assert.equal(await verdict(signed, { clockTolerance: 5 }), 'ERR_AUTH_TOKEN_EXPIRED');
    assert.equal(await verdict(signed), 'ok');
  });

  it('jwtVerifier nbf: 1000 s ahead → NOT_YET_VALID; tolerance 5000 is a configuration error (max 300); nbf exactly 300 s ahead with tolerance 300 → ok, 301 s → NOT_YET_VALID', async () => {
    const { verdict, token, configError } = await peer();
    const at = t(1000);
    const exp = at + 3600;
    assert.equal(await verdict(await token({ nbf: t(2000), exp }), {}, at), 'ERR_AUTH_TOKEN_NOT_YET_VALID');
    assert.equal(configError({ clockTolerance: 5000 }), 'clockTolerance');
    assert.equal(await verdict(await token({ nbf: at + 300, exp }), { clockTolerance: 300 }, at), 'ok');
    assert.equal(await verdict(await token({ nbf: at + 301, exp }), { clockTolerance: 300 }, at), 'ERR_AUTH_TOKEN_NOT_YET_VALID');
  });
});
