/** Step 8: a DPoP-bound token (RFC 9449) that is stolen is useless to the thief. */
import { Metadata } from '@grpc/grpc-js';
import { createDpopKey } from 'grpc-jwt-auth/client';
import { describeRefusal, unary, type Refusal } from './client.ts';
import { ORDERS_SERVICE } from './orders.ts';
import { DPOP_CLIENT } from './provider.ts';
import type { StepReport } from './report.ts';
import { DPOP_ORIGIN } from './server.ts';
import type { DemoContext, Step } from './step.ts';

/** A thief's call: by hand, no interceptor, with what he copied. */
async function thiefCalls(context: DemoContext, metadata: Metadata): Promise<Refusal | undefined> {
  const client = context.connect();
  try {
    const outcome = await unary(client.GetOrder.bind(client), { id: 'A-1001' }, metadata);
    return outcome.ok ? undefined : outcome.refusal;
  } finally {
    client.close();
  }
}

function copied(scheme: 'Bearer' | 'DPoP', token: string, proof?: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `${scheme} ${token}`);
  if (proof !== undefined) metadata.set('dpop', proof);
  return metadata;
}

function expectRefused(report: StepReport, what: string, refusal: Refusal | undefined, reason: string): void {
  report.show(`${what} → ${refusal ? describeRefusal(refusal) : 'OK (the thief got in)'}`);
  report.expect(refusal?.status === 'UNAUTHENTICATED' && refusal.reason === reason, `${what}: UNAUTHENTICATED with reason ${reason}`);
}

export const stolenDpopToken: Step = {
  title: 'A stolen DPoP-bound token is refused',
  explanation: [
    `"${DPOP_CLIENT.id}" holds a key pair (createDpopKey: its private key cannot be exported) and asks the provider`,
    "for a DPoP-bound token (RFC 9449): the token names the key's thumbprint (cnf.jkt). Every call then sends",
    '"authorization: DPoP <token>" and a fresh proof signed with the key, for this method (htu), used once (jti).',
    'A thief who copies the token, or a whole request, from a log or a proxy gets nothing: each try is refused.',
  ],
  async run(context, report) {
    const key = await createDpopKey();
    const owner = context.connectWithDpop(key);
    const outcome = await unary(owner.client.GetOrder.bind(owner.client), { id: 'A-1001' }, new Metadata());
    report.show(`the key holder: GetOrder A-1001 → ${outcome.ok ? 'OK' : describeRefusal(outcome.refusal)} (token bound to key ${key.thumbprint})`);
    report.expect(outcome.ok, 'the key holder is served');

    const token = await owner.token.getToken();
    expectRefused(report, 'a thief sends the copied token as Bearer', await thiefCalls(context, copied('Bearer', token)), 'DPOP_SCHEME_REQUIRED');

    const thiefKey = await createDpopKey();
    const ownProof = await thiefKey.proof({ htu: `${DPOP_ORIGIN}${ORDERS_SERVICE}/GetOrder`, accessToken: token });
    expectRefused(report, 'a thief signs a proof with his own key', await thiefCalls(context, copied('DPoP', token, ownProof)), 'DPOP_KEY_MISMATCH');

    // The key holder's last request exactly as it went on the wire: token and proof, already used once.
    const wire = owner.lastSent();
    expectRefused(report, 'a thief replays a request copied whole', await thiefCalls(context, wire ?? new Metadata()), 'DPOP_PROOF_REPLAYED');
    const rejection = context.server.lastRejection;
    if (rejection) report.show(`server log (onRejected): ${rejection.error.code}: ${rejection.error.message}`);
  },
};

export const BINDING_STEPS: readonly Step[] = [stolenDpopToken];
