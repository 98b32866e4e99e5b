/**
 * The decision the interceptor makes for each call, without a server: which rule reads the token, in
 * which order authentication and authorization run, and that a repeated token on a synchronous rule is
 * decided without a promise (the interceptor's hot path).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { requireScopes, type Guard } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { buildAuthenticator, type SyncAuthenticator } from '../../src/verify/authenticator.ts';
import { admit, type MethodPolicy } from '../../src/server/admission.ts';
import type { Rule } from '../../src/authz/rules.ts';

const METHOD = '/acme.orders.v1.Orders/GetOrder';
const policy = (rule: Rule): MethodPolicy => ({ rule, info: { method: METHOD } });

function withToken(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** What admit() decided, settled: the subject admitted (null for none), or the refusal's code. */
async function decision(rule: Rule, metadata: Metadata, authenticator: SyncAuthenticator): Promise<string | null> {
  try {
    const admitted = await admit(policy(rule), authenticator, metadata);
    return admitted?.context.subject ?? null;
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('admission: the decision for one call', () => {
  let idp: TestIssuer;
  let authenticator: SyncAuthenticator;
  let token: string;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    authenticator = buildAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    token = await idp.sign({ sub: 'alice', scope: 'orders:read' });
  });

  it('a cached token on a synchronous rule or guard is admitted synchronously: no promise on the hot path', async () => {
    await admit(policy('authenticated'), authenticator, withToken(token)); // verifies once, fills the cache
    for (const rule of ['authenticated', 'optional', requireScopes('orders:read')] as const) {
      const admitted = admit(policy(rule), authenticator, withToken(token));
      assert.equal(admitted instanceof Promise, false, String(rule));
      assert.equal((admitted as { context: { subject?: string } }).context.subject, 'alice');
    }
    assert.throws(() => admit(policy(requireScopes('orders:write')), authenticator, withToken(token)), { code: 'ERR_AUTH_INSUFFICIENT_SCOPE' });
  });

  it('an asynchronous guard, or a token not seen before, answers with a promise', async () => {
    const later: Guard = async () => true;
    assert.equal(admit(policy(later), authenticator, withToken(token)) instanceof Promise, true);
    const fresh = await idp.sign({ sub: 'bob' });
    assert.equal(admit(policy('authenticated'), authenticator, withToken(fresh)) instanceof Promise, true);
  });

  it("'public' and 'deny' never read the token; 'optional' admits a call without one", async () => {
    const garbage = withToken('garbage');
    assert.equal(await decision('public', garbage, authenticator), null);
    assert.equal(await decision('deny', garbage, authenticator), 'ERR_AUTH_ACCESS_DENIED');
    assert.equal(await decision('optional', new Metadata(), authenticator), null);
    assert.equal(await decision('optional', garbage, authenticator), 'ERR_AUTH_TOKEN_MALFORMED');
  });

  it('authentication before authorization: a bad or missing token on a guarded method is never handed to the guard', async () => {
    let ran = false;
    const spy: Guard = () => {
      ran = true;
      return true;
    };
    assert.equal(await decision(spy, new Metadata(), authenticator), 'ERR_AUTH_TOKEN_MISSING');
    assert.equal(await decision(spy, withToken(`${token}x`), authenticator), 'ERR_AUTH_SIGNATURE_INVALID');
    assert.equal(ran, false);
    assert.equal(await decision(spy, withToken(token), authenticator), 'alice');
  });
});
