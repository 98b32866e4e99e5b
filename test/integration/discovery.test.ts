import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAuthenticator, fromIssuer, fromSecret, type Algorithm, type RemoteJwksOptions } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { json, startFakeProvider, status, type FakeProvider } from '../support/fake-provider.ts';
import { eventLog, manualClock, outcome, tally, until, type EventLog, type ManualClock } from '../support/remote-keys.ts';
import { localhostCertificate } from '../support/pem.ts';

const OIDC = '/.well-known/openid-configuration';
const OAUTH = '/.well-known/oauth-authorization-server';
const JWKS = '/jwks.json';
const MINUTE = 60_000;

interface Rig {
  readonly provider: FakeProvider;
  readonly issuer: string;
  readonly clock: ManualClock;
  readonly log: EventLog;
  /** A token of `idp` carrying this provider's issuer. */
  sign(claims?: Record<string, unknown>): Promise<string>;
  authenticator(algorithms: readonly Algorithm[], options?: RemoteJwksOptions): ReturnType<typeof createAuthenticator>;
  close(): Promise<void>;
}

/** A fake provider whose issuer is its own URL, publishing `idp`'s keys. */
async function rig(
  idp: TestIssuer,
  document: (issuer: string, url: string) => Record<string, unknown> = (issuer, url) => ({ issuer, jwks_uri: `${url}${JWKS}` }),
): Promise<Rig> {
  const provider = await startFakeProvider();
  const issuer = provider.url;
  provider.on(
    OIDC,
    json(() => document(issuer, provider.url), { 'cache-control': 'max-age=3600' }),
  );
  provider.on(
    JWKS,
    json(() => idp.jwks, { 'cache-control': 'max-age=300' }),
  );
  const clock = manualClock();
  const log = eventLog();
  const resolvers: Array<{ close(): void }> = [];
  return {
    provider,
    issuer,
    clock,
    log,
    sign: (claims = {}) => idp.sign({ iss: issuer, ...claims }),
    authenticator(algorithms, options = {}) {
      const keys = fromIssuer(issuer, { clock: clock.now, onEvent: log.listener, ...options });
      resolvers.push(keys);
      return createAuthenticator({ keys, algorithms, issuer, audience: idp.audience, cache: false });
    },
    async close() {
      for (const resolver of resolvers) resolver.close();
      await provider.close();
    },
  };
}

describe('fromIssuer: discovery against the test issuer', () => {
  it('served test issuer: 1,000 concurrent calls on a cold start → 1 discovery + 1 JWKS request, all OK', async (t) => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const served = await idp.serve();
    const keys = fromIssuer(served.url);
    try {
      const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], issuer: served.url, audience: idp.audience, cache: false });
      const token = await idp.sign();
      assert.deepEqual(
        await tally(
          authenticator,
          Array.from({ length: 1000 }, () => token),
        ),
        { OK: 1000 },
      );
      assert.equal(served.requestCount(OIDC), 1);
      assert.equal(served.requestCount('/jwks.json'), 1);
      t.diagnostic(
        `FIGURE cold start via discovery: 1000 calls → ${served.requestCount(OIDC)} discovery + ${served.requestCount('/jwks.json')} JWKS request(s)`,
      );
    } finally {
      keys.close();
      await served.close();
    }
  });
});

