/**
 * Cases ported from peers' tests of their custom fetch / fetcher options, run against our `fetch`
 * option with undici's `fetch` and a real loopback provider (our tests, their scenarios):
 * - jose, test/jwks/remote.test.ts (createRemoteJWKSet with `[customFetch]`): ECONNREFUSED surfaces with
 *   its code, a timeout through the custom fetch, malformed key sets and error statuses refused;
 * - jwks-rsa, tests/request.tests.js (`fetcher`, `timeout`, `agent`): the request is destroyed at the
 *   timeout, a 500 is an error with its status, a fetcher that returns parsed JSON, a malformed URI.
 * Where they differ from us: jwks-rsa's `fetcher` returns the parsed key set; ours must return a
 * response, so such a function is refused rather than trusted as keys.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { clientCredentials, isTokenError } from '../../src/client/index.ts';
import { AuthConfigError, createAuthenticator, fromJwks, type FetchFunction, type RemoteJwksOptions } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { json, status, text, startFakeProvider, type FakeProvider } from '../support/fake-provider.ts';
import { recordUnhandledRejections, sleep, type RejectionRecorder } from '../support/hostile-fetch.ts';
import { eventLog, outcome, until } from '../support/remote-keys.ts';

const BOUND = { timeout: 15_000 };

let idp: TestIssuer;
let provider: FakeProvider;
let agent: Agent;
let viaUndici: FetchFunction;
let rejections: RejectionRecorder;

before(async () => {
  idp = await createTestIssuer({ alg: 'ES256' });
  provider = await startFakeProvider();
  agent = new Agent();
  viaUndici = (url, init) => undiciFetch(url, { ...init, dispatcher: agent });
});
after(async () => {
  await agent.close();
  await provider.close();
});
beforeEach(() => {
  rejections = recordUnhandledRejections();
});
afterEach(async () => {
  await sleep(20);
  rejections.uninstall();
  assert.deepEqual(rejections.reasons, [], 'no unhandled rejection');
});

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The `code`s found along an error's `cause` chain (ECONNREFUSED sits a few causes down). */
function causeCodes(error: unknown): unknown[] {
  const codes: unknown[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    codes.push((current as { code?: unknown }).code);
  }
  return codes;
}

/** What a token of `idp` gets from fromJwks(`url`, options), and the `failed` event's error. */
async function verifyWith(url: string, options: RemoteJwksOptions): Promise<{ outcome: string; failed: { error: Error } | undefined }> {
  const log = eventLog();
  const keys = fromJwks(url, { ...options, onEvent: log.listener });
  try {
    const authenticator = createAuthenticator({ keys, algorithms: [idp.alg], issuer: idp.issuer, audience: idp.audience, cache: false });
    return { outcome: await outcome(authenticator, await idp.sign()), failed: log.of('failed')[0] };
  } finally {
    keys.close();
  }
}

describe('peer cases (jose createRemoteJWKSet with customFetch) through our fetch option', () => {
  it('a pass-through undici fetch: the key set verifies (jose "RemoteJWKSet")', async () => {
    provider.on(
      '/jwks.json',
      json(() => idp.jwks),
    );
    assert.equal((await verifyWith(`${provider.url}/jwks.json`, { fetch: viaUndici })).outcome, 'OK');
  });

  it('ECONNREFUSED → KEYS_UNAVAILABLE; the failed event keeps the cause with its code (jose "handles ECONNREFUSED")', async () => {
    const result = await verifyWith(`http://127.0.0.1:${await closedPort()}/jwks.json`, { fetch: viaUndici });
    assert.equal(result.outcome, 'ERR_AUTH_KEYS_UNAVAILABLE');
    assert.ok(causeCodes(result.failed?.error).includes('ECONNREFUSED'), String(causeCodes(result.failed?.error)));
  });

  it('malformed key sets and error statuses through the function → KEYS_UNAVAILABLE (jose "throws on invalid JWKSet")', async () => {
    const bodies: ReadonlyArray<readonly [string, ReturnType<typeof json>]> = [
      ['null', text('null')],
      ['{}', json({})],
      ['{"keys":null}', json({ keys: null })],
      ['{"keys":[null]}', json({ keys: [null] })],
      ['{', text('{')],
      ['404', status(404)],
    ];
    for (const [index, [name, reply]] of bodies.entries()) {
      provider.on(`/invalid-${index}.json`, reply);
      assert.equal((await verifyWith(`${provider.url}/invalid-${index}.json`, { fetch: viaUndici })).outcome, 'ERR_AUTH_KEYS_UNAVAILABLE', name);
    }
  });
});

