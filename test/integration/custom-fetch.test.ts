/**
 * The `fetch` option of fromJwks, fromIssuer, clientCredentials and refreshingToken, given functions that
 * do not play by the rules, against real loopback providers: every rule of the library (no redirects, our
 * own timeout, our own size cap, clean failures) still holds, and each refusal is one a plain pass-through
 * would not have made (the provider's keys and tokens are valid).
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { fetch as undiciFetch } from 'undici';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { clientCredentials, isTokenError, refreshingToken, type FetchFunction as ClientFetchFunction, type TokenError } from '../../src/client/index.ts';
import { createAuthenticator, fromIssuer, fromJwks, type FetchFunction, type RemoteJwksOptions } from '../../src/index.ts';
import { createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { json, redirect, startFakeProvider, type FakeProvider } from '../support/fake-provider.ts';
import { bytesOf, recordUnhandledRejections, sleep, trackedBody, type RejectionRecorder } from '../support/hostile-fetch.ts';
import { eventLog, outcome, until } from '../support/remote-keys.ts';

const BOUND = { timeout: 15_000 };
const SECRET = 'worker-secret-0123456789';

/** One type for both entries: a function written for keys works for tokens as is. */
const sameType: ClientFetchFunction = ((url, init) => fetch(url, init)) satisfies FetchFunction;

/** Passes the request on, but follows redirects: what a careless wrapper (`redirect: 'follow'`) does. */
const following: FetchFunction = (url, init) => fetch(url, { ...init, redirect: 'follow' });

const ignoringSignal: FetchFunction = () => new Promise(() => undefined);

let idp: TestIssuer;
let rejections: RejectionRecorder;

before(async () => {
  idp = await createTestIssuer({ alg: 'ES256' });
});
beforeEach(() => {
  rejections = recordUnhandledRejections();
});
afterEach(async () => {
  await sleep(20);
  rejections.uninstall();
  assert.deepEqual(rejections.reasons, [], 'no unhandled rejection');
});

/** What a token of `idp` gets from a fresh fromJwks(`url`) with `options`, and the failure reported. */
async function verifyWith(url: string, options: RemoteJwksOptions): Promise<{ outcome: string; failure: unknown }> {
  const log = eventLog();
  const keys = fromJwks(url, { ...options, onEvent: log.listener });
  try {
    const authenticator = createAuthenticator({ keys, algorithms: [idp.alg], issuer: idp.issuer, audience: idp.audience, cache: false });
    const result = await outcome(authenticator, await idp.sign());
    return { outcome: result, failure: (log.of('failed')[0]?.error.cause as { failure?: unknown } | undefined)?.failure };
  } finally {
    keys.close();
  }
}

/** A JWKS answer padded with spaces to `bytes`, still a valid key set. */
function paddedJwks(bytes: number): Uint8Array {
  const text = JSON.stringify(idp.jwks);
  return bytesOf(text + ' '.repeat(Math.max(0, bytes - text.length)));
}

