import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthConfigError, createAuthenticator, fromJwks, type RemoteKeysEvent } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';

const kids = (jwks: { keys: readonly Record<string, unknown>[] }): unknown[] => jwks.keys.map((key) => key.kid);

describe('test issuer: publishing the next key ahead of rotation', () => {
  it('publishNextKey publishes without signing; rotate() then signs with that key and keeps the previous one published', async () => {
    const idp = await createTestIssuer();
    const first = idp.kid;
    const next = await idp.publishNextKey();
    assert.notEqual(next, first);
    assert.equal(idp.kid, first, 'still signing with the first key');
    assert.deepEqual(kids(idp.jwks), [first, next]);
    assert.equal(await idp.publishNextKey(), next, 'a second call returns the pending key');
    await idp.rotate();
    assert.equal(idp.kid, next);
    assert.deepEqual(new Set(kids(idp.jwks)), new Set([first, next]));
    await idp.rotate();
    assert.notEqual(idp.kid, next, 'a later rotate() without publishNextKey makes a fresh key, as before');
  });

  it('the local resolver verifies tokens of a published next key, for secrets too', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    await idp.publishNextKey();
    await idp.rotate();
    const { context } = await authenticator.authenticate(await idp.sign(), '/pkg.S/M');
    assert.equal(context.header.kid, idp.kid);
  });

  it('a remote resolver picks the published key up on its regular refresh: the first token of the new key needs no unknown-kid fetch', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const served = await idp.serve({ jwksMaxAge: 1 });
    const events: RemoteKeysEvent[] = [];
    let sawNextKey: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (sawNextKey = resolve));
    let next = '';
    const keys = fromJwks(served.jwksUri, {
      minCacheMaxAge: 0.1,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'rotated' && event.added.includes(next)) sawNextKey();
      },
    });
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], issuer: idp.issuer });
    try {
      await authenticator.ready();
      next = await idp.publishNextKey();
      await arrived;
      await idp.rotate();
      const { context } = await authenticator.authenticate(await idp.sign(), '/pkg.S/M');
      assert.equal(context.header.kid, next);
      assert.equal(events.filter((event) => 'trigger' in event && event.trigger === 'unknown-kid').length, 0);
    } finally {
      authenticator.close();
      await served.close();
    }
  });

  it('serve({ jwksMaxAge }) sets the Cache-Control max-age of the JWKS; a bad value throws naming the option', async () => {
    const idp = await createTestIssuer();
    const served = await idp.serve({ jwksMaxAge: 7 });
    try {
      const response = await fetch(served.jwksUri);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=7');
    } finally {
      await served.close();
    }
    await assert.rejects(idp.serve({ jwksMaxAge: -1 }), (error: unknown) => error instanceof AuthConfigError && error.option === 'jwksMaxAge');
  });
});
