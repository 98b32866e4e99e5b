import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { clientCredentials, isTokenError, refreshingToken, type TokenError } from '../../src/client/index.ts';
import { createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { json, startFakeProvider } from '../support/fake-provider.ts';

const SECRET = 'a-client-secret-with:colon&plus+';

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits (bounded) until `condition` holds: for background refreshes, whose end no promise reports. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), 'condition not reached within 2 s');
}

/** `promise`, or a failure if it has not settled within 10 s: a wedged source must fail the test, not hang it. */
function settledWithin<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within 10 s`)), 10_000);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

async function failure(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isTokenError(error), `expected a TokenError, got ${String(error)}`);
  return error;
}

describe('test issuer: the /token endpoint', () => {
  let idp: TestIssuer;
  let served: ServedIssuer;
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(served.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    served = await idp.serve({ token: { clients: { worker: { secret: SECRET, scope: 'echo:read echo:write' }, cli: {} } } });
  });
  after(() => served.close());

  it('discovery advertises the token endpoint', async () => {
    const discovery = (await (await fetch(served.discoveryUrl)).json()) as Record<string, unknown>;
    assert.equal(discovery.token_endpoint, served.tokenUrl);
  });

  it('refuses what RFC 6749 forbids: GET, a JSON body, two client authentications, a repeated parameter, an unknown grant', async () => {
    assert.equal((await fetch(served.tokenUrl)).status, 405);
    assert.equal(((await (await post('{}', { 'content-type': 'application/json' })).json()) as { error: string }).error, 'invalid_request');
    const basic = `Basic ${Buffer.from(`worker:${encodeURIComponent(SECRET)}`).toString('base64')}`;
    const both = await post(`grant_type=client_credentials&client_secret=${encodeURIComponent(SECRET)}`, { authorization: basic });
    assert.equal(((await both.json()) as { error: string }).error, 'invalid_request');
    const twice = await post(`grant_type=client_credentials&grant_type=client_credentials&client_id=worker&client_secret=${encodeURIComponent(SECRET)}`);
    assert.equal(((await twice.json()) as { error: string }).error, 'invalid_request');
    const unknown = await post(`grant_type=password&client_id=worker&client_secret=${encodeURIComponent(SECRET)}`);
    assert.equal(((await unknown.json()) as { error: string }).error, 'unsupported_grant_type');
    const wrong = await post('grant_type=client_credentials', { authorization: `Basic ${Buffer.from('worker:nope').toString('base64')}` });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="test-issuer"');
    assert.equal(wrong.headers.get('cache-control'), 'no-store');
  });
});

describe('clientCredentials against the test issuer', () => {
  let idp: TestIssuer;
  let served: ServedIssuer;
  const options = () => ({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET, jitter: 0 });

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    served = await idp.serve({
      token: { clients: { worker: { secret: SECRET, scope: 'echo:read echo:write' }, basicOnly: { secret: SECRET, authMethods: ['client_secret_basic'] } } },
    });
  });
  after(() => served.close());

  it('client_secret_basic and client_secret_post both get a token for the client, with scope and audience', async () => {
    for (const authMethod of ['client_secret_basic', 'client_secret_post'] as const) {
      const source = clientCredentials({ ...options(), authMethod, scope: ['echo:read'], audience: 'other-api' });
      const claims = decodeJwt(await source.getToken());
      assert.equal(claims.sub, 'worker');
      assert.equal(claims.scope, 'echo:read');
      assert.equal(claims.aud, 'other-api');
      assert.equal(claims.iss, idp.issuer);
    }
  });

  it('invalid_client (wrong secret, or a method the client may not use) → ERR_TOKEN_REQUEST_REJECTED, not retried', async () => {
    const before = served.requestCount('/token');
    const wrong = clientCredentials({ ...options(), clientSecret: 'not-the-secret' });
    const error = await failure(wrong.getToken());
    assert.equal(error.code, 'ERR_TOKEN_REQUEST_REJECTED');
    assert.equal(error.oauthError, 'invalid_client');
    assert.equal(error.httpStatus, 401);
    assert.equal(error.retryable, false);
    assert.equal(error.message.includes('not-the-secret'), false);
    await failure(wrong.getToken());
    assert.equal(served.requestCount('/token') - before, 1, 'the second call fails from the back-off, without a request');
    const post = clientCredentials({ ...options(), clientId: 'basicOnly', authMethod: 'client_secret_post' });
    assert.equal((await failure(post.getToken())).oauthError, 'invalid_client');
  });

  it('invalid_scope → ERR_TOKEN_REQUEST_REJECTED naming the OAuth error', async () => {
    const error = await failure(clientCredentials({ ...options(), scope: 'echo:admin' }).getToken());
    assert.equal(error.code, 'ERR_TOKEN_REQUEST_REJECTED');
    assert.equal(error.oauthError, 'invalid_scope');
    assert.match(error.message, /invalid_scope.*scope not allowed: echo:admin/);
  });

  it('endpoint down → ERR_TOKEN_ENDPOINT_UNAVAILABLE, retryable', async () => {
    const error = await failure(clientCredentials({ ...options(), tokenUrl: `http://127.0.0.1:${await closedPort()}/token` }).getToken());
    assert.equal(error.code, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE');
    assert.equal(error.retryable, true);
  });

  it('endpoint slower than the timeout → ERR_TOKEN_ENDPOINT_UNAVAILABLE saying it did not answer', async () => {
    served.tokenEndpoint.injectFault({ kind: 'delay', duration: 2 }, 1);
    const error = await failure(clientCredentials({ ...options(), timeout: 0.2 }).getToken());
    assert.equal(error.code, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE');
    assert.match(error.message, /did not answer within 0.2 s/);
  });

  it('HTTP 500, 503 with an OAuth error, 400 and 401 without a body, a 200 that is not JSON, a 200 without access_token', async () => {
    const cases: Array<[Parameters<ServedIssuer['tokenEndpoint']['injectFault']>[0], string, boolean]> = [
      [{ kind: 'status', status: 500, body: '<html>oops</html>', contentType: 'text/html' }, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE', true],
      [{ kind: 'status', status: 503, body: '{"error":"temporarily_unavailable"}', contentType: 'application/json' }, 'ERR_TOKEN_ENDPOINT_UNAVAILABLE', true],
      [{ kind: 'status', status: 400, body: 'bad' }, 'ERR_TOKEN_REQUEST_REJECTED', false],
      [{ kind: 'status', status: 401 }, 'ERR_TOKEN_REQUEST_REJECTED', false],
      [{ kind: 'status', status: 200, body: 'not json' }, 'ERR_TOKEN_RESPONSE_INVALID', true],
      [{ kind: 'status', status: 200, body: '{"token_type":"Bearer"}', contentType: 'application/json' }, 'ERR_TOKEN_RESPONSE_INVALID', true],
      [
        { kind: 'status', status: 200, body: '{"access_token":"abc","token_type":"DPoP"}', contentType: 'application/json' },
        'ERR_TOKEN_RESPONSE_INVALID',
        false,
      ],
    ];
    for (const [fault, code, retryable] of cases) {
      served.tokenEndpoint.injectFault(fault, 1);
      const error = await failure(clientCredentials(options()).getToken());
      assert.equal(error.code, code, JSON.stringify(fault));
      assert.equal(error.retryable, retryable, JSON.stringify(fault));
    }
  });

  it('a token without exp and without expires_in → ERR_TOKEN_EXPIRY_UNKNOWN; expires_in alone is enough', async () => {
    served.tokenEndpoint.injectFault({ kind: 'token', claims: { exp: undefined }, expiresIn: null }, 1);
    assert.equal((await failure(clientCredentials(options()).getToken())).code, 'ERR_TOKEN_EXPIRY_UNKNOWN');
    served.tokenEndpoint.injectFault({ kind: 'token', claims: { exp: undefined }, expiresIn: 90 }, 1);
    const source = clientCredentials(options());
    await source.getToken();
    assert.ok(source.expiresAt !== undefined && Math.abs(source.expiresAt.getTime() - Date.now() - 90_000) < 5000);
  });

  it('a token that has already expired → ERR_TOKEN_EXPIRED', async () => {
    served.tokenEndpoint.injectFault({ kind: 'token', signOptions: { issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresIn: 3600 }, expiresIn: null }, 1);
    assert.equal((await failure(clientCredentials(options()).getToken())).code, 'ERR_TOKEN_EXPIRED');
  });

  it('a refresh that fails while the old token is still valid: the old token is served, then the next good answer replaces it', async () => {
    let now = Date.now();
    const source = clientCredentials({ ...options(), clock: () => now });
    const first = await source.getToken();
    served.tokenEndpoint.injectFault({ kind: 'status', status: 500 });
    now += 290_000;
    const before = served.requestCount('/token');
    assert.equal(await source.getToken(), first);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(served.requestCount('/token') - before, 1, 'one refresh was attempted');
    assert.equal(await source.getToken(), first, 'still valid: still served');
    served.tokenEndpoint.clearFaults();
    now += 5_000;
    const oldExpiry = source.expiresAt?.getTime();
    assert.equal(await source.getToken(), first, 'served at once; the refresh runs in the background');
    await until(() => source.expiresAt?.getTime() !== oldExpiry);
    assert.notEqual(await source.getToken(), first);
  });

  it('1,000 concurrent getToken() with no token yet → one request to the endpoint', async () => {
    const source = clientCredentials(options());
    const before = served.requestCount('/token');
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => source.getToken()));
    assert.equal(served.requestCount('/token') - before, 1);
    assert.equal(new Set(tokens).size, 1);
  });

  it('bad options → AuthConfigError naming the option, never echoing the secret', () => {
    const base = options();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, tokenUrl: 'not a url' }, 'tokenUrl'],
      [{ ...base, tokenUrl: 'http://idp.example/token' }, 'tokenUrl'],
      [{ ...base, tokenUrl: 'ftp://127.0.0.1/token' }, 'tokenUrl'],
      [{ ...base, tokenUrl: 'https://user:pw@idp.example/token' }, 'tokenUrl'],
      [{ ...base, clientId: undefined }, 'clientId'],
      [{ ...base, clientSecret: '' }, 'clientSecret'],
      [{ ...base, authMethod: 'private_key_jwt' }, 'authMethod'],
      [{ ...base, scope: 'has "quote"' }, 'scope'],
      [{ ...base, timeout: 0 }, 'timeout'],
      [{ ...base, clientSecert: 'typo' }, 'clientSecert'],
      [{ ...base, tokenUrl: 'http://idp.internal/token', allowHttp: true }, 'allowHttp'],
      [{ ...base, allowInsecureHttp: 'yes' }, 'allowInsecureHttp'],
    ];
    for (const [bad, option] of cases) {
      assert.throws(
        () => clientCredentials(bad as never),
        (error: Error & { code?: string; option?: string }) =>
          error.code === 'ERR_AUTH_INVALID_OPTION' && error.option === option && !error.message.includes(SECRET),
        option,
      );
    }
    // One name for one idea: the key sources spell it allowInsecureHttp too.
    assert.doesNotThrow(() => clientCredentials({ ...base, tokenUrl: 'http://idp.internal/token', allowInsecureHttp: true }));
  });
});

