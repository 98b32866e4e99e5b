/** Steps 1-4: calls that are accepted, and calls that are refused, and why. */
import { Metadata } from '@grpc/grpc-js';
import { describeRefusal, readStream, unary, type Refusal } from './client.ts';
import { CLIENT } from './provider.ts';
import type { StepReport } from './report.ts';
import type { DemoContext, Step } from './step.ts';

function showServerLog(context: DemoContext, report: StepReport): void {
  const rejection = context.server.lastRejection;
  if (rejection) report.show(`server log (onRejected): ${rejection.error.code}: ${rejection.error.message}`);
}

function expectRefusal(report: StepReport, refusal: Refusal | undefined, status: string, reason: string): void {
  report.expect(refusal?.status === status && refusal.reason === reason, `${status} with reason ${reason}`);
}

export const authenticatedUnary: Step = {
  title: 'An authenticated unary call',
  explanation: [
    "The client gets an access token from the provider's /token endpoint (client credentials grant)",
    'and sends it as "authorization: Bearer <token>". The server verifies it (signature, issuer, audience,',
    'expiry) and checks the policy before the handler runs; the handler reads the caller with getAuth(call).',
  ],
  async run(context, report) {
    const outcome = await context.calls.getOrder('A-1001');
    if (outcome.ok) {
      const { id, quantity, item, caller } = outcome.value;
      report.show(`GetOrder A-1001 → OK: ${quantity} × ${item} (order ${id})`);
      report.show(`the handler saw: subject "${caller.subject}", scopes [${caller.scopes.join(', ')}], token signed with key ${caller.keyId}`);
    } else report.show(`GetOrder A-1001 → ${describeRefusal(outcome.refusal)}`);
    report.expect(outcome.ok && outcome.value.caller.subject === CLIENT.id, `OK, handled for subject ${CLIENT.id}`);
  },
};

export const serverStreaming: Step = {
  title: 'A server-streaming call',
  explanation: ['The same checks run once, when the stream opens; the handler then streams the orders.'],
  async run(context, report) {
    const { messages, end } = await readStream(context.client.ListOrders({}, new Metadata()));
    for (const order of messages) report.show(`received ${order.id}: ${order.quantity} × ${order.item}`);
    report.show(`stream ended: ${end.ok ? 'OK' : describeRefusal(end.refusal)}`);
    report.expect(end.ok && messages.length === 3, 'three orders, then OK');
  },
};

export const missingScope: Step = {
  title: 'A call refused for a missing scope',
  explanation: [
    'CancelOrder needs scope orders:write, but the client was only granted orders:read. The token itself is',
    'valid, so the answer is PERMISSION_DENIED ("valid but not allowed"), not UNAUTHENTICATED. The handler',
    'never runs. The reason travels in a google.rpc.ErrorInfo trailer that decodeErrorInfo() reads.',
  ],
  async run(context, report) {
    const outcome = await context.calls.cancelOrder('A-1001');
    const refusal = outcome.ok ? undefined : outcome.refusal;
    if (!refusal) report.show('CancelOrder A-1001 → OK (it should have been refused)');
    else {
      report.show(`CancelOrder A-1001 → ${describeRefusal(refusal)}`);
      report.show(`required scopes (ErrorInfo metadata): ${refusal.requiredScopes ?? 'not given'}`);
      report.show(`www-authenticate: ${refusal.challenge ?? 'not sent'}`);
    }
    showServerLog(context, report);
    expectRefusal(report, refusal, 'PERMISSION_DENIED', 'INSUFFICIENT_SCOPE');
    report.expect(refusal?.requiredScopes === 'orders:write', 'required scope orders:write named');
  },
};

export const expiredToken: Step = {
  title: 'A call with an expired token',
  explanation: [
    "A client sends a token it kept from an hour ago (here signed by the provider's key, expired since).",
    'UNAUTHENTICATED with reason TOKEN_EXPIRED tells the client: get a new token and retry. The token',
    'interceptor does that by itself, once, for unary calls; this client sends its token by hand.',
  ],
  async run(context, report) {
    const { issuer } = context.provider;
    const stale = await issuer.expiredToken({ sub: CLIENT.id, scope: CLIENT.scope });
    const client = context.connect();
    try {
      const outcome = await unary(client.GetOrder.bind(client), { id: 'A-1001' }, issuer.metadata(stale));
      const refusal = outcome.ok ? undefined : outcome.refusal;
      report.show(`GetOrder A-1001 with the old token → ${refusal ? describeRefusal(refusal) : 'OK (it should have been refused)'}`);
      showServerLog(context, report);
      expectRefusal(report, refusal, 'UNAUTHENTICATED', 'TOKEN_EXPIRED');
    } finally {
      client.close();
    }
  },
};

export const CALL_STEPS: readonly Step[] = [authenticatedUnary, serverStreaming, missingScope, expiredToken];
