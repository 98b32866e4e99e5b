/**
 * The test issuer's token endpoint with DPoP (RFC 9449 §5, §8) over real HTTP on loopback, proofs
 * signed with jose in the test. Cases ported from panva/node-oidc-provider test/dpop/dpop.test.js
 * (commit b95c294475d7c858a3ea63276dbc8eed77c0bfd2): discovery "extends discovery"; client_credentials
 * "binds the access token to the jwk" and "uses the client and proof identifiers with the replay window
 * TTL" (the replay half); "authorization flow (public client)" refresh_token "binds the access token to
 * the jwk", "verifies the request made with the same cert jwk" and "rejects a replay before repeating
 * the token binding check"; "status codes at the token endpoint"; "invalid nonce @ token endpoint";
 * "required nonce @ token endpoint". Our own code; where we differ: a replayed proof is
 * `invalid_dpop_proof` (RFC 9449 §5: the proof is invalid), not oidc-provider's `invalid_grant`, and
 * proofs are replay-checked per key, so a proof cannot be reused by another client either.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { AuthConfigError } from '../../src/index.ts';
import { clientCredentials as clientCredentialsSource, createDpopKey, refreshingToken } from '../../src/client/index.ts';
import { createTestIssuer, type ServedIssuer, type ServeOptions, type TestIssuer } from '../../src/testing/index.ts';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string | string[] | undefined>;
}

interface DpopKeyPair {
  readonly keys: Awaited<ReturnType<typeof generateKeyPair>>;
  readonly jwk: JWK;
  readonly jkt: string;
}

async function dpopKey(): Promise<DpopKeyPair> {
  const keys = await generateKeyPair('ES256');
  const jwk = await exportJWK(keys.publicKey);
  return { keys, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

/** A DPoP proof as a client library makes it; `claims` and `header` override or add members. */
async function proof(key: DpopKeyPair, htu: unknown, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ htm: 'POST', htu, jti: randomUUID(), iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk, ...header })
    .sign(key.keys.privateKey);
}

/** POSTs a form to `url` with node:http (so a header can be sent twice); the JSON answer. */
function post(url: string, form: Record<string, string>, headers: Record<string, string | string[]> = {}): Promise<Answer> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          headers: response.headers,
        }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('token request timed out')));
    request.end(body);
  });
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const CLIENTS: NonNullable<ServeOptions['token']>['clients'] = {
  worker: { secret: 'worker-secret' },
  other: { secret: 'other-secret' },
  strict: { secret: 'strict-secret', dpop: 'required' },
  cli: {},
};
const cnfOf = (answer: Answer) => decodeJwt(String(answer.body.access_token)).cnf;

