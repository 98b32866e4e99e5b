/**
 * The `typ` rule at its edges: media types compare case-insensitively in ASCII only (RFC 2045), and a
 * configured `typ` must name a media type, so that no spelling a token can carry matches by accident.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthConfigError, createAuthenticator } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';

const METHOD = '/test.v1.S/M';

describe('typ: edges of the comparison', () => {
  it('case folding is ASCII only: a token typ spelt with U+212A KELVIN SIGN (which lower-cases to k) → TOKEN_TYPE_INVALID', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], typ: 'token-introspection+jwt' });
    await authenticator.authenticate(await idp.sign({}, { header: { typ: 'TOKEN-introspection+JWT' } }), METHOD);
    const kelvin = await idp.sign({}, { header: { typ: 'to\u212Aen-introspection+jwt' } });
    await assert.rejects(async () => authenticator.authenticate(kelvin, METHOD), { code: 'ERR_AUTH_TOKEN_TYPE_INVALID' });
  });

  it('a typ option that names no media type (application/, /jwt, a/, spaces, controls, non-ASCII) → AuthConfigError naming typ', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    for (const typ of ['application/', 'APPLICATION/', '/jwt', 'at+jwt/', 'a//b', ' at+jwt', 'at+jwt ', 'at jwt', 'at+jwt\u0000', 'at+jwt\n', 'аt+jwt']) {
      assert.throws(
        () => createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], typ }),
        (error) => error instanceof AuthConfigError && error.option === 'typ',
        JSON.stringify(typ),
      );
    }
  });

  it('media types with parameters-free punctuation still configure: urn:example:typ, at+jwt, application/secevent+jwt, text/plain', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    for (const typ of ['urn:example:typ', 'at+jwt', 'application/secevent+jwt', 'text/plain', 'JWT']) {
      const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], typ });
      await authenticator.authenticate(await idp.sign({}, { header: { typ } }), METHOD);
    }
  });
});
