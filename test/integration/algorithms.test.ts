import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { SUPPORTED_ALGORITHMS, createAuthInterceptor, fromJwks, fromPem, type Algorithm, type KeyResolver } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { allKinds, unary } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { jwkToSpkiPem } from '../support/pem.ts';

const { status } = grpc;

/** The resolvers each algorithm is verified through: the issuer's own, and for public keys PEM and JWKS. */
function resolversFor(idp: TestIssuer): Array<[string, KeyResolver]> {
  const resolvers: Array<[string, KeyResolver]> = [['test issuer keys', idp.keys]];
  const jwk = idp.jwks.keys[0];
  if (jwk) {
    resolvers.push(['fromPem', fromPem({ [idp.kid]: jwkToSpkiPem(jwk) })]);
    resolvers.push(['fromJwks (local)', fromJwks(idp.jwks)]);
  }
  return resolvers;
}

for (const alg of SUPPORTED_ALGORITHMS as readonly Algorithm[]) {
  describe(`${alg}: every call kind, every resolver`, () => {
    let idp: TestIssuer;
    const servers: Array<[string, EchoServer]> = [];

    before(async () => {
      idp = await createTestIssuer({ alg, audience: 'echo-api' });
      for (const [name, keys] of resolversFor(idp)) {
        const auth = createAuthInterceptor({ keys, algorithms: [alg], issuer: idp.issuer, audience: 'echo-api' });
        servers.push([name, await startEchoServer({ interceptors: [auth] })]);
      }
    });
    after(async () => {
      for (const [, server] of servers) await server.close();
    });

    it('valid token → OK on all four call kinds; expired, tampered and wrong audience → UNAUTHENTICATED', async () => {
      const token = await idp.sign({ sub: `user-${alg}` });
      const [expired, tampered, wrongAudience] = await Promise.all([idp.expiredToken(), idp.tamperedToken(), idp.wrongAudienceToken()]);
      for (const [name, echo] of servers) {
        const outcomes = await allKinds(echo.client, () => idp.metadata(token));
        for (const [kind, outcome] of Object.entries(outcomes)) assert.equal(outcome.code, status.OK, `${name} ${kind}`);
        assert.equal(outcomes.unary.replies[0]?.subject, `user-${alg}`);
        assert.equal((await unary(echo.client, idp.metadata(expired))).reason, 'TOKEN_EXPIRED', name);
        assert.equal((await unary(echo.client, idp.metadata(tampered))).reason, 'SIGNATURE_INVALID', name);
        assert.equal((await unary(echo.client, idp.metadata(wrongAudience))).reason, 'AUDIENCE_INVALID', name);
        assert.equal((await unary(echo.client, idp.metadata(idp.unsignedToken()))).reason, 'ALG_NOT_ALLOWED', name);
      }
    });
  });
}