describe('fromIssuer: the discovery document', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
  });

  it('issuer with a path: no OpenID document (404) → RFC 8414 location with the path appended', async () => {
    const provider = await startFakeProvider();
    const issuer = `${provider.url}/realms/acme`;
    const pathIdp = await createTestIssuer({ alg: 'ES256', issuer });
    provider.on(`${OAUTH}/realms/acme`, json({ issuer, jwks_uri: `${provider.url}${JWKS}` }));
    provider.on(
      JWKS,
      json(() => pathIdp.jwks),
    );
    const log = eventLog();
    const keys = fromIssuer(issuer, { onEvent: log.listener });
    try {
      const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], issuer, audience: pathIdp.audience });
      assert.equal(await outcome(authenticator, await pathIdp.sign()), 'OK');
      assert.equal(provider.count(`/realms/acme${OIDC}`), 1);
      assert.equal(provider.count(`${OAUTH}/realms/acme`), 1);
      assert.equal(log.of('fetched').find((event) => event.document === 'discovery')?.url, `${provider.url}${OAUTH}/realms/acme`);
    } finally {
      keys.close();
      await provider.close();
    }
  });

  const refused: Array<[string, (issuer: string, url: string) => Record<string, unknown>]> = [
    ['a document naming another issuer', (_issuer, url) => ({ issuer: `${url}/evil`, jwks_uri: `${url}${JWKS}` })],
    ['a document whose issuer differs by a trailing slash', (issuer, url) => ({ issuer: `${issuer}/`, jwks_uri: `${url}${JWKS}` })],
    ['a document without issuer', (_issuer, url) => ({ jwks_uri: `${url}${JWKS}` })],
    ['a document without jwks_uri', (issuer) => ({ issuer })],
    ['a jwks_uri over http to a non-loopback host', (issuer) => ({ issuer, jwks_uri: 'http://keys.example/jwks.json' })],
    ['a jwks_uri that is not a URL', (issuer) => ({ issuer, jwks_uri: 'not a url' })],
    [
      'a document advertising only HS256 and none',
      (issuer, url) => ({ issuer, jwks_uri: `${url}${JWKS}`, id_token_signing_alg_values_supported: ['HS256', 'none'] }),
    ],
  ];
  for (const [name, document] of refused) {
    it(`${name} → refused: UNAVAILABLE, a failed event, and no JWKS request`, async () => {
      const r = await rig(idp, document);
      try {
        assert.equal(await outcome(r.authenticator(['ES256']), await r.sign()), 'ERR_AUTH_KEYS_UNAVAILABLE');
        assert.equal(r.log.of('failed')[0]?.document, 'discovery');
        assert.equal(r.provider.count(JWKS), 0);
      } finally {
        await r.close();
      }
    });
  }

  it('discovery answering 500 → no RFC 8414 fallback (an outage must not double requests)', async () => {
    const r = await rig(idp);
    r.provider.on(OIDC, status(500));
    try {
      assert.equal(await outcome(r.authenticator(['ES256']), await r.sign()), 'ERR_AUTH_KEYS_UNAVAILABLE');
      assert.equal(r.provider.count(OIDC), 1);
      assert.equal(r.provider.total(), 1);
    } finally {
      await r.close();
    }
  });
});