describe('custom fetch for keys: the rules hold whatever the function does', () => {
  let provider: FakeProvider;
  let elsewhere: FakeProvider;
  before(async () => {
    provider = await startFakeProvider();
    elsewhere = await startFakeProvider();
    provider.on(
      '/jwks.json',
      json(() => idp.jwks),
    );
    provider.on('/moved.json', redirect('/jwks-v2.json'));
    provider.on(
      '/jwks-v2.json',
      json(() => idp.jwks),
    );
    elsewhere.on(
      '/jwks.json',
      json(() => idp.jwks),
    );
  });
  after(async () => {
    await provider.close();
    await elsewhere.close();
  });

  it('the given function sends the request: a pass-through works, and it is the one called', async () => {
    const seen: string[] = [];
    const recording: FetchFunction = (url, init) => {
      seen.push(`${init.method} ${url.pathname}`);
      return sameType(url, init);
    };
    assert.deepEqual(await verifyWith(`${provider.url}/jwks.json`, { fetch: recording }), { outcome: 'OK', failure: undefined });
    assert.deepEqual(seen, ['GET /jwks.json']);
  });

  it('a function that follows redirects → the key set it was redirected to is refused (KEYS_UNAVAILABLE), though it is valid', async () => {
    const before = provider.count('/jwks-v2.json');
    const result = await verifyWith(`${provider.url}/moved.json`, { fetch: following });
    assert.deepEqual(result, { outcome: 'ERR_AUTH_KEYS_UNAVAILABLE', failure: 'redirect' });
    assert.equal(provider.count('/jwks-v2.json') - before, 1, 'the function did follow; the refusal is ours');
  });

  it('a pass-through undici fetch (init kept: redirect manual) meets a 302 → refused with its status, the target never asked', async () => {
    const before = provider.count('/jwks-v2.json');
    const log = eventLog();
    const keys = fromJwks(`${provider.url}/moved.json`, { fetch: (url, init) => undiciFetch(url, init), onEvent: log.listener });
    try {
      await assert.rejects(keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
    } finally {
      keys.close();
    }
    const failed = log.of('failed')[0]?.error as { status?: unknown; cause?: { failure?: unknown } } | undefined;
    assert.deepEqual([failed?.status, failed?.cause?.failure], [302, 'redirect']);
    assert.equal(provider.count('/jwks-v2.json'), before);
  });

  it('a function that asks another origin and hands back its answer → refused (KEYS_UNAVAILABLE)', async () => {
    const swapping: FetchFunction = (_url, init) => fetch(`${elsewhere.url}/jwks.json`, init);
    assert.deepEqual(await verifyWith(`${provider.url}/jwks.json`, { fetch: swapping }), { outcome: 'ERR_AUTH_KEYS_UNAVAILABLE', failure: 'redirect' });
  });

  it('a function that ignores its abort signal and never answers → KEYS_UNAVAILABLE at the timeout', BOUND, async () => {
    assert.deepEqual(await verifyWith(`${provider.url}/jwks.json`, { fetch: ignoringSignal, timeout: 0.2 }), {
      outcome: 'ERR_AUTH_KEYS_UNAVAILABLE',
      failure: 'timeout',
    });
  });

  it('a valid key set larger than maxResponseBytes under a content-length that says 100 → refused for its size', BOUND, async () => {
    const lying: FetchFunction = async () => new Response(paddedJwks(64 * 1024), { headers: { 'content-type': 'application/json', 'content-length': '100' } });
    assert.deepEqual(await verifyWith(`${provider.url}/jwks.json`, { fetch: lying, maxResponseBytes: 16 * 1024 }), {
      outcome: 'ERR_AUTH_KEYS_UNAVAILABLE',
      failure: 'too-large',
    });
    // The same body within the cap is accepted: the refusal above is the cap's.
    assert.deepEqual(await verifyWith(`${provider.url}/jwks.json`, { fetch: lying, maxResponseBytes: 128 * 1024 }), { outcome: 'OK', failure: undefined });
  });

  it('a function that throws a string, rejects with undefined, or returns no response → KEYS_UNAVAILABLE, nothing unhandled', async () => {
    const hostile: ReadonlyArray<readonly [FetchFunction, string]> = [
      [
        () => {
          throw 'proxy misconfigured';
        },
        'network',
      ],
      [() => Promise.reject(undefined), 'network'],
      [async () => ({ ok: true, json: async () => idp.jwks }) as never, 'not-a-response'],
      // A body of strings, not bytes: what a hand-made stream easily gives.
      [
        async () =>
          new Response(new ReadableStream<unknown>({ start: (controller) => controller.enqueue(JSON.stringify(idp.jwks)) }) as ReadableStream<Uint8Array>),
        'not-a-response',
      ],
    ];
    for (const [fetch, failure] of hostile) {
      assert.deepEqual(await verifyWith(`${provider.url}/jwks.json`, { fetch }), { outcome: 'ERR_AUTH_KEYS_UNAVAILABLE', failure });
    }
  });

  it(
    'close() while a function that ignores its signal is still answering → ready() rejects, the function is told; the late answer is discarded, never loaded',
    BOUND,
    async () => {
      const body = trackedBody({ chunks: [bytesOf(JSON.stringify(idp.jwks))] });
      let signal: AbortSignal | undefined;
      const slow: FetchFunction = async (_url, init) => {
        signal = init.signal;
        await sleep(150);
        return new Response(body.stream, { headers: { 'content-type': 'application/json' } });
      };
      const log = eventLog();
      const keys = fromJwks(`${provider.url}/jwks.json`, { fetch: slow, onEvent: log.listener });
      const ready = keys.ready();
      await sleep(20);
      keys.close();
      await assert.rejects(ready, { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
      assert.equal(signal?.aborted, true, 'the function was told');
      await until(() => body.cancelled());
      assert.equal(body.sent(), 0);
      assert.deepEqual(log.of('fetched'), []);
    },
  );

  it('fromIssuer sends discovery and the key set through the function, and refuses a discovery document it was redirected to', async () => {
    const issuerProvider = await startFakeProvider();
    try {
      const issuer = issuerProvider.url;
      const signed = await createTestIssuer({ alg: 'ES256', issuer });
      issuerProvider.on('/.well-known/openid-configuration', json({ issuer, jwks_uri: `${issuer}/jwks.json` }));
      issuerProvider.on(
        '/jwks.json',
        json(() => signed.jwks),
      );
      const seen: string[] = [];
      const recording: FetchFunction = (url, init) => {
        seen.push(url.pathname);
        return fetch(url, init);
      };
      const keys = fromIssuer(issuer, { fetch: recording });
      const authenticator = createAuthenticator({ keys, algorithms: [signed.alg], issuer, audience: signed.audience, cache: false });
      assert.equal(await outcome(authenticator, await signed.sign()), 'OK');
      assert.deepEqual(seen, ['/.well-known/openid-configuration', '/jwks.json']);
      keys.close();

      issuerProvider.on('/.well-known/openid-configuration', redirect('/moved-configuration'));
      issuerProvider.on('/moved-configuration', json({ issuer, jwks_uri: `${issuer}/jwks.json` }));
      const redirected = fromIssuer(issuer, { fetch: following });
      const refusing = createAuthenticator({ keys: redirected, algorithms: [signed.alg], issuer, audience: signed.audience, cache: false });
      assert.equal(await outcome(refusing, await signed.sign()), 'ERR_AUTH_KEYS_UNAVAILABLE');
      assert.equal(issuerProvider.count('/moved-configuration'), 1, 'the function did follow; the refusal is ours');
      redirected.close();
    } finally {
      await issuerProvider.close();
    }
  });
});

describe('custom fetch for discovery: the jwks_uri a document names keeps the URL rules', () => {
  const issuer = 'https://idp.example';
  let signed: TestIssuer;
  before(async () => {
    signed = await createTestIssuer({ alg: 'ES256', issuer });
  });

  /** A fetch function that stands in for an https issuer whose document names `jwksUri`; records what it was asked. */
  function standIn(jwksUri: string): FetchFunction & { readonly seen: string[] } {
    const seen: string[] = [];
    const fetch: FetchFunction = async (url) => {
      seen.push(url.href);
      if (url.href === `${issuer}/.well-known/openid-configuration`) return Response.json({ issuer, jwks_uri: jwksUri });
      if (url.href === jwksUri) return Response.json(signed.jwks);
      return new Response(null, { status: 404 });
    };
    return Object.assign(fetch, { seen });
  }

  async function outcomeWith(fetch: FetchFunction): Promise<string> {
    const keys = fromIssuer(issuer, { fetch });
    try {
      const authenticator = createAuthenticator({ keys, algorithms: [signed.alg], issuer, audience: signed.audience, cache: false });
      return await outcome(authenticator, await signed.sign());
    } finally {
      keys.close();
    }
  }

  it('an https jwks_uri on the issuer: discovery and keys both through the function → OK', async () => {
    const fetch = standIn(`${issuer}/jwks.json`);
    assert.equal(await outcomeWith(fetch), 'OK');
    assert.deepEqual(fetch.seen, [`${issuer}/.well-known/openid-configuration`, `${issuer}/jwks.json`]);
  });

  for (const jwksUri of [
    'http://idp.example/jwks.json',
    'http://127.0.0.1:9/jwks.json',
    'https://user:secret@idp.example/jwks.json',
    'file:///etc/jwks.json',
  ]) {
    it(`a jwks_uri of ${jwksUri} from an https issuer → KEYS_UNAVAILABLE; the function is never asked for it`, async () => {
      const fetch = standIn(jwksUri);
      assert.equal(await outcomeWith(fetch), 'ERR_AUTH_KEYS_UNAVAILABLE');
      assert.deepEqual(fetch.seen, [`${issuer}/.well-known/openid-configuration`]);
    });
  }
});

describe('custom fetch for tokens: the rules hold whatever the function does', () => {
  let served: ServedIssuer;
  let provider: FakeProvider;
  const grant = () => ({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET, jitter: 0 });

  async function failure(promise: Promise<unknown>): Promise<TokenError> {
    try {
      await promise;
    } catch (error) {
      if (isTokenError(error)) return error;
      throw error;
    }
    throw new Error('expected a TokenError');
  }

  before(async () => {
    served = await idp.serve({ token: { clients: { worker: { secret: SECRET } } } });
    provider = await startFakeProvider();
    provider.on('/token', redirect(`${served.tokenUrl}`, 307));
  });
  after(async () => {
    await provider.close();
    await served.close();
  });

  it('the given function sends the token request (POST, form body), for both grants', async () => {
    const seen: string[] = [];
    const recording: FetchFunction = (url, init) => {
      seen.push(`${init.method} ${url.pathname} ${init.headers['content-type']}`);
      return fetch(url, init);
    };
    assert.ok(await clientCredentials({ ...grant(), fetch: recording }).getToken());
    const refreshToken = served.tokenEndpoint.issueRefreshToken({ clientId: 'worker' });
    assert.ok(await refreshingToken({ ...grant(), refreshToken, fetch: recording }).getToken());
    assert.deepEqual(seen, ['POST /token application/x-www-form-urlencoded', 'POST /token application/x-www-form-urlencoded']);
  });

  it('a function that follows a 307 (re-sending the secret) → its token is refused: ERR_TOKEN_ENDPOINT_UNAVAILABLE', async () => {
    const before = served.requestCount('/token');
    const error = await failure(clientCredentials({ ...grant(), tokenUrl: `${provider.url}/token`, fetch: following }).getToken());
    assert.equal(error.code, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE');
    assert.equal((error.cause as { failure?: unknown }).failure, 'redirect');
    assert.equal(served.requestCount('/token') - before, 1, 'the function did follow; the refusal is ours');
  });

  it('a function that ignores its abort signal and never answers → ERR_TOKEN_ENDPOINT_UNAVAILABLE at the timeout', BOUND, async () => {
    const error = await failure(clientCredentials({ ...grant(), fetch: ignoringSignal, timeout: 0.2 }).getToken());
    assert.equal(error.code, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE');
    assert.equal((error.cause as { failure?: unknown }).failure, 'timeout');
  });

  it('a function that answers after the timeout → refused at the timeout; the late body is cancelled', BOUND, async () => {
    const body = trackedBody({ chunks: [bytesOf(JSON.stringify({ access_token: await idp.sign(), token_type: 'Bearer', expires_in: 300 }))] });
    const late: FetchFunction = async () => {
      await sleep(300);
      return new Response(body.stream);
    };
    const error = await failure(clientCredentials({ ...grant(), fetch: late, timeout: 0.05 }).getToken());
    assert.equal(error.code, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE');
    await until(() => body.cancelled());
    assert.equal(body.sent(), 0);
  });

  it('a valid token answer of 2 MiB under a content-length that says 100 → ERR_TOKEN_RESPONSE_INVALID (cap 1 MiB)', BOUND, async () => {
    const answer = JSON.stringify({ access_token: await idp.sign(), token_type: 'Bearer', expires_in: 300 });
    const lying: FetchFunction = async () =>
      new Response(answer + ' '.repeat(2 * 1024 * 1024), { headers: { 'content-type': 'application/json', 'content-length': '100' } });
    const error = await failure(clientCredentials({ ...grant(), fetch: lying }).getToken());
    assert.equal(error.code, 'ERR_TOKEN_RESPONSE_INVALID');
    assert.equal((error.cause as { failure?: unknown }).failure, 'too-large');
    const honest: FetchFunction = async () => new Response(answer, { headers: { 'content-type': 'application/json' } });
    assert.ok(await clientCredentials({ ...grant(), fetch: honest }).getToken(), 'the same answer within the cap is a token');
  });

  it('a function that throws a non-Error, or returns no response → ERR_TOKEN_ENDPOINT_UNAVAILABLE, retryable, nothing unhandled', async () => {
    const hostile: readonly FetchFunction[] = [
      () => {
        throw 42;
      },
      () => Promise.reject(null),
      async () => 'not a response' as never,
      async () => ({ status: 200, headers: new Headers(), body: { getReader: 'no' } }) as never,
    ];
    for (const fetch of hostile) {
      const error = await failure(clientCredentials({ ...grant(), fetch }).getToken());
      assert.equal(error.code, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE');
      assert.equal(error.retryable, true);
    }
  });

  it('an error thrown by the function that quotes the request → the message carries neither the secret nor the refresh token', async () => {
    const quoting: FetchFunction = (_url, init) => Promise.reject(new Error(`could not send ${init.body ?? ''} with ${init.headers.authorization ?? ''}`));
    const basic = await failure(clientCredentials({ ...grant(), authMethod: 'client_secret_post', fetch: quoting }).getToken());
    assert.equal(basic.message.includes(SECRET), false, basic.message);
    const refreshToken = served.tokenEndpoint.issueRefreshToken({ clientId: 'worker' });
    const refreshing = await failure(refreshingToken({ ...grant(), refreshToken, authMethod: 'client_secret_post', fetch: quoting }).getToken());
    assert.equal(refreshing.message.includes(refreshToken), false, refreshing.message);
    assert.equal(refreshing.message.includes(SECRET), false, refreshing.message);
  });

  /** Every form in which `secret` crossed the wire: as is, form-encoded (the body), URI-encoded. */
  const formsOf = (secret: string): string[] => [secret, new URLSearchParams({ v: secret }).toString().slice(2), encodeURIComponent(secret)];

  it('an error quoting the form body, with a secret that form encoding changes → no form of the secret in the message', async () => {
    const secret = 'p+ss/w=rd&more-0123456789';
    const quoting: FetchFunction = (_url, init) => Promise.reject(new Error(`could not send ${init.body ?? ''}`));
    const error = await failure(clientCredentials({ ...grant(), clientSecret: secret, authMethod: 'client_secret_post', fetch: quoting }).getToken());
    for (const form of formsOf(secret)) assert.equal(error.message.includes(form), false, error.message);
  });

  it('an error quoting the Basic authorization header → neither the header value nor the encoded credentials in the message', async () => {
    const quoting: FetchFunction = (_url, init) => Promise.reject(new Error(`401 from upstream for ${init.headers.authorization ?? ''}`));
    const error = await failure(clientCredentials({ ...grant(), fetch: quoting }).getToken());
    const credentials = Buffer.from(`worker:${SECRET}`).toString('base64');
    assert.equal(error.message.includes(credentials), false, error.message);
    assert.equal(error.message.includes(credentials.slice(0, 12)), false, error.message);
  });

  it('an error quoting the secret across the 200-character cut → no part of the secret in the message', async () => {
    const quoting: FetchFunction = () => Promise.reject(new Error(`${'x'.repeat(190)}${SECRET}`));
    const error = await failure(clientCredentials({ ...grant(), authMethod: 'client_secret_post', fetch: quoting }).getToken());
    assert.equal(error.message.includes(SECRET.slice(0, 8)), false, error.message);
  });

  it('an error that carries the request (axios style: message and a config property) → the secret is not in what a logger prints of the TokenError, causes included', async () => {
    const carrying: FetchFunction = (_url, init) =>
      Promise.reject(Object.assign(new Error(`could not send ${init.body ?? ''}`), { config: { headers: init.headers, data: init.body } }));
    for (const authMethod of ['client_secret_post', 'client_secret_basic'] as const) {
      const error = await failure(clientCredentials({ ...grant(), authMethod, fetch: carrying }).getToken());
      const printed = inspect(error, { depth: 10 });
      assert.equal(printed.includes(SECRET), false, `${authMethod}: ${printed}`);
      assert.equal(printed.includes(Buffer.from(`worker:${SECRET}`).toString('base64')), false, `${authMethod}: ${printed}`);
    }
  });

  it('an OAuth error_description that echoes the secret form-encoded, or the Basic credentials → neither in the message', async () => {
    const secret = 'p+ss/w=rd&more-0123456789';
    const echoing: FetchFunction = async (_url, init) => {
      const description = `client authentication failed for ${init.body ?? ''} ${init.headers.authorization ?? ''}`;
      return Response.json({ error: 'invalid_client', error_description: description }, { status: 401 });
    };
    for (const authMethod of ['client_secret_post', 'client_secret_basic'] as const) {
      const error = await failure(clientCredentials({ ...grant(), clientSecret: secret, authMethod, fetch: echoing }).getToken());
      assert.equal(error.code, 'ERR_TOKEN_REQUEST_REJECTED');
      for (const form of [...formsOf(secret), Buffer.from(`worker:${new URLSearchParams({ v: secret }).toString().slice(2)}`).toString('base64')]) {
        assert.equal(error.message.includes(form), false, `${authMethod}: ${error.message}`);
      }
    }
  });

  it('an error quoting the secret with a control character in it → the escaped secret is not in the message either', async () => {
    const secret = 'tab\tseparated-secret-0123';
    const quoting: FetchFunction = () => Promise.reject(new Error(`refused ${secret}`));
    const error = await failure(clientCredentials({ ...grant(), clientSecret: secret, authMethod: 'client_secret_post', fetch: quoting }).getToken());
    assert.equal(error.message.includes('separated-secret'), false, error.message);
  });
});
