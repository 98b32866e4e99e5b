/**
 * Independent review of the test issuer's DPoP token endpoint (RFC 9449 §5, §8), over real HTTP on
 * loopback with proofs signed by jose in the test and the endpoint's own clock moved by the test.
 *
 * Ported (our own code) from panva/node-oidc-provider test/dpop/dpop.test.js at commit
 * b95c294475d7c858a3ea63276dbc8eed77c0bfd2, the "validates the DPoP proof JWT is conform" cases that
 * test/integration/test-issuer-dpop.test.ts had not ported, asked at the token endpoint instead of
 * userinfo: "invalid typ", "alg mismatch", "no private key in header", "no symmetric key in header",
 * "missing jti", "htm mismatch", "htu mismatch", "iat too far in the future" / "iat too old" (with
 * DPoP-Nonces disabled; enabled, a proof with a current nonce is judged by the nonce window); and
 * "authorization flow / refresh_token: binds the access token to the jwk" (a confidential client's
 * refresh token stays unbound).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { createTestIssuer, type ServedIssuer, type ServeOptions } from '../../src/testing/index.ts';

interface Answer {
  readonly status: number;
  readonly text: string;
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

/** A proof with `htm: POST`, `htu`, a fresh jti and `iat` (seconds); `claims` / `header` override or add members (undefined removes). */
async function proof(key: DpopKeyPair, htu: string, iat: number, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const payload: Record<string, unknown> = { htm: 'POST', htu, jti: randomUUID(), iat, ...claims };
  for (const name of Object.keys(payload)) if (payload[name] === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk, ...header } as never).sign(key.keys.privateKey);
}

/** POSTs a form with node:http; the answer, its raw text kept (to show what it does not contain). */
function post(url: string, form: Record<string, string>, headers: Record<string, string | string[]> = {}): Promise<Answer> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, text, body: JSON.parse(text) as Record<string, unknown>, headers: response.headers });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('token request timed out')));
    request.end(body);
  });
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const CLIENTS: NonNullable<ServeOptions['token']>['clients'] = { worker: { secret: 'worker-secret' }, cli: {} };
const cnfOf = (answer: Answer) => decodeJwt(String(answer.body.access_token)).cnf;
/** A whole second, so a proof's iat and the endpoint's clock line up exactly. */
const T0 = Math.floor(Date.now() / 60_000) * 60_000;