describe('fromIssuer: algorithms', () => {
  let idp: TestIssuer;
  let rsa: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', kid: 'ec' });
    rsa = await createTestIssuer({ alg: 'RS256', kid: 'rsa', audience: idp.audience });
  });

  const advertising = (algs: unknown) => (issuer: string, url: string) => ({ issuer, jwks_uri: `${url}${JWKS}`, id_token_signing_alg_values_supported: algs });

  it('advertised [ES256, HS256, none] → only ES256 serves; an RS256 token with a published RSA key → ALG_NOT_ALLOWED', async () => {
    const both = {
      get keys() {
        return [...idp.jwks.keys, ...rsa.jwks.keys];
      },
    };
    const r = await rig(idp, advertising(['ES256', 'HS256', 'none']));
    r.provider.on(
      JWKS,
      json(() => both),
    );
    try {
      const authenticator = r.authenticator(['ES256', 'RS256']);
      assert.equal(await outcome(authenticator, await r.sign()), 'OK');
      assert.equal(await outcome(authenticator, await rsa.sign({ iss: r.issuer })), 'ERR_AUTH_ALG_NOT_ALLOWED');
    } finally {
      await r.close();
    }
  });

  it('none of the configured algorithms advertised → ready() rejects with an AuthConfigError naming algorithms', async () => {
    const r = await rig(idp, advertising(['ES256']));
    try {
      const keys = fromIssuer(r.issuer, { clock: r.clock.now });
      createAuthenticator({ keys, algorithms: ['RS256'], issuer: r.issuer });
      await assert.rejects(keys.ready(), { code: 'ERR_AUTH_INVALID_OPTION', option: 'algorithms' });
      keys.close();
    } finally {
      await r.close();
    }
  });

  it('inside issuers[1]: ready() names issuers[1].algorithms, the list to fix', async () => {
    const r = await rig(idp, advertising(['ES256']));
    try {
      const keys = fromIssuer(r.issuer, { clock: r.clock.now });
      const authenticator = createAuthenticator({
        issuers: [
          { issuer: 'https://other.example/', keys: fromSecret('x'.repeat(32)), algorithms: ['HS256'] },
          { issuer: r.issuer, keys, algorithms: ['RS256'] },
        ],
      });
      await assert.rejects(authenticator.ready(), { code: 'ERR_AUTH_INVALID_OPTION', option: 'issuers[1].algorithms' });
      authenticator.close();
    } finally {
      await r.close();
    }
  });

  it('no advertised list → every public-key algorithm this library verifies', async () => {
    const r = await rig(rsa);
    try {
      assert.equal(await outcome(r.authenticator(['RS256', 'PS256']), await r.sign()), 'OK');
    } finally {
      await r.close();
    }
  });

  it("the interceptor's algorithms is the one list: fromIssuer has no option of its own, and HS algorithms throw at construction", async () => {
    const r = await rig(rsa, advertising(['RS256', 'ES256']));
    try {
      assert.equal(await outcome(r.authenticator(['RS256']), await r.sign()), 'OK');
      assert.throws(() => fromIssuer(r.issuer, { algorithms: ['RS256'] } as never), { code: 'ERR_AUTH_INVALID_OPTION', option: 'algorithms' });
      assert.throws(() => createAuthenticator({ keys: fromIssuer(r.issuer), algorithms: ['HS256'] }), {
        code: 'ERR_AUTH_INVALID_OPTION',
        option: 'algorithms',
      });
    } finally {
      await r.close();
    }
  });
});

