/**
 * Attack class: observer hooks written as `async` functions that reject. `onAuthenticated`,
 * `onRejected` and a key set's `onEvent` are typed `(event) => void`, so TypeScript takes an async
 * function there without a word; a logger or metrics client whose write fails then returns a rejected
 * promise. Nothing awaits it, and under Node's default `--unhandled-rejections=throw` that rejection
 * would take the whole server down. "Exceptions are swallowed", says the documentation: rejections too.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, fromJwks, type RemoteKeysEvent } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { bearer, unary } from '../support/calls.ts';
import { startEchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;

/** A logger whose every write fails, asynchronously. */
const failingLog = async (): Promise<void> => {
  await Promise.resolve();
  throw new Error('log sink is down');
};

describe('attack: observer hooks that reject', () => {
  let seen: unknown[];
  const record = (reason: unknown): void => {
    seen.push(reason);
  };
  beforeEach(() => {
    seen = [];
    process.on('unhandledRejection', record);
  });
  afterEach(async () => {
    // Let any stray rejection surface before looking.
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off('unhandledRejection', record);
    assert.deepEqual(seen.map(String), [], 'no unhandled rejection');
  });

  it('unary: async onAuthenticated and onRejected that reject → the calls end as they would, no unhandled rejection, the server keeps serving', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const calls: string[] = [];
    const echo = await startEchoServer({
      interceptors: [
        createAuthInterceptor({
          keys: idp.keys,
          algorithms: ['HS256'],
          // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the attack: an async hook where void is expected
          onAuthenticated: async (event) => {
            calls.push(`authenticated ${event.method}`);
            await failingLog();
          },
          // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the attack: an async hook where void is expected
          onRejected: async (event) => {
            calls.push(`rejected ${event.error.code}`);
            await failingLog();
          },
        }),
      ],
    });
    try {
      const token = await idp.sign();
      assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.OK);
      assert.equal((await unary(echo.client, new Metadata())).code, status.UNAUTHENTICATED);
      assert.equal((await unary(echo.client, bearer(Metadata, token))).code, status.OK);
      assert.deepEqual(calls, ['authenticated /test.echo.v1.Echo/Unary', 'rejected ERR_AUTH_TOKEN_MISSING', 'authenticated /test.echo.v1.Echo/Unary']);
    } finally {
      await echo.close();
    }
  });

  it('a hook returning a thenable whose then throws, or a promise rejected with a null-prototype object → no unhandled rejection', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const hostileThenable = {
      then() {
        throw Object.create(null);
      },
    };
    const echo = await startEchoServer({
      interceptors: [
        createAuthInterceptor({
          keys: idp.keys,
          algorithms: ['HS256'],
          onAuthenticated: (() => hostileThenable) as () => void,
          onRejected: (() => Promise.reject(Object.create(null))) as () => void,
        }),
      ],
    });
    try {
      assert.equal((await unary(echo.client, bearer(Metadata, await idp.sign()))).code, status.OK);
      assert.equal((await unary(echo.client, new Metadata())).code, status.UNAUTHENTICATED);
    } finally {
      await echo.close();
    }
  });

  it("a remote key set's async onEvent that rejects → keys still fetched and used, no unhandled rejection", async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const served = await idp.serve();
    const events: string[] = [];
    const keys = fromJwks(served.jwksUri, {
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the attack: an async hook where void is expected
      onEvent: async (event: RemoteKeysEvent) => {
        events.push(event.type);
        await failingLog();
      },
    });
    const auth = createAuthInterceptor({ keys, algorithms: ['ES256'] });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      await auth.ready();
      assert.equal((await unary(echo.client, bearer(Metadata, await idp.sign()))).code, status.OK);
      assert.ok(events.includes('fetched'), events.join(', '));
    } finally {
      auth.close();
      await echo.close();
      await served.close();
    }
  });
});