describe('test issuer token endpoint with DPoP (RFC 9449)', { timeout: 60_000 }, () => {
  let idp: TestIssuer;
  let served: ServedIssuer;
  let key: DpopKeyPair;
  let otherKey: DpopKeyPair;
  const servers: ServedIssuer[] = [];

  before(async () => {
    idp = await createTestIssuer();
    served = await idp.serve({ token: { clients: CLIENTS } });
    servers.push(served);
    key = await dpopKey();
    otherKey = await dpopKey();
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  const clientCredentials = (dpopHeader?: string | string[], client: [string, string] = ['worker', 'worker-secret'], url = served.tokenUrl) =>
    post(url, { grant_type: 'client_credentials' }, { authorization: basic(...client), ...(dpopHeader === undefined ? {} : { dpop: dpopHeader }) });

  it('discovery lists dpop_signing_alg_values_supported (oidc-provider: extends discovery)', async () => {
    const response = await fetch(served.discoveryUrl);
    const document = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(document.dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'PS256']);
  });

  describe('client_credentials', () => {
    it('a DPoP proof → 200, token_type DPoP, access token bound to the key (cnf.jkt = its RFC 7638 thumbprint)', async () => {
      const answer = await clientCredentials(await proof(key, served.tokenUrl));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.token_type, 'DPoP');
      assert.deepEqual(cnfOf(answer), { jkt: key.jkt });
      assert.equal(answer.headers['dpop-nonce'], undefined, 'nonces are off');
    });

    it('no proof → 200, token_type Bearer, no cnf (DPoP is optional by default)', async () => {
      const answer = await clientCredentials();
      assert.equal(answer.status, 200);
      assert.equal(answer.body.token_type, 'Bearer');
      assert.equal(cnfOf(answer), undefined);
    });

    it('a replayed token-request proof → 400 invalid_dpop_proof; by another client too (replay is checked per key and jti)', async () => {
      const once = await proof(key, served.tokenUrl);
      assert.equal((await clientCredentials(once)).status, 200);
      const replayed = await clientCredentials(once);
      assert.equal(replayed.status, 400);
      assert.equal(replayed.body.error, 'invalid_dpop_proof');
      const elsewhere = await clientCredentials(once, ['other', 'other-secret']);
      assert.equal(elsewhere.body.error, 'invalid_dpop_proof');
    });

    it('a proof for another URL (path, origin, scheme) or method → 400 invalid_dpop_proof; query and fragment of htu are ignored', async () => {
      const url = new URL(served.tokenUrl);
      for (const htu of [`${url.origin}/other`, `http://localhost:${url.port}/token`, `https://127.0.0.1:${url.port}/token`, `${url.origin}/token/`]) {
        const answer = await clientCredentials(await proof(key, htu));
        assert.deepEqual([answer.status, answer.body.error], [400, 'invalid_dpop_proof'], htu);
      }
      const get = await clientCredentials(await proof(key, served.tokenUrl, { htm: 'GET' }));
      assert.deepEqual([get.status, get.body.error], [400, 'invalid_dpop_proof'], 'htm GET');
      const withQuery = await clientCredentials(await proof(key, `${served.tokenUrl}?x=1#frag`));
      assert.equal(withQuery.status, 200, JSON.stringify(withQuery.body));
    });

    it('status codes: a DPoP header that is no JWS, htu not a URL or not a string, a stale iat, typ JWT → 400 invalid_dpop_proof (oidc-provider: status codes at the token endpoint)', async () => {
      const bad = [
        'invalid',
        await proof(key, 'not a url'),
        await proof(key, [served.tokenUrl]),
        await proof(key, served.tokenUrl, { iat: Math.floor(Date.now() / 1000) - 3600 }),
        await proof(key, served.tokenUrl, {}, { typ: 'JWT' }),
        await proof(key, served.tokenUrl, { jti: undefined }),
      ];
      for (const [index, dpopHeader] of bad.entries()) {
        const answer = await clientCredentials(dpopHeader);
        assert.deepEqual([answer.status, answer.body.error], [400, 'invalid_dpop_proof'], `case ${index}`);
        assert.equal(answer.body.access_token, undefined);
      }
    });

    it('two DPoP headers → 400 invalid_dpop_proof (which key would the token be bound to?)', async () => {
      const answer = await clientCredentials([await proof(key, served.tokenUrl), await proof(otherKey, served.tokenUrl)]);
      assert.deepEqual([answer.status, answer.body.error], [400, 'invalid_dpop_proof']);
    });

    it("a client registered with dpop: 'required' → 400 invalid_dpop_proof without a proof, 200 DPoP with one", async () => {
      const without = await clientCredentials(undefined, ['strict', 'strict-secret']);
      assert.deepEqual([without.status, without.body.error], [400, 'invalid_dpop_proof']);
      const withProof = await clientCredentials(await proof(key, served.tokenUrl), ['strict', 'strict-secret']);
      assert.equal(withProof.status, 200);
      assert.equal(withProof.body.token_type, 'DPoP');
    });

    it('client authentication is checked first: a wrong secret with a valid proof → 401 invalid_client, and the proof is still unused', async () => {
      const unused = await proof(key, served.tokenUrl);
      const refused = await clientCredentials(unused, ['worker', 'wrong']);
      assert.deepEqual([refused.status, refused.body.error], [401, 'invalid_client']);
      assert.equal((await clientCredentials(unused)).status, 200);
    });
  });

  describe('nonces (token.dpop.nonce)', () => {
    let nonced: ServedIssuer;
    // Nonces change with the time step: a frozen clock (the endpoint's and the proofs' iat) keeps a
    // retry from ever straddling a step boundary.
    const frozen = Date.now();
    const at = { iat: Math.floor(frozen / 1000) };
    before(async () => {
      nonced = await (await createTestIssuer()).serve({ token: { clients: CLIENTS, dpop: { nonce: true }, clock: () => frozen } });
      servers.push(nonced);
    });

    it('required nonce: a proof without → 400 use_dpop_nonce with DPoP-Nonce; the retry with it → 200 and no new nonce (oidc-provider: required nonce @ token endpoint)', async () => {
      const first = await clientCredentials(await proof(key, nonced.tokenUrl, at), undefined, nonced.tokenUrl);
      assert.deepEqual([first.status, first.body.error], [400, 'use_dpop_nonce']);
      const nonce = first.headers['dpop-nonce'];
      assert.match(String(nonce), /^[\w-]+$/);
      const retry = await clientCredentials(await proof(key, nonced.tokenUrl, { ...at, nonce }), undefined, nonced.tokenUrl);
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      assert.equal(retry.body.token_type, 'DPoP');
      assert.deepEqual(cnfOf(retry), { jkt: key.jkt });
      assert.equal(retry.headers['dpop-nonce'], undefined, 'the nonce sent is the current one');
    });

    it('invalid nonce: a proof with nonce "foo" → 400 use_dpop_nonce with DPoP-Nonce; the retry with it → 200 (oidc-provider: invalid nonce @ token endpoint)', async () => {
      const first = await clientCredentials(await proof(key, nonced.tokenUrl, { ...at, nonce: 'foo' }), undefined, nonced.tokenUrl);
      assert.deepEqual([first.status, first.body.error], [400, 'use_dpop_nonce']);
      const nonce = String(first.headers['dpop-nonce']);
      assert.equal((await clientCredentials(await proof(key, nonced.tokenUrl, { ...at, nonce }), undefined, nonced.tokenUrl)).status, 200);
    });

    it('a request without a proof is not asked for a nonce: 200 Bearer', async () => {
      const answer = await clientCredentials(undefined, undefined, nonced.tokenUrl);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.token_type, 'Bearer');
    });
  });

  describe('refresh_token', () => {
    const refresh = (refreshToken: string, dpopHeader?: string, client?: [string, string]) =>
      post(
        served.tokenUrl,
        { grant_type: 'refresh_token', refresh_token: refreshToken, ...(client ? {} : { client_id: 'cli' }) },
        { ...(client ? { authorization: basic(...client) } : {}), ...(dpopHeader === undefined ? {} : { dpop: dpopHeader }) },
      );

    it('public client: a DPoP refresh binds the access token and the new refresh token to the key (oidc-provider: binds the access token to the jwk)', async () => {
      const first = await refresh(served.tokenEndpoint.issueRefreshToken({ clientId: 'cli' }), await proof(key, served.tokenUrl));
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.token_type, 'DPoP');
      assert.deepEqual(cnfOf(first), { jkt: key.jkt });
      const again = await refresh(String(first.body.refresh_token), await proof(key, served.tokenUrl));
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(cnfOf(again), { jkt: key.jkt });
    });

    it('public client: the bound refresh token with another key, or without a proof → 400 invalid_grant (oidc-provider: verifies the request made with the same cert jwk)', async () => {
      const first = await refresh(served.tokenEndpoint.issueRefreshToken({ clientId: 'cli' }), await proof(key, served.tokenUrl));
      const bound = String(first.body.refresh_token);
      const stolen = await refresh(bound, await proof(otherKey, served.tokenUrl));
      assert.deepEqual([stolen.status, stolen.body.error], [400, 'invalid_grant']);
      const bearer = await refresh(bound);
      assert.deepEqual([bearer.status, bearer.body.error], [400, 'invalid_grant']);
      assert.equal((await refresh(bound, await proof(key, served.tokenUrl))).status, 200, 'the refusals did not spend it');
    });

    it('rejects a replay before repeating the token binding check: the same other-key proof → invalid_grant, then invalid_dpop_proof', async () => {
      const first = await refresh(served.tokenEndpoint.issueRefreshToken({ clientId: 'cli' }), await proof(key, served.tokenUrl));
      const bound = String(first.body.refresh_token);
      const thief = await proof(otherKey, served.tokenUrl);
      assert.equal((await refresh(bound, thief)).body.error, 'invalid_grant');
      assert.equal((await refresh(bound, thief)).body.error, 'invalid_dpop_proof');
    });

    it('a spent bound refresh token replayed without its key → invalid_grant, and the family is not revoked (only a key holder can trigger reuse detection)', async () => {
      const issued = served.tokenEndpoint.issueRefreshToken({ clientId: 'cli', jkt: key.jkt });
      const current = String((await refresh(issued, await proof(key, served.tokenUrl))).body.refresh_token);
      assert.equal((await refresh(issued, await proof(otherKey, served.tokenUrl))).body.error, 'invalid_grant');
      const newest = await refresh(current, await proof(key, served.tokenUrl));
      assert.equal(newest.status, 200, 'the family was not revoked by the thief');
      assert.equal((await refresh(issued, await proof(key, served.tokenUrl))).body.error, 'invalid_grant', 'the key holder reusing it: reuse detected');
      assert.equal((await refresh(String(newest.body.refresh_token), await proof(key, served.tokenUrl))).body.error, 'invalid_grant', 'family revoked');
    });

    it('issueRefreshToken({ jkt }) binds from sign-in: refreshing needs that key; a jkt that is no thumbprint → AuthConfigError jkt', async () => {
      const bound = served.tokenEndpoint.issueRefreshToken({ clientId: 'cli', jkt: key.jkt });
      assert.equal((await refresh(bound)).body.error, 'invalid_grant');
      assert.equal((await refresh(bound, await proof(otherKey, served.tokenUrl))).body.error, 'invalid_grant');
      assert.equal((await refresh(bound, await proof(key, served.tokenUrl))).status, 200);
      assert.throws(() => served.tokenEndpoint.issueRefreshToken({ clientId: 'cli', jkt: 'ab'.repeat(32) }), { option: 'jkt' });
    });

    it('confidential client: the access token is bound, the refresh token is not (it is bound to the client authentication instead)', async () => {
      const client: [string, string] = ['worker', 'worker-secret'];
      const first = await refresh(served.tokenEndpoint.issueRefreshToken({ clientId: 'worker' }), await proof(key, served.tokenUrl), client);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(cnfOf(first), { jkt: key.jkt });
      const plain = await refresh(String(first.body.refresh_token), undefined, client);
      assert.equal(plain.status, 200, JSON.stringify(plain.body));
      assert.equal(plain.body.token_type, 'Bearer');
    });

    it('without rotation, a public client’s refresh token is bound by its first DPoP refresh', async () => {
      const fixed = await (await createTestIssuer()).serve({ token: { clients: CLIENTS, rotateRefreshTokens: false } });
      servers.push(fixed);
      const token = fixed.tokenEndpoint.issueRefreshToken({ clientId: 'cli' });
      const send = async (dpopHeader?: string) =>
        post(fixed.tokenUrl, { grant_type: 'refresh_token', refresh_token: token, client_id: 'cli' }, dpopHeader === undefined ? {} : { dpop: dpopHeader });
      assert.equal((await send(await proof(key, fixed.tokenUrl))).status, 200);
      assert.equal((await send()).body.error, 'invalid_grant');
      assert.equal((await send(await proof(otherKey, fixed.tokenUrl))).body.error, 'invalid_grant');
      assert.equal((await send(await proof(key, fixed.tokenUrl))).status, 200);
    });
  });

  describe('with the client library (grpc-jwt-auth/client)', () => {
    it('clientCredentials with a DpopKey gets a token bound to it, through the nonce challenge (one retry)', async () => {
      const frozen = Date.now();
      const nonced = await (await createTestIssuer()).serve({ token: { clients: CLIENTS, dpop: { nonce: true }, clock: () => frozen } });
      servers.push(nonced);
      const dpop = await createDpopKey({ clock: () => frozen });
      const source = clientCredentialsSource({ tokenUrl: nonced.tokenUrl, clientId: 'worker', clientSecret: 'worker-secret', dpop });
      assert.deepEqual(decodeJwt(await source.getToken()).cnf, { jkt: dpop.thumbprint });
      assert.equal(nonced.requestCount('/token'), 2, 'use_dpop_nonce, then the retry with the nonce');
    });

    it('refreshingToken of a public client with a DpopKey: access and refresh tokens bound to it', async () => {
      const dpop = await createDpopKey();
      const refreshToken = served.tokenEndpoint.issueRefreshToken({ clientId: 'cli', jkt: dpop.thumbprint });
      const source = refreshingToken({ tokenUrl: served.tokenUrl, clientId: 'cli', refreshToken, dpop });
      assert.deepEqual(decodeJwt(await source.getToken()).cnf, { jkt: dpop.thumbprint });
    });
  });

  describe('options', () => {
    it('token.dpop and token.clients.*.dpop are checked, naming the option', async () => {
      const issuer = await createTestIssuer();
      const cases: Array<[NonNullable<ServeOptions['token']>, string]> = [
        [{ dpop: { nonse: true } as never }, 'token.dpop.nonse'],
        [{ dpop: { nonce: 'yes' as never } }, 'token.dpop.nonce'],
        [{ dpop: true as never }, 'token.dpop'],
        [{ clients: { x: { secret: 's', dpop: 'optional' as never } } }, 'token.clients.x.dpop'],
      ];
      for (const [token, option] of cases) {
        await assert.rejects(issuer.serve({ token }), (error: unknown) => error instanceof AuthConfigError && error.option === option, option);
      }
    });
  });
});
