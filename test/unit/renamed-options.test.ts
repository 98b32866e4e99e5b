/**
 * Options renamed in 0.2 are refused like any unknown name, and the error says the new one: the
 * migration is in the message a user sees first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthConfigError, fromIssuer, fromJwks } from '../../src/index.ts';
import { clientCredentials } from '../../src/client/index.ts';

const refusedWith = (build: () => unknown, option: string, newName: string): void => {
  assert.throws(build, (error: unknown) => {
    assert.ok(error instanceof AuthConfigError);
    assert.equal(error.option, option);
    assert.ok(error.message.includes(`\`${newName}\``), error.message);
    return true;
  });
};

describe('renamed options', () => {
  it('the millisecond key options name their replacement in seconds', () => {
    for (const [old, renamed] of [
      ['timeoutMs', 'timeout'],
      ['cacheMaxAgeMs', 'cacheMaxAge'],
      ['minCacheMaxAgeMs', 'minCacheMaxAge'],
      ['maxCacheMaxAgeMs', 'maxCacheMaxAge'],
      ['cooldownMs', 'cooldown'],
      ['staleIfErrorMs', 'staleIfError'],
    ] as const) {
      refusedWith(() => fromJwks('https://idp.example/jwks.json', { [old]: 1000 } as never), old, renamed);
      refusedWith(() => fromIssuer('https://idp.example/', { [old]: 1000 } as never), old, renamed);
    }
  });

  it('allowHttp names allowInsecureHttp', () => {
    const options = { tokenUrl: 'https://idp.example/token', clientId: 'worker', clientSecret: 'secret', allowHttp: true };
    refusedWith(() => clientCredentials(options as never), 'allowHttp', 'allowInsecureHttp');
  });

  it('a plain misspelling gets no hint', () => {
    assert.throws(
      () => fromJwks('https://idp.example/jwks.json', { coldown: 1 } as never),
      (error: unknown) => error instanceof AuthConfigError && !error.message.includes(';'),
    );
  });
});