describe('fromIssuer: cached and retried like the JWKS', () => {
  it('discovery down at start-up → UNAVAILABLE; back after the retry delay → OK', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const r = await rig(idp);
    const document = { issuer: r.issuer, jwks_uri: `${r.provider.url}${JWKS}` };
    r.provider.on(OIDC, status(503));
    try {
      const authenticator = r.authenticator(['ES256']);
      const token = await r.sign();
      assert.deepEqual(
        await tally(
          authenticator,
          Array.from({ length: 50 }, () => token),
        ),
        { ERR_AUTH_KEYS_UNAVAILABLE: 50 },
      );
      assert.equal(r.provider.count(OIDC), 1);
      r.provider.on(OIDC, json(document));
      r.clock.advance(1000);
      assert.deepEqual(
        await tally(
          authenticator,
          Array.from({ length: 50 }, () => token),
        ),
        { OK: 50 },
      );
      assert.equal(r.provider.count(OIDC), 2);
      assert.equal(r.provider.count(JWKS), 1);
    } finally {
      await r.close();
    }
  });

  it('discovery failing on refresh → the held document and keys keep serving (stale-if-error)', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const r = await rig(idp);
    try {
      const authenticator = r.authenticator(['ES256']);
      const token = await r.sign();
      assert.equal(await outcome(authenticator, token), 'OK');
      r.provider.on(OIDC, status(500));
      r.provider.on(JWKS, status(500));
      r.clock.advance(61 * MINUTE); // past both max-ages, inside the 1 h stale bound
      assert.deepEqual(
        await tally(
          authenticator,
          Array.from({ length: 50 }, () => token),
        ),
        { OK: 50 },
      );
      await until(() => r.log.of('failed').length === 2);
      assert.deepEqual(
        r.log
          .of('failed')
          .map((event) => event.document)
          .sort(),
        ['discovery', 'jwks'],
      );
      assert.equal(r.provider.count(OIDC), 2);
    } finally {
      await r.close();
    }
  });

  it('discovery down past its stale bound while the JWKS is fresh → new tokens keep verifying with the keys followed so far', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const r = await rig(idp);
    r.provider.on(OIDC, json({ issuer: r.issuer, jwks_uri: `${r.provider.url}${JWKS}` }, { 'cache-control': 'max-age=60' }));
    r.provider.on(
      JWKS,
      json(() => idp.jwks, { 'cache-control': 'max-age=86400' }),
    );
    try {
      const keys = fromIssuer(r.issuer, { clock: r.clock.now, onEvent: r.log.listener, staleIfError: 60 });
      const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], issuer: r.issuer, audience: idp.audience, cache: false });
      assert.equal(await outcome(authenticator, await r.sign()), 'OK');
      r.provider.on(OIDC, status(503));
      r.clock.advance(3 * MINUTE); // the document (60 s + 60 s stale) is past use; the key set (24 h) is fresh
      // Tokens never seen before: they cannot ride on holds() of a cached verification.
      const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => r.sign({ jti: `new-${i}` })));
      assert.deepEqual(await tally(authenticator, tokens), { OK: 20 });
      await keys.ready();
      await until(() => r.log.of('failed').length > 0); // the refresh runs in the background: no call waits for it
      assert.equal(r.log.of('failed')[0]?.document, 'discovery');
      assert.equal(r.provider.count(OIDC), 2, 'one refresh attempt, then the retry delay');
      assert.equal(r.provider.count(JWKS), 1, 'the fresh key set was not fetched again');
      keys.close();
    } finally {
      await r.close();
    }
  });

  it('a jwks_uri that moves on a discovery refresh is followed', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    let jwksPath = JWKS;
    const r = await rig(idp, (issuer, url) => ({ issuer, jwks_uri: `${url}${jwksPath}` }));
    r.provider.on(
      '/v2/jwks.json',
      json(() => idp.jwks),
    );
    try {
      const authenticator = r.authenticator(['ES256']);
      const token = await r.sign();
      assert.equal(await outcome(authenticator, token), 'OK');
      jwksPath = '/v2/jwks.json';
      r.clock.advance(61 * MINUTE);
      const rediscovered = r.log.next('fetched');
      await outcome(authenticator, token); // kicks the discovery refresh
      assert.equal((await rediscovered).document, 'discovery');
      assert.equal(await outcome(authenticator, token), 'OK');
      assert.equal(r.provider.count('/v2/jwks.json'), 1);
    } finally {
      await r.close();
    }
  });
});

describe('fromIssuer: a jwks_uri that moves hands over without a gap', () => {
  it('the new jwks_uri fails (503) → the key set followed until now goes on verifying (OK, not KEYS_UNAVAILABLE); once the new one loads, only its keys verify', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'old-key' });
    const moved = await createTestIssuer({ alg: 'ES256', kid: 'new-key', audience: idp.audience });
    let jwksPath = JWKS;
    const r = await rig(idp, (issuer, url) => ({ issuer, jwks_uri: `${url}${jwksPath}` }));
    let newUrlUp = false;
    r.provider.on('/v2/jwks.json', (request, response) => (newUrlUp ? json(() => moved.jwks) : status(503))(request, response));
    try {
      const authenticator = r.authenticator(['ES256']);
      const oldToken = await r.sign();
      const newToken = await moved.sign({ iss: r.issuer });
      assert.equal(await outcome(authenticator, oldToken), 'OK');
      jwksPath = '/v2/jwks.json';
      r.clock.advance(61 * MINUTE);
      const rediscovered = r.log.next('fetched');
      await outcome(authenticator, oldToken); // kicks the discovery refresh
      assert.equal((await rediscovered).document, 'discovery');
      // The new URL answers 503: before, every call was refused (KEYS_UNAVAILABLE) until it came up.
      assert.deepEqual(
        await tally(
          authenticator,
          Array.from({ length: 20 }, () => oldToken),
        ),
        { OK: 20 },
      );
      assert.ok(r.provider.count('/v2/jwks.json') >= 1);
      newUrlUp = true;
      r.clock.advance(MINUTE); // past the failed fetch's retry delay
      await outcome(authenticator, oldToken); // the retry is due: the new URL is fetched again, in the background
      await until(() => r.log.of('fetched').some((event) => event.url.endsWith('/v2/jwks.json')));
      // The provider moved: its new set decides now; the old set is no fallback once the new one loaded
      // (the old token first: its kid is unknown to the new set, which must not send it to the old one).
      assert.equal(await outcome(authenticator, oldToken), 'ERR_AUTH_KEY_NOT_FOUND');
      assert.equal(await outcome(authenticator, newToken), 'OK');
      assert.equal(await outcome(authenticator, oldToken), 'ERR_AUTH_KEY_NOT_FOUND');
    } finally {
      await r.close();
    }
  });
});