describe('peer cases (jwks-rsa request wrapper: fetcher, timeout, agent) through our fetch option', () => {
  it(
    'a provider that holds its answer past the timeout → KEYS_UNAVAILABLE (timeout), and the connection is torn down (jwks-rsa "destroy the request")',
    BOUND,
    async () => {
      let closed = 0;
      provider.on('/slow.json', (_request, response) => {
        response.on('close', () => (closed += 1));
      });
      const result = await verifyWith(`${provider.url}/slow.json`, { fetch: viaUndici, timeout: 0.2 });
      assert.equal(result.outcome, 'ERR_AUTH_KEYS_UNAVAILABLE');
      assert.equal((result.failed?.error.cause as { failure?: unknown } | undefined)?.failure, 'timeout');
      // Our deadline aborted the signal we handed undici, so undici dropped the request: no socket held open.
      await until(() => closed === 1);
    },
  );

  it('HTTP 500 → KEYS_UNAVAILABLE, with the status on the failed event (jwks-rsa "should handle errors")', async () => {
    provider.on('/broken.json', status(500, 'Server response error!!'));
    const result = await verifyWith(`${provider.url}/broken.json`, { fetch: viaUndici });
    assert.equal(result.outcome, 'ERR_AUTH_KEYS_UNAVAILABLE');
    assert.equal((result.failed?.error as { status?: unknown } | undefined)?.status, 500);
  });

  it('a jwks-rsa style fetcher that returns the parsed key set, not a response → KEYS_UNAVAILABLE (not-a-response), never taken as keys', async () => {
    let calls = 0;
    const jwksRsaFetcher = (async () => {
      calls += 1;
      return idp.jwks;
    }) as unknown as FetchFunction;
    const result = await verifyWith('https://idp.example/.well-known/jwks.json', { fetch: jwksRsaFetcher });
    assert.equal(result.outcome, 'ERR_AUTH_KEYS_UNAVAILABLE');
    assert.equal((result.failed?.error.cause as { failure?: unknown } | undefined)?.failure, 'not-a-response');
    assert.ok(calls >= 1);
  });

  it('a malformed URI → AuthConfigError at construction; the function is never called (jwks-rsa "malformed URI")', () => {
    let calls = 0;
    const counting: FetchFunction = (url, init) => {
      calls += 1;
      return viaUndici(url, init);
    };
    assert.throws(
      () => fromJwks('not-a-valid-url', { fetch: counting }),
      (error) => error instanceof AuthConfigError,
    );
    assert.equal(calls, 0);
  });
});

describe('peer case (jose "handles ECONNREFUSED") for the token endpoint', () => {
  it('ECONNREFUSED through the function → ERR_TOKEN_ENDPOINT_UNAVAILABLE, retryable, the cause keeps its code', async () => {
    const token = clientCredentials({
      tokenUrl: `http://127.0.0.1:${await closedPort()}/token`,
      clientId: 'worker',
      clientSecret: 'worker-secret-0123',
      fetch: viaUndici,
    });
    const error = await token.getToken().then(
      () => assert.fail('expected a TokenError'),
      (failure: unknown) => failure,
    );
    assert.ok(isTokenError(error));
    assert.equal(error.code, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE');
    assert.equal(error.retryable, true);
    assert.ok(causeCodes(error).includes('ECONNREFUSED'), String(causeCodes(error)));
  });
});
