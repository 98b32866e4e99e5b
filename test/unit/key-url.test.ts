import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discoveredKeyUrlProblem } from '../../src/keys/key-url.ts';

describe('a jwks_uri from a discovery document', () => {
  const problem = (jwksUri: string, issuer: string, allowInsecureHttp = false) => discoveredKeyUrlProblem(new URL(jwksUri), new URL(issuer), allowInsecureHttp);

  it('https is taken from any issuer', () => {
    assert.equal(problem('https://keys.example/jwks.json', 'https://idp.example'), undefined);
    assert.equal(problem('https://keys.example/jwks.json', 'http://127.0.0.1:8080'), undefined);
  });

  it('plain http to loopback: only from an issuer that is itself plain http on loopback', () => {
    assert.equal(problem('http://127.0.0.1:9000/jwks.json', 'http://127.0.0.1:8080'), undefined);
    assert.equal(problem('http://localhost:9000/jwks.json', 'http://[::1]:8080'), undefined);
    assert.match(problem('http://127.0.0.1:9000/jwks.json', 'https://idp.example') ?? '', /downgrade/);
    assert.match(problem('http://[::1]:9000/jwks.json', 'https://127.0.0.1:8443') ?? '', /downgrade/, 'an https issuer on loopback is no exception');
  });

  it('plain http elsewhere: never, whatever the issuer; allowInsecureHttp takes any http', () => {
    assert.match(problem('http://keys.example/jwks.json', 'http://127.0.0.1:8080') ?? '', /only allowed for loopback/);
    assert.equal(problem('http://127.0.0.1:9000/jwks.json', 'https://idp.example', true), undefined);
    assert.equal(problem('http://keys.example/jwks.json', 'https://idp.example', true), undefined);
    assert.match(problem('ftp://keys.example/jwks.json', 'https://idp.example', true) ?? '', /not supported/);
  });
});
