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

  it('tokenEndpoint.injectFault: the old { kind: delay, ms }, an unknown kind and malformed fields → AuthConfigError naming them', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const served = await idp.serve();
    try {
      const inject = (fault: unknown, times?: unknown) => () => served.tokenEndpoint.injectFault(fault as never, times as never);
      const cases: ReadonlyArray<readonly [() => unknown, string]> = [
        // Milliseconds by the old name would be read as no delay at all: the test would pass for the wrong reason.
        [inject({ kind: 'delay', ms: 2000 }), 'fault.ms'],
        [inject({ kind: 'delay' }), 'fault.duration'],
        [inject({ kind: 'delay', duration: '2' }), 'fault.duration'],
        [inject({ kind: 'delay', duration: 2000 }), 'fault.duration'],
        [inject({ kind: 'stauts', status: 503 }), 'fault.kind'],
        [inject(null), 'fault'],
        [inject({ kind: 'status' }), 'fault.status'],
        [inject({ kind: 'status', status: '503' }), 'fault.status'],
        [inject({ kind: 'status', status: 99 }), 'fault.status'],
        [inject({ kind: 'status', status: 503, body: 42 }), 'fault.body'],
        [inject({ kind: 'status', status: 503, contentType: 7 }), 'fault.contentType'],
        [inject({ kind: 'hang', duration: 1 }), 'fault.duration'],
        [inject({ kind: 'token', expiresIn: '60' }), 'fault.expiresIn'],
        [inject({ kind: 'token', claims: 'admin' }), 'fault.claims'],
        [inject({ kind: 'token', signOptions: { expiresin: 5 } }), 'fault.signOptions.expiresin'],
        [inject({ kind: 'token', signOptions: { expiresIn: '1h' } }), 'fault.signOptions.expiresIn'],
        [inject({ kind: 'hang' }, 0), 'times'],
        [inject({ kind: 'hang' }, 1.5), 'times'],
        [inject({ kind: 'hang' }, '2'), 'times'],
      ];
      for (const [run, option] of cases) await refusesOption(run, option);
      // Nothing was queued by the refused calls: the endpoint answers at once (a GET: 405), not late, not never.
      const answer = await fetch(served.tokenUrl, { signal: AbortSignal.timeout(5000) });
      assert.equal(answer.status, 405);
    } finally {
      await served.close();
    }
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
