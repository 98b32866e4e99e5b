/**
 * requireAuthTime reads the interceptor's `clock`, as the token's own time checks do: with a manual
 * clock (and the real Date untouched), a login that is fresh at the start is too old once the clock
 * moves past `maxAge`, for the same cached token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, requireAuthTime } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, unary } from '../support/calls.ts';
import { METHODS, startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { manualClock } from '../support/remote-keys.ts';

describe('requireAuthTime and the interceptor clock', () => {
  const clock = manualClock();
  let idp: TestIssuer;
  let echo: EchoServer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      audience: 'echo-api',
      clock: clock.now,
      rules: { [METHODS.unary]: requireAuthTime({ maxAge: 300 }) },
      defaultRule: 'authenticated',
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(() => echo.close());

  it('fresh login → OK; the clock (not Date.now) moves 301 s on → the same token is refused INSUFFICIENT_USER_AUTHENTICATION', async () => {
    const now = Math.floor(clock.now() / 1000);
    const token = await idp.sign({ sub: 'alice', auth_time: now - 10, iat: now - 10, exp: now + 3600 });
    const first = await unary(echo.client, bearer(grpc.Metadata, token));
    assert.equal(first.code, grpc.status.OK, first.details);
    clock.advance(301_000);
    const later = await unary(echo.client, bearer(grpc.Metadata, token));
    assert.equal(later.code, grpc.status.UNAUTHENTICATED);
    assert.equal(later.reason, 'INSUFFICIENT_USER_AUTHENTICATION');
  });
});
