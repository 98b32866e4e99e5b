/**
 * Step-up refusals seen through the client's token interceptor over real gRPC: an
 * INSUFFICIENT_USER_AUTHENTICATION refusal is UNAUTHENTICATED like an expired token, but a refreshed token
 * carries the same login (same acr, same auth_time), so the interceptor must neither retry the call nor
 * ask the token source for a new token; the application still reads the challenge with stepUpChallenge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, requireAcr, requireAuthTime } from '../../src/index.ts';
import { createTokenInterceptor, stepUpChallenge, type TokenProvider } from '../../src/client/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { EchoClient, METHODS, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
type Client = grpc.Client & Record<string, any>;

describe('token interceptor and step-up refusals (real gRPC)', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  const clients: Client[] = [];

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: idp.audience,
      rules: { [METHODS.unary]: requireAcr('mfa'), [METHODS.serverStream]: requireAuthTime({ maxAge: 300 }) },
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(async () => {
    for (const client of clients) client.close();
    await echo.close();
  });

  /** A token provider that counts what the interceptor asks of it; every token carries the same weak login. */
  function countingProvider(claims: Record<string, unknown>) {
    const asked = { getToken: 0, refresh: 0 };
    const provider: TokenProvider = {
      getToken: async () => {
        asked.getToken += 1;
        return idp.sign({ sub: 'alice', ...claims });
      },
      refresh: async () => {
        asked.refresh += 1;
        return idp.sign({ sub: 'alice', ...claims });
      },
    };
    return { asked, provider };
  }

  const clientWith = (provider: TokenProvider): Client => {
    const client = new EchoClient(echo.address, grpc.credentials.createInsecure(), { interceptors: [createTokenInterceptor({ token: provider })] }) as Client;
    clients.push(client);
    return client;
  };

  it('unary: step-up refusal → delivered once, no retry, no refresh; stepUpChallenge reads it through the interceptor', async () => {
    const { asked, provider } = countingProvider({ acr: 'pwd' });
    const client = clientWith(provider);
    const runsBefore = echo.runs.unary;
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.Unary({ text: 'hi' }, new Metadata(), (failure: grpc.ServiceError | null) => resolve(failure)),
    );
    assert.equal(error?.code, status.UNAUTHENTICATED);
    assert.deepEqual(stepUpChallenge(error), { acrValues: ['mfa'] });
    assert.deepEqual(asked, { getToken: 1, refresh: 0 }, 'a refresh cannot raise acr: never asked for one');
    assert.equal(echo.runs.unary, runsBefore, 'the handler never ran');
  });

  it('unary: an expired token is still retried once with a refresh, and the refreshed (weak) token ends in the step-up, not a loop', async () => {
    let refreshed = 0;
    const provider: TokenProvider = {
      getToken: async () => idp.expiredToken({ sub: 'alice', acr: 'pwd' }),
      refresh: async () => {
        refreshed += 1;
        return idp.sign({ sub: 'alice', acr: 'pwd' });
      },
    };
    const client = clientWith(provider);
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.Unary({ text: 'hi' }, new Metadata(), (failure: grpc.ServiceError | null) => resolve(failure)),
    );
    assert.equal(error?.code, status.UNAUTHENTICATED);
    assert.deepEqual(stepUpChallenge(error), { acrValues: ['mfa'] }, 'the retry answered with the step-up');
    assert.equal(refreshed, 1, 'one refresh for the expiry, none for the step-up');
  });

  it('server stream: step-up refusal → no refresh; the challenge reads from the stream error', async () => {
    const { asked, provider } = countingProvider({ auth_time: Math.floor(Date.now() / 1000) - 3600 });
    const client = clientWith(provider);
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.ServerStream({ text: 'hi' }, new Metadata());
      call.on('data', () => assert.fail('no reply expected'));
      call.on('error', resolve);
    });
    assert.equal(error.code, status.UNAUTHENTICATED);
    assert.deepEqual(stepUpChallenge(error), { maxAge: 300 });
    assert.deepEqual(asked, { getToken: 1, refresh: 0 });
  });
});