describe('test issuer token endpoint with DPoP: review', { timeout: 60_000 }, () => {
  let now = T0;
  let served: ServedIssuer;
  let nonced: ServedIssuer;
  let key: DpopKeyPair;
  before(async () => {
    served = await (await createTestIssuer()).serve({ token: { clients: CLIENTS, clock: () => now } });
    nonced = await (await createTestIssuer()).serve({ token: { clients: CLIENTS, clock: () => now, dpop: { nonce: true } } });
    key = await dpopKey();
  });
  after(async () => {
    await Promise.all([served.close(), nonced.close()]);
  });

  const clientCredentials = (dpop: string | undefined, url = served.tokenUrl) =>
    post(url, { grant_type: 'client_credentials' }, { authorization: basic('worker', 'worker-secret'), ...(dpop === undefined ? {} : { dpop }) });

  describe('proof freshness and replay at the edges of the endpoint clock', () => {
    it('a proof replayed at the last instant its iat is still fresh (iat + proofMaxAge + clockTolerance) → 400 invalid_dpop_proof', async () => {
      now = T0;
      const once = await proof(key, served.tokenUrl, T0 / 1000);
      assert.equal((await clientCredentials(once)).status, 200);
      now = T0 + 70_000; // proofMaxAge 60 + clockTolerance 10: the iat is still accepted
      const again = await clientCredentials(once);
      assert.deepEqual([again.status, again.body.error], [400, 'invalid_dpop_proof']);
      now = T0 + 70_001; // past the window: refused as stale
      const later = await clientCredentials(once);
      assert.deepEqual([later.status, later.body.error], [400, 'invalid_dpop_proof']);
      now = T0;
    });

    it('iat exactly clockTolerance ahead → 200; one second more → 400 invalid_dpop_proof (oidc-provider: iat too far in the future, nonces disabled)', async () => {
      now = T0;
      assert.equal((await clientCredentials(await proof(key, served.tokenUrl, T0 / 1000 + 10))).status, 200);
      const ahead = await clientCredentials(await proof(key, served.tokenUrl, T0 / 1000 + 11));
      assert.deepEqual([ahead.status, ahead.body.error], [400, 'invalid_dpop_proof']);
    });

    it('iat exactly proofMaxAge + clockTolerance old → 200; one second more → 400 invalid_dpop_proof (oidc-provider: iat too old, nonces disabled)', async () => {
      now = T0;
      assert.equal((await clientCredentials(await proof(key, served.tokenUrl, T0 / 1000 - 70))).status, 200);
      const old = await clientCredentials(await proof(key, served.tokenUrl, T0 / 1000 - 71));
      assert.deepEqual([old.status, old.body.error], [400, 'invalid_dpop_proof']);
    });

    it('nonces: a nonce handed out stays good across the next minute step (success answers carry the new one), and is refused with use_dpop_nonce once its window is over', async () => {
      now = T0;
      const challenge = await clientCredentials(await proof(key, nonced.tokenUrl, T0 / 1000), nonced.tokenUrl);
      assert.equal(challenge.body.error, 'use_dpop_nonce');
      const nonce = String(challenge.headers['dpop-nonce']);
      now = T0 + 60_000;
      const nextStep = await clientCredentials(await proof(key, nonced.tokenUrl, now / 1000, { nonce }), nonced.tokenUrl);
      assert.equal(nextStep.status, 200, nextStep.text);
      assert.match(String(nextStep.headers['dpop-nonce']), /^[\w-]{43}$/);
      assert.notEqual(nextStep.headers['dpop-nonce'], nonce);
      now = T0 + 10 * 60_000;
      const expired = await clientCredentials(await proof(key, nonced.tokenUrl, now / 1000, { nonce }), nonced.tokenUrl);
      assert.deepEqual([expired.status, expired.body.error], [400, 'use_dpop_nonce']);
      assert.notEqual(expired.headers['dpop-nonce'], nonce);
      now = T0;
    });

    it('nonces: a proof with a current nonce but an iat far from now → 400 invalid_dpop_proof, not a new nonce (oidc-provider: iat too old/far in the future, nonces enabled)', async () => {
      now = T0;
      const challenge = await clientCredentials(await proof(key, nonced.tokenUrl, T0 / 1000), nonced.tokenUrl);
      const nonce = String(challenge.headers['dpop-nonce']);
      for (const offset of [-400, 400]) {
        const answer = await clientCredentials(await proof(key, nonced.tokenUrl, T0 / 1000 + offset, { nonce }), nonced.tokenUrl);
        assert.deepEqual([answer.status, answer.body.error], [400, 'invalid_dpop_proof'], String(offset));
      }
    });
  });

  describe('proofs that are not conform (oidc-provider: validates the DPoP proof JWT is conform)', () => {
    const bad: Array<[string, (url: string) => Promise<string>]> = [
      ['invalid typ (JWT)', (url) => proof(key, url, now / 1000, {}, { typ: 'JWT' })],
      [
        'alg mismatch (ES384 over a P-256 key)',
        async (url) => {
          const p384 = await generateKeyPair('ES384');
          const jwk = await exportJWK(p384.publicKey);
          return new SignJWT({ htm: 'POST', htu: url, jti: randomUUID(), iat: now / 1000 })
            .setProtectedHeader({ alg: 'ES384', typ: 'dpop+jwt', jwk })
            .sign(p384.privateKey);
        },
      ],
      [
        'a private key in the header',
        async (url) => {
          const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
          const jwk = privateKey.export({ format: 'jwk' });
          return new SignJWT({ htm: 'POST', htu: url, jti: randomUUID(), iat: now / 1000 })
            .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: jwk as JWK })
            .sign(privateKey);
        },
      ],
      [
        'a symmetric key in the header (HS256)',
        (url) =>
          new SignJWT({ htm: 'POST', htu: url, jti: randomUUID(), iat: now / 1000 })
            .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: Buffer.alloc(32, 7).toString('base64url') } } as never)
            .sign(new Uint8Array(32).fill(7)),
      ],
      ['missing jti', (url) => proof(key, url, now / 1000, { jti: undefined })],
      ['missing htm', (url) => proof(key, url, now / 1000, { htm: undefined })],
      ['htm mismatch (GET)', (url) => proof(key, url, now / 1000, { htm: 'GET' })],
      ['htm in lower case (post)', (url) => proof(key, url, now / 1000, { htm: 'post' })],
      ['missing htu', (url) => proof(key, url, now / 1000, { htu: undefined })],
      ['htu mismatch (the JWKS URL)', (url) => proof(key, url.replace(/\/token$/, '/jwks.json'), now / 1000)],
      ['htu with a trailing slash', (url) => proof(key, `${url}/`, now / 1000)],
      ['missing iat', (url) => proof(key, url, now / 1000, { iat: undefined })],
      ['iat as a string', (url) => proof(key, url, now / 1000, { iat: String(now / 1000) })],
    ];
    for (const [name, make] of bad) {
      it(`${name} → 400 invalid_dpop_proof`, async () => {
        now = T0;
        const answer = await clientCredentials(await make(served.tokenUrl));
        assert.deepEqual([answer.status, answer.body.error], [400, 'invalid_dpop_proof'], answer.text);
        assert.equal(answer.headers['dpop-nonce'], undefined);
      });
    }
  });

  it('refusals never echo the proof: no jti, htu, nonce, key member or proof text in the answer', async () => {
    now = T0;
    const marker = 'MARKER-7f3a';
    const proofs = [
      await proof(key, `${served.tokenUrl}/${marker}`, T0 / 1000, { jti: `${marker}-jti` }),
      await proof(key, served.tokenUrl, T0 / 1000 - 999, { jti: `${marker}-jti` }),
      await proof(key, served.tokenUrl, T0 / 1000, { jti: `${marker}-jti`, htm: marker }),
      await proof(key, served.tokenUrl, T0 / 1000, {}, { typ: marker }),
      `${marker}.${marker}.${marker}`,
    ];
    for (const sent of proofs) {
      const answer = await clientCredentials(sent);
      assert.equal(answer.status, 400, answer.text);
      assert.ok(!answer.text.includes(marker), answer.text);
      assert.ok(!answer.text.includes(key.jwk.x as string), answer.text);
    }
    const nonced400 = await clientCredentials(await proof(key, nonced.tokenUrl, T0 / 1000, { nonce: marker, jti: `${marker}-jti` }), nonced.tokenUrl);
    assert.equal(nonced400.body.error, 'use_dpop_nonce');
    assert.ok(!nonced400.text.includes(marker), nonced400.text);
  });

  it('an empty DPoP header → 400 invalid_dpop_proof, not a Bearer token', async () => {
    const answer = await clientCredentials('');
    assert.deepEqual([answer.status, answer.body.error], [400, 'invalid_dpop_proof']);
  });

  it('malformed Basic credentials (a bad percent-encoding) → 401 invalid_client, not 500', async () => {
    const header = `Basic ${Buffer.from('worker%zz:worker-secret').toString('base64')}`;
    const answer = await post(served.tokenUrl, { grant_type: 'client_credentials' }, { authorization: header });
    assert.deepEqual([answer.status, answer.body.error], [401, 'invalid_client'], answer.text);
  });

  describe('sign with bindTo', () => {
    it('a __proto__ claim is signed as a claim (hostile-claim tests need it), and never feeds cnf: bindTo.jkt gives cnf { jkt } only', async () => {
      const idp = await createTestIssuer();
      const claims = JSON.parse(`{"__proto__":{"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}},"sub":"a"}`) as Record<string, unknown>;
      const payload = decodeJwt(await idp.sign(claims, { bindTo: { jkt: key.jkt } }));
      assert.deepEqual(payload.cnf, { jkt: key.jkt });
      assert.ok(Object.hasOwn(payload, '__proto__'));
      assert.deepEqual((payload as Record<string, unknown>)['__proto__'], { cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } });
    });
  });

  describe('refresh_token binding', () => {
    it('confidential client: a DPoP refresh binds the access token, the rotated refresh token stays unbound (oidc-provider: authorization flow refresh_token binds the access token to the jwk)', async () => {
      now = T0;
      const refreshToken = served.tokenEndpoint.issueRefreshToken({ clientId: 'worker' });
      const answer = await post(
        served.tokenUrl,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        { authorization: basic('worker', 'worker-secret'), dpop: await proof(key, served.tokenUrl, T0 / 1000) },
      );
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.token_type, 'DPoP');
      assert.deepEqual(cnfOf(answer), { jkt: key.jkt });
      const other = await dpopKey();
      const next = await post(
        served.tokenUrl,
        { grant_type: 'refresh_token', refresh_token: String(answer.body.refresh_token) },
        { authorization: basic('worker', 'worker-secret'), dpop: await proof(other, served.tokenUrl, T0 / 1000) },
      );
      assert.equal(next.status, 200, next.text);
      assert.deepEqual(cnfOf(next), { jkt: other.jkt });
      const bearer = await post(
        served.tokenUrl,
        { grant_type: 'refresh_token', refresh_token: String(next.body.refresh_token) },
        { authorization: basic('worker', 'worker-secret') },
      );
      assert.equal(bearer.status, 200, bearer.text);
      assert.equal(bearer.body.token_type, 'Bearer');
      assert.equal(cnfOf(bearer), undefined);
    });

    it('public client: a thief holding the rotated-away bound refresh token and a proof of its own key → invalid_grant, the owner keeps refreshing', async () => {
      now = T0;
      const start = served.tokenEndpoint.issueRefreshToken({ clientId: 'cli', jkt: key.jkt });
      const first = await post(
        served.tokenUrl,
        { grant_type: 'refresh_token', refresh_token: start, client_id: 'cli' },
        { dpop: await proof(key, served.tokenUrl, T0 / 1000) },
      );
      assert.equal(first.status, 200, first.text);
      const thief = await dpopKey();
      for (const stolen of [start, String(first.body.refresh_token)]) {
        const answer = await post(
          served.tokenUrl,
          { grant_type: 'refresh_token', refresh_token: stolen, client_id: 'cli' },
          { dpop: await proof(thief, served.tokenUrl, T0 / 1000) },
        );
        assert.deepEqual([answer.status, answer.body.error], [400, 'invalid_grant']);
      }
      const owner = await post(
        served.tokenUrl,
        { grant_type: 'refresh_token', refresh_token: String(first.body.refresh_token), client_id: 'cli' },
        { dpop: await proof(key, served.tokenUrl, T0 / 1000) },
      );
      assert.equal(owner.status, 200, owner.text);
      assert.deepEqual(cnfOf(owner), { jkt: key.jkt });
    });
  });
});