describe('fromIssuer: a rotation right after a fetch (the cooldown bounds unknown-kid refetches only)', () => {
  it('new kid 1 s after ready() → 1 JWKS refetch, no discovery refetch, 0 failed calls', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    const r = await rig(idp);
    try {
      const authenticator = r.authenticator(['ES256']);
      const oldToken = await r.sign();
      await authenticator.ready();
      r.clock.advance(1000);
      await idp.rotate();
      const newToken = await r.sign();
      assert.deepEqual(await tally(authenticator, [...Array.from({ length: 100 }, () => newToken), ...Array.from({ length: 100 }, () => oldToken)]), {
        OK: 200,
      });
      assert.equal(r.provider.count(OIDC), 1);
      assert.equal(r.provider.count(JWKS), 2);
      assert.deepEqual(
        r.log.of('fetched').map((event) => [event.document, event.trigger]),
        [
          ['discovery', 'initial'],
          ['jwks', 'initial'],
          ['jwks', 'unknown-kid'],
        ],
      );
    } finally {
      await r.close();
    }
  });

  it('new kid 1 s after the key set moved to a new jwks_uri and was fetched there → 1 refetch, 0 failed calls', async () => {
    const idp = await createTestIssuer({ alg: 'ES256', kid: 'k1' });
    let jwksPath = JWKS;
    const r = await rig(idp, (issuer, url) => ({ issuer, jwks_uri: `${url}${jwksPath}` }));
    r.provider.on(
      OIDC,
      json(() => ({ issuer: r.issuer, jwks_uri: `${r.provider.url}${jwksPath}` }), { 'cache-control': 'max-age=60' }),
    );
    r.provider.on(
      '/v2/jwks.json',
      json(() => idp.jwks, { 'cache-control': 'max-age=300' }),
    );
    try {
      const keys = fromIssuer(r.issuer, { clock: r.clock.now, onEvent: r.log.listener });
      const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], issuer: r.issuer, audience: idp.audience, cache: false });
      const oldToken = await r.sign();
      await keys.ready();
      jwksPath = '/v2/jwks.json';
      r.clock.advance(2 * MINUTE); // the document (60 s) is stale: the next call refreshes it in the background
      assert.equal(await outcome(authenticator, oldToken), 'OK');
      await until(() => r.log.of('fetched').filter((event) => event.document === 'discovery').length === 2);
      await keys.ready(); // follows the new jwks_uri: its first fetch
      assert.equal(r.provider.count('/v2/jwks.json'), 1);
      r.clock.advance(1000);
      await idp.rotate();
      const newToken = await r.sign();
      assert.deepEqual(await tally(authenticator, [...Array.from({ length: 100 }, () => newToken), ...Array.from({ length: 100 }, () => oldToken)]), {
        OK: 200,
      });
      assert.equal(r.provider.count('/v2/jwks.json'), 2);
      keys.close();
    } finally {
      await r.close();
    }
  });
});

