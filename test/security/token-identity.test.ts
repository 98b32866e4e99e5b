/**
 * Attack class: ECDSA signature malleability. For a valid ES256 signature (r, s), (r, n − s) is valid
 * too, so anyone holding a token can respell it without the key. Both spellings are genuine and verify;
 * what must not happen is that a denylist keyed on the token's text misses the second one. The
 * `tokenId` on the context names the signed content (header and payload), the same for both spellings.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createAuthenticator, type ValidateHook } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { bearer, unary } from '../support/calls.ts';
import { startEchoServer } from '../support/echo-server.ts';

/** The order of the P-256 group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The same token with its ES256 signature (r, s) replaced by (r, n − s). */
function malleate(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(signature, 'base64url');
  assert.equal(bytes.length, 64);
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), flipped]).toString('base64url')}`;
}

const METHOD = '/test.v1.S/M';

describe('attack: a malleated ES256 signature (s → n − s)', () => {
  it('both spellings verify, and both get the same tokenId: base64url SHA-256 of header.payload', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const token = await idp.sign({ jti: 'one' });
    const twin = malleate(token);
    assert.notEqual(twin, token, 'a second, different token string');
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
    const { context } = await authenticator.authenticate(token, METHOD);
    const { context: twinContext } = await authenticator.authenticate(twin, METHOD);
    assert.deepEqual(twinContext.claims, context.claims);
    const signingInput = token.slice(0, token.lastIndexOf('.'));
    assert.equal(context.tokenId, createHash('sha256').update(signingInput).digest('base64url'));
    assert.equal(twinContext.tokenId, context.tokenId);
    const other = await authenticator.authenticate(await idp.sign({ jti: 'two' }), METHOD);
    assert.notEqual(other.context.tokenId, context.tokenId, 'other claims, another identity');
  });

  it('unary: a denylist keyed on tokenId in the validate hook refuses both spellings → UNAUTHENTICATED TOKEN_REJECTED', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const revoked = new Set<string>();
    const notRevoked: ValidateHook = (_claims, { tokenId }) => !revoked.has(tokenId);
    let lastTokenId = '';
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      validate: (claims, context) => {
        lastTokenId = context.tokenId;
        return notRevoked(claims, context);
      },
    });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const token = await idp.sign();
      const twin = malleate(token);
      assert.equal((await unary(echo.client, bearer(grpc.Metadata, token))).code, grpc.status.OK);
      assert.match(lastTokenId, /^[A-Za-z0-9_-]{43}$/, 'the hook is told the token identity');
      revoked.add(lastTokenId);
      for (const spelling of [token, twin]) {
        const outcome = await unary(echo.client, bearer(grpc.Metadata, spelling));
        assert.equal(outcome.code, grpc.status.UNAUTHENTICATED);
        assert.equal(outcome.reason, 'TOKEN_REJECTED');
      }
      assert.equal(echo.runs.unary, 1);
      assert.equal((await unary(echo.client, bearer(grpc.Metadata, await idp.sign({ jti: 'another' })))).code, grpc.status.OK, 'other tokens still pass');
    } finally {
      await echo.close();
    }
  });
});
