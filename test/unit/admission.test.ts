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
import { buildAuthenticator, type Admission, type SyncAuthenticator } from '../../src/verify/authenticator.ts';
import { checkSenderBinding, type SenderProof } from '../../src/verify/sender-binding.ts';
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

describe('admission: the sender-binding step (checkSenderBinding)', () => {
  const JKT = 'A'.repeat(43);
  const X5T = 'E'.repeat(43);
  let idp: TestIssuer;
  let authenticator: SyncAuthenticator;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    authenticator = buildAuthenticator({ keys: idp.keys, algorithms: ['HS256'] }, undefined, { dpop: true });
  });

  async function admission(claims: Record<string, unknown>, options: { dpopBinding?: 'required' } = {}): Promise<Admission> {
    const verifying = options.dpopBinding
      ? buildAuthenticator({ keys: idp.keys, algorithms: ['HS256'], ...options }, undefined, { dpop: true })
      : authenticator;
    return verifying.authenticate(await idp.sign({ sub: 'alice', ...claims }), '/a.B/C');
  }

  /** A SenderProof whose steps record the order they ran in. */
  function recording(scheme: 'bearer' | 'dpop', certificate?: string): { proof: SenderProof; steps: string[] } {
    const steps: string[] = [];
    return {
      steps,
      proof: {
        scheme,
        certificate: () => (steps.push('certificate'), certificate),
        dpop: async (jkt) => void steps.push(`dpop ${jkt}`),
      },
    };
  }

  async function code(run: () => unknown): Promise<string> {
    try {
      await run();
      return 'admitted';
    } catch (error) {
      return (error as { code: string }).code;
    }
  }

  it('a DPoP-bound token: the scheme is checked first, the certificate next, the proof (the only async step) last', async () => {
    const both = await admission({ cnf: { jkt: JKT, 'x5t#S256': X5T } });
    const bearer = recording('bearer', X5T);
    assert.equal(await code(() => checkSenderBinding(both, bearer.proof)), 'ERR_AUTH_DPOP_SCHEME_REQUIRED');
    assert.deepEqual(bearer.steps, []);
    const wrongCertificate = recording('dpop', 'I'.repeat(43));
    assert.equal(await code(() => checkSenderBinding(both, wrongCertificate.proof)), 'ERR_AUTH_CERTIFICATE_MISMATCH');
    assert.deepEqual(wrongCertificate.steps, ['certificate']);
    const good = recording('dpop', X5T);
    assert.equal(await code(() => checkSenderBinding(both, good.proof)), 'admitted');
    assert.deepEqual(good.steps, ['certificate', `dpop ${JKT}`]);
  });

  it('where no proof can be checked (dpop undefined), a DPoP-bound token is refused whatever the scheme', async () => {
    const bound = await admission({ cnf: { jkt: JKT } });
    assert.equal(
      await code(() => checkSenderBinding(bound, { scheme: 'dpop', certificate: () => undefined, dpop: undefined })),
      'ERR_AUTH_DPOP_SCHEME_REQUIRED',
    );
  });

  it("an unbound token: the DPoP scheme or dpopBinding 'required' → TOKEN_NOT_BOUND; as Bearer it is admitted synchronously, no proof run", async () => {
    const unbound = await admission({});
    assert.equal(await code(() => checkSenderBinding(unbound, recording('dpop').proof)), 'ERR_AUTH_TOKEN_NOT_BOUND');
    const bearer = recording('bearer');
    const admitted = checkSenderBinding(unbound, bearer.proof);
    assert.equal(admitted instanceof Promise, false);
    assert.deepEqual(bearer.steps, []);
    const required = await admission({}, { dpopBinding: 'required' });
    assert.equal(await code(() => checkSenderBinding(required, recording('bearer').proof)), 'ERR_AUTH_TOKEN_NOT_BOUND');
  });
});
