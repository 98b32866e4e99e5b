/**
 * Log messages quote values taken from tokens (an unknown `iss`, a bad `exp`): they must not carry a
 * control, bidi or separator character that a log viewer or terminal would act on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, createAuthenticator, fromSecret, isAuthError } from '../../src/index.ts';
import { describeForLog } from '../../src/errors/log-text.ts';
import { hasUnsafeText } from '../../src/util/unsafe-text.ts';
import { HOSTILE, hostile, unsignedToken } from '../support/hostile-text.ts';

describe('log messages quoting token values', () => {
  it('describeForLog escapes C1, bidi controls and U+2028 that JSON.stringify leaves raw', () => {
    for (const text of Object.values(HOSTILE)) assert.equal(hasUnsafeText(describeForLog(text)), false, JSON.stringify(text));
    assert.equal(hasUnsafeText(describeForLog({ [HOSTILE.rlo]: [HOSTILE.c1Csi] })), false);
  });

  it('a refusal of a token with a hostile iss, typ and exp has a log message with no unsafe character', async () => {
    const authenticator = createAuthenticator({
      keys: fromSecret('a-secret-of-thirty-two-bytes-or-more!'),
      algorithms: ['HS256'],
      issuer: 'https://idp.example/',
      typ: 'at+jwt',
    });
    const tokens = [unsignedToken({ alg: hostile('HS256') }, { exp: 4e9 }), unsignedToken({ alg: 'HS256', kid: 7 }, { exp: 4e9 })];
    for (const token of tokens) {
      await assert.rejects(
        Promise.resolve().then(() => authenticator.authenticate(token, '/p.S/M')),
        (error: unknown) => {
          assert.ok(isAuthError(error));
          assert.equal(hasUnsafeText(error.message), false, error.message);
          return true;
        },
      );
    }
  });

  it('an AuthError a handler builds from a claim (as the toGrpcError example does) has a log message with no unsafe character', () => {
    const subject = hostile('alice');
    const error = new AuthError('ERR_AUTH_ACCESS_DENIED', `${subject} does not own order 7`);
    assert.equal(hasUnsafeText(error.message), false, error.message);
    assert.ok(error.message.includes('alice'), 'the text stays readable');
  });

  it('a validate hook that throws an Error quoting a claim → INTERNAL whose log message has no unsafe character', async () => {
    const secret = 'a-secret-of-thirty-two-bytes-or-more!';
    const authenticator = createAuthenticator({
      keys: fromSecret(secret),
      algorithms: ['HS256'],
      validate: (claims) => {
        throw new Error(`tenant lookup failed for ${String(claims.tenant)}`);
      },
    });
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({ tenant: hostile('acme'), exp: 4e9 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    await assert.rejects(
      Promise.resolve().then(() => authenticator.authenticate(token, '/p.S/M')),
      (error: unknown) => {
        assert.ok(isAuthError(error));
        assert.equal(error.code, 'ERR_AUTH_INTERNAL');
        assert.equal(hasUnsafeText(error.message), false, error.message);
        return true;
      },
    );
  });
});
