/**
 * Every public function that takes an options object refuses names it does not know, naming them: a
 * misspelt `strictRules` would leave the rules check lax, a misspelt `expiresIn` or `keepPrevious` would
 * let a test pass for the wrong reason. Values given with the wrong type are refused the same way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthConfigError, createAuthInterceptor, createAuthenticator, fromSecret } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { EchoService } from '../support/echo-server.ts';

/** Asserts that `run` throws (or rejects with) an AuthConfigError naming `option`. */
async function refusesOption(run: () => unknown, option: string): Promise<void> {
  await assert.rejects(
    async () => run(),
    (error) => error instanceof AuthConfigError && error.option === option,
    option,
  );
}

describe('unknown option names are refused by name', () => {
  it('createAuthInterceptor: { strictRule: true } → AuthConfigError naming strictRule (the strict check would silently not run)', async () => {
    const base = {
      keys: fromSecret('x'.repeat(32)),
      algorithms: ['HS256' as const],
      rules: { '/test.echo.v1.Echo/Unary': 'public' as const },
      services: EchoService,
    };
    await refusesOption(() => createAuthInterceptor({ ...base, strictRule: true } as never), 'strictRule');
    await refusesOption(() => createAuthInterceptor(null as never), 'options');
    // The spelling it means still works, and finds the methods no rule covers.
    await refusesOption(() => createAuthInterceptor({ ...base, strictRules: true }), 'strictRules');
  });

  it('TestIssuer.serve: unknown names at the top, in token and in a client → AuthConfigError naming the path', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await refusesOption(() => idp.serve({ jwksMaxAg: 1 } as never), 'jwksMaxAg');
    await refusesOption(() => idp.serve({ token: { accessTokenLifetim: 1 } } as never), 'token.accessTokenLifetim');
    await refusesOption(() => idp.serve({ token: { clients: { worker: { secrt: 'x' } } } } as never), 'token.clients.worker.secrt');
    await refusesOption(() => idp.serve(null as never), 'options');
  });

  it('TestIssuer.sign and signRaw: a misspelt option (expiresin, headers) or a non-numeric time → AuthConfigError naming it', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await refusesOption(() => idp.sign({}, { expiresin: 1 } as never), 'expiresin');
    await refusesOption(() => idp.signRaw('{}', { headers: { typ: 'x' } } as never), 'headers');
    await refusesOption(() => idp.sign({}, { expiresIn: '1h' } as never), 'expiresIn');
    await refusesOption(() => idp.sign({}, { issuedAt: Number.NaN }), 'issuedAt');
    await refusesOption(() => idp.sign({}, { notBefore: null } as never), 'notBefore');
    await refusesOption(() => idp.sign({}, null as never), 'options');
  });

  it('TestIssuer.rotate: { keepPrevous: false } → AuthConfigError naming it (the previous key would silently stay published)', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await refusesOption(() => idp.rotate({ keepPrevous: false } as never), 'keepPrevous');
    await refusesOption(() => idp.rotate({ keepPrevious: 'no' } as never), 'keepPrevious');
  });

  it('tokenEndpoint.issueRefreshToken: { subjet } → AuthConfigError naming it', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const served = await idp.serve();
    try {
      await refusesOption(() => served.tokenEndpoint.issueRefreshToken({ subjet: 'alice' } as never), 'subjet');
    } finally {
      await served.close();
    }
  });

  it('createAuthenticator: cache given as an array ([]) → AuthConfigError naming cache, not the defaults in silence', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await refusesOption(() => createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], cache: [] as never }), 'cache');
  });
});