describe('fromIssuer: construction', () => {
  const isConfigError = (option: string) => (error: { code?: string; option?: string }) => error.code === 'ERR_AUTH_INVALID_OPTION' && error.option === option;

  it('refuses a non-loopback http issuer, a query or fragment, an empty issuer and unknown options', () => {
    assert.throws(() => fromIssuer('http://idp.example'), isConfigError('issuer'));
    assert.throws(() => fromIssuer('https://idp.example/?tenant=1'), isConfigError('issuer'));
    assert.throws(() => fromIssuer('https://idp.example/#x'), isConfigError('issuer'));
    assert.throws(() => fromIssuer(''), isConfigError('issuer'));
    assert.throws(() => fromIssuer('https://idp.example', { jwksUri: 'x' } as never), isConfigError('jwksUri'));
    fromIssuer('https://idp.example').close();
    fromIssuer('http://idp.example', { allowInsecureHttp: true }).close();
  });
});

/**
 * Runs fromIssuer in a child process that trusts the throw-away certificate (NODE_EXTRA_CA_CERTS is read at
 * start-up only), and reports how one token fared and why discovery failed, if it did.
 */
function verifyInChild(
  certFile: string,
  input: { issuer: string; token: string; audience: string; allowInsecureHttp: boolean },
): Promise<{ outcome: string; failures: string[] }> {
  const script = `
    import { createAuthenticator, fromIssuer } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};
    const { issuer, token, audience, allowInsecureHttp } = JSON.parse(process.env.DISCOVERY_INPUT);
    const failures = [];
    const keys = fromIssuer(issuer, { allowInsecureHttp, onEvent: (event) => { if (event.type === 'failed') failures.push(event.document + ': ' + event.error.message); } });
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], issuer, audience, cache: false });
    let outcome = 'OK';
    try { await authenticator.authenticate(token, '/test.echo.v1.Echo/Unary'); } catch (error) { outcome = error.code ?? String(error); }
    keys.close();
    console.log(JSON.stringify({ outcome, failures }));
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: certFile, DISCOVERY_INPUT: JSON.stringify(input) }, timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as never),
    );
  });
}

const certificate = localhostCertificate('grpc-jwt-auth-discovery-');

describe('fromIssuer: a discovery document fetched over https', { skip: certificate ? false : 'openssl is not available' }, () => {
  after(() => {
    if (certificate) rmSync(certificate.dir, { recursive: true, force: true });
  });

  it('names a plaintext loopback jwks_uri → refused, no JWKS request (no downgrade to whatever listens on a local port); allowInsecureHttp takes it', async () => {
    const { key, cert, certFile } = certificate as NonNullable<typeof certificate>;
    // The plaintext "key server" on a local port: any local process could have bound it.
    const local = await startFakeProvider();
    let jwksUri = '';
    const https = createHttpsServer({ key, cert }, (request, response) => {
      const issuer = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
      if (request.url !== OIDC) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, jwks_uri: jwksUri }));
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    try {
      const issuer = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
      jwksUri = `${local.url}${JWKS}`;
      const idp = await createTestIssuer({ alg: 'ES256', issuer });
      local.on(
        JWKS,
        json(() => idp.jwks),
      );
      const input = { issuer, token: await idp.sign(), audience: idp.audience };

      const refused = await verifyInChild(certFile, { ...input, allowInsecureHttp: false });
      assert.equal(refused.outcome, 'ERR_AUTH_KEYS_UNAVAILABLE');
      assert.equal(refused.failures.length, 1);
      assert.match(refused.failures[0] ?? '', /^discovery: jwks_uri http:\/\/127\.0\.0\.1:\d+\/jwks\.json refused: .*downgrade/);
      assert.equal(local.count(JWKS), 0, 'the plaintext key server was never asked');

      const optedIn = await verifyInChild(certFile, { ...input, allowInsecureHttp: true });
      assert.deepEqual(optedIn, { outcome: 'OK', failures: [] });
      assert.equal(local.count(JWKS), 1);
    } finally {
      https.closeAllConnections();
      await new Promise((resolve) => https.close(resolve));
      await local.close();
    }
  });
});
