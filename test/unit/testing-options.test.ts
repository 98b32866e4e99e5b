/**
 * The testing helpers check the type of every option, not only its name: a test that passes
 * `issuer: 42` or a client `secret: 42` must fail at once, naming the option, rather than sign odd tokens
 * or register a client that cannot authenticate and fail later for the wrong reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthConfigError } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';

async function refusesOption(run: () => unknown, option: string): Promise<void> {
  await assert.rejects(
    async () => {
      const made = await run();
      // Accepted after all: stop what it started, so the failing test still ends.
      if (typeof made === 'object' && made !== null && 'close' in made && typeof made.close === 'function') await made.close();
    },
    (error) => error instanceof AuthConfigError && error.option === option,
    option,
  );
}

describe('testing helpers: option values of the wrong type are refused by name', () => {
  it('createTestIssuer: issuer 42, audience "", kid null, alg "none" → AuthConfigError naming the option', async () => {
    await refusesOption(() => createTestIssuer({ issuer: 42 } as never), 'issuer');
    await refusesOption(() => createTestIssuer({ audience: '' }), 'audience');
    await refusesOption(() => createTestIssuer({ kid: null } as never), 'kid');
    await refusesOption(() => createTestIssuer({ alg: 'none' } as never), 'alg');
  });

  it('sign: a header or claims that are not objects → AuthConfigError naming them', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await refusesOption(() => idp.sign({}, { header: 'at+jwt' } as never), 'header');
    await refusesOption(() => idp.sign('alice' as never), 'claims');
    await refusesOption(() => idp.signRaw('{}', { header: [] } as never), 'header');
  });

  it('serve: port "8080", jwksMaxAge 1.5 → AuthConfigError naming the option', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    await refusesOption(() => idp.serve({ port: '8080' } as never), 'port');
    await refusesOption(() => idp.serve({ jwksMaxAge: 1.5 }), 'jwksMaxAge');
  });

  it('serve({ token }): bad lifetimes, flags, clock and client fields → AuthConfigError naming the path', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const cases: ReadonlyArray<readonly [object, string]> = [
      [{ accessTokenLifetime: '60' }, 'token.accessTokenLifetime'],
      [{ refreshTokenLifetime: 0 }, 'token.refreshTokenLifetime'],
      [{ rotateRefreshTokens: 'no' }, 'token.rotateRefreshTokens'],
      [{ clock: 1_700_000_000_000 }, 'token.clock'],
      [{ clients: [] }, 'token.clients'],
      [{ clients: { worker: { secret: 42 } } }, 'token.clients.worker.secret'],
      [{ clients: { worker: { scope: ['a'] } } }, 'token.clients.worker.scope'],
      [{ clients: { worker: { authMethods: 'client_secret_basic' } } }, 'token.clients.worker.authMethods'],
      [{ clients: { worker: { authMethods: ['private_key_jwt'] } } }, 'token.clients.worker.authMethods'],
      [{ clients: { worker: { claims: 'admin' } } }, 'token.clients.worker.claims'],
    ];
    for (const [token, option] of cases) await refusesOption(() => idp.serve({ token } as never), option);
  });

  it('tokenEndpoint.issueRefreshToken: subject 7 → AuthConfigError naming subject', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const served = await idp.serve();
    try {
      await refusesOption(() => served.tokenEndpoint.issueRefreshToken({ subject: 7 } as never), 'subject');
    } finally {
      await served.close();
    }
  });
});