describe('refreshingToken against the test issuer (rotation)', () => {
  let idp: TestIssuer;
  let served: ServedIssuer;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    served = await idp.serve({ token: { clients: { cli: {}, app: { secret: SECRET } } } });
  });
  after(() => served.close());

  it('public client: each refresh rotates the refresh token, onRefreshToken is told, the access token is for the user', async () => {
    const stored: string[] = [];
    const initial = served.tokenEndpoint.issueRefreshToken({ clientId: 'cli', subject: 'alice', scope: 'echo:read' });
    const source = refreshingToken({ tokenUrl: served.tokenUrl, clientId: 'cli', refreshToken: initial, onRefreshToken: (next) => void stored.push(next) });
    const first = await source.getToken();
    assert.equal(decodeJwt(first).sub, 'alice');
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0], initial);
    const second = await source.refresh(first);
    assert.notEqual(second, first);
    assert.equal(stored.length, 2);
    assert.notEqual(stored[1], stored[0]);
  });

  it('confidential client with client_secret_post', async () => {
    const initial = served.tokenEndpoint.issueRefreshToken({ clientId: 'app', subject: 'bob' });
    const source = refreshingToken({
      tokenUrl: served.tokenUrl,
      clientId: 'app',
      clientSecret: SECRET,
      authMethod: 'client_secret_post',
      refreshToken: initial,
    });
    assert.equal(decodeJwt(await source.getToken()).sub, 'bob');
  });

  it('1,000 concurrent calls and 100 forced refreshes: each refresh token is spent exactly once', async () => {
    const initial = served.tokenEndpoint.issueRefreshToken({ clientId: 'cli' });
    const source = refreshingToken({ tokenUrl: served.tokenUrl, clientId: 'cli', refreshToken: initial });
    const before = served.requestCount('/token');
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => source.getToken()));
    assert.equal(new Set(tokens).size, 1);
    const refreshed = await Promise.all(Array.from({ length: 100 }, () => source.refresh(tokens[0])));
    assert.equal(new Set(refreshed).size, 1);
    assert.equal(served.requestCount('/token') - before, 2, 'one request each, none refused for reuse');
  });

  it('a refresh token reused after rotation → ERR_TOKEN_REFRESH_TOKEN_INVALID, clear and final; the session is revoked', async () => {
    const initial = served.tokenEndpoint.issueRefreshToken({ clientId: 'cli' });
    const rotated: string[] = [];
    const legit = refreshingToken({ tokenUrl: served.tokenUrl, clientId: 'cli', refreshToken: initial, onRefreshToken: (next) => void rotated.push(next) });
    await legit.getToken();
    // Someone else replays the spent token (a stale copy, or an attacker).
    const replay = refreshingToken({ tokenUrl: served.tokenUrl, clientId: 'cli', refreshToken: initial });
    const error = await failure(replay.getToken());
    assert.equal(error.code, 'ERR_TOKEN_REFRESH_TOKEN_INVALID');
    assert.equal(error.oauthError, 'invalid_grant');
    assert.equal(error.retryable, false);
    assert.match(error.message, /already used/);
    assert.equal(error.message.includes(initial), false);
    const before = served.requestCount('/token');
    assert.equal((await failure(replay.refresh())).code, 'ERR_TOKEN_REFRESH_TOKEN_INVALID');
    assert.equal(served.requestCount('/token'), before, 'a refused refresh token is never sent again');
    // Reuse detection revoked the family: the legitimate holder must sign in again too.
    assert.equal((await failure(legit.refresh())).code, 'ERR_TOKEN_REFRESH_TOKEN_INVALID');
  });

  it('onRefreshToken that throws: a warning, and the new refresh token is still the one used', async () => {
    const initial = served.tokenEndpoint.issueRefreshToken({ clientId: 'cli' });
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(warning.code ?? '');
    process.on('warning', onWarning);
    try {
      const source = refreshingToken({
        tokenUrl: served.tokenUrl,
        clientId: 'cli',
        refreshToken: initial,
        onRefreshToken: () => {
          throw new Error('disk full');
        },
      });
      const first = await source.getToken();
      assert.notEqual(await source.refresh(first), first, 'the second refresh used the rotated token');
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(warnings.includes('GRPC_JWT_AUTH_REFRESH_TOKEN_NOT_STORED'));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('onRefreshToken that never settles: the access token still comes, a warning, and the next refresh uses the rotated token', async () => {
    const initial = served.tokenEndpoint.issueRefreshToken({ clientId: 'cli' });
    const told: string[] = [];
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(warning.code ?? '');
    process.on('warning', onWarning);
    try {
      const source = refreshingToken({
        tokenUrl: served.tokenUrl,
        clientId: 'cli',
        refreshToken: initial,
        timeout: 1,
        // A store that hangs (a stuck disk or key-value store): it must not wedge the single flight.
        onRefreshToken: (next) => {
          told.push(next);
          return new Promise<void>(() => undefined);
        },
      });
      const first = await settledWithin(source.getToken(), 'the first access token');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, ['GRPC_JWT_AUTH_REFRESH_TOKEN_STORE_SLOW']);
      const second = await settledWithin(source.refresh(first), 'the refreshed access token');
      assert.notEqual(second, first);
      assert.equal(told.length, 2);
      assert.notEqual(told[1], told[0], 'the second refresh spent the rotated token, not the initial one');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a 2xx that rotates the refresh token but is otherwise refused: the rotated token is kept, stored, and spent next', async () => {
    // The test issuer always answers well; a small endpoint answers what each step needs.
    const endpoint = await startFakeProvider();
    const presented: string[] = [];
    const answers: Array<Record<string, unknown>> = [
      { access_token: 'at-1', token_type: 'DPoP', refresh_token: 'rt-2', expires_in: 300 }, // not Bearer
      { token_type: 'Bearer', refresh_token: 'rt-3', expires_in: 300 }, // no access_token
      { access_token: 'at-3', token_type: 'Bearer', refresh_token: 'rt-4', expires_in: 300 },
    ];
    endpoint.on('/token', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        presented.push(new URLSearchParams(Buffer.concat(chunks).toString()).get('refresh_token') ?? '');
        json(answers[presented.length - 1] ?? { error: 'invalid_grant' })(request, response);
      });
    });
    const clock = { now: Date.now() };
    const stored: string[] = [];
    try {
      const source = refreshingToken({
        tokenUrl: `${endpoint.url}/token`,
        clientId: 'cli',
        refreshToken: 'rt-1',
        clock: () => clock.now,
        onRefreshToken: (next) => void stored.push(next),
      });
      assert.equal((await failure(source.getToken())).code, 'ERR_TOKEN_RESPONSE_INVALID');
      clock.now += 3600_000; // past the back-off
      assert.equal((await failure(source.getToken())).code, 'ERR_TOKEN_RESPONSE_INVALID');
      clock.now += 3600_000;
      assert.equal(await source.getToken(), 'at-3');
      assert.deepEqual(presented, ['rt-1', 'rt-2', 'rt-3'], 'each refresh token spent once: no reuse, so no revoked session');
      assert.deepEqual(stored, ['rt-2', 'rt-3', 'rt-4']);
    } finally {
      await endpoint.close();
    }
  });

  it('bad options → AuthConfigError naming the option', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tokenUrl: served.tokenUrl }, 'refreshToken'],
      [{ tokenUrl: served.tokenUrl, refreshToken: 'r', clientSecret: 's' }, 'clientId'],
      [{ tokenUrl: served.tokenUrl, refreshToken: 'r', onRefreshToken: 'save' }, 'onRefreshToken'],
      [{ tokenUrl: 'http://idp.internal/token', refreshToken: 'r' }, 'tokenUrl'],
      [{ tokenUrl: 'http://idp.internal/token', refreshToken: 'r', allowHttp: true }, 'allowHttp'],
      [{ tokenUrl: served.tokenUrl, refreshToken: 'r', refreshBfore: 5 }, 'refreshBfore'],
    ];
    for (const [bad, option] of cases) {
      assert.throws(
        () => refreshingToken(bad as never),
        (error: { option?: string }) => error.option === option,
        option,
      );
    }
    assert.doesNotThrow(() => refreshingToken({ tokenUrl: 'http://idp.internal/token', refreshToken: 'r', allowInsecureHttp: true }));
  });
});
