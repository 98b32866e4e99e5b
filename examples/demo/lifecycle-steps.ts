/** Steps 5-7: tokens and keys that change while calls go on. */
import { Metadata } from '@grpc/grpc-js';
import { callRepeatedly, TokenLog } from './call-loop.ts';
import { describeRefusal, readStream } from './client.ts';
import { REFRESH_BEFORE_SECONDS, TOKEN_LIFETIME_SECONDS } from './provider.ts';
import { secondsUntil } from './report.ts';
import type { Step } from './step.ts';

const CALL_EVERY_MS = 200;

export const refreshBeforeExpiry: Step = {
  title: 'Token refresh before expiry, with no failed call',
  explanation: [
    `Access tokens live ${TOKEN_LIFETIME_SECONDS} s here (minutes to an hour in production). The client calls GetOrder every`,
    `${CALL_EVERY_MS} ms. ${REFRESH_BEFORE_SECONDS} s before its token expires, the token source (clientCredentials) fetches the next`,
    'one in the background while calls go on with the still-valid token; nobody waits, nothing is refused.',
  ],
  async run(context, report) {
    const tokens = new TokenLog(report);
    const fetchedBefore = context.provider.served.requestCount('/token');
    const started = Date.now();
    const result = await callRepeatedly(context.calls, {
      everyMs: CALL_EVERY_MS,
      until: () => Date.now() - started >= 4500,
      maxMs: 6000,
      onReply: (caller, call) => tokens.observe(caller, call),
    });
    const fetched = context.provider.served.requestCount('/token') - fetchedBefore;
    report.show(`→ ${result.calls} calls, ${result.refusals.length} refused; ${tokens.count} tokens used, ${fetched} fetched from /token`);
    for (const refusal of result.refusals) report.show(`  refused: ${describeRefusal(refusal)}`);
    report.expect(result.refusals.length === 0, 'no call refused');
    report.expect(tokens.count >= 2, 'at least one refresh (two tokens or more)');
  },
};

export const liveKeyRotation: Step = {
  title: 'Live key rotation at the provider, with no failed call',
  explanation: [
    'Providers change signing keys by publishing the next key first and signing with it later, so every',
    'server already holds it when the first token names it. (A server that meets an unknown key id refetches',
    'at most once per 30 s cooldown, to stop forged key ids from hammering the provider.) The server here',
    "refreshes its copy of the key set every ~1.6 s, as the provider's Cache-Control: max-age=2 allows.",
  ],
  async run(context, report) {
    const { issuer } = context.provider;
    const tokens = new TokenLog(report);
    const firstKey = issuer.kid;
    // Assigned once the key is published; the call loop below reads it before and after.
    // eslint-disable-next-line prefer-const
    let nextKey: string | undefined;
    let callsWithNextKey = 0;
    const loop = callRepeatedly(context.calls, {
      everyMs: CALL_EVERY_MS,
      until: () => callsWithNextKey >= 3,
      maxMs: 15_000,
      onReply: (caller, call) => {
        tokens.observe(caller, call);
        if (caller.keyId === nextKey) callsWithNextKey += 1;
      },
    });
    nextKey = await issuer.publishNextKey();
    report.at(`provider publishes key ${nextKey} next to ${firstKey}, still signing with ${firstKey}`);
    await context.server.keyArrives(nextKey);
    report.at(`server's regular key-set refresh picked up ${nextKey} (its onEvent hook saw 'rotated')`);
    await issuer.rotate();
    report.at(`provider signs new tokens with ${nextKey}; ${firstKey} stays published for the tokens still in use`);
    const result = await loop;
    report.show(`→ ${result.calls} calls, ${result.refusals.length} refused; fetches for an unknown key id: ${context.server.unknownKidFetches}`);
    for (const refusal of result.refusals) report.show(`  refused: ${describeRefusal(refusal)}`);
    report.expect(result.refusals.length === 0, 'no call refused');
    report.expect(tokens.sawKey(firstKey) && tokens.sawKey(nextKey), `calls authorized with tokens of both ${firstKey} and ${nextKey}`);
    report.expect(context.server.unknownKidFetches === 0, 'no refetch for an unknown key id');
  },
};

export const streamEndsAtExpiry: Step = {
  title: 'A stream ended when its token expires',
  explanation: [
    'A token is checked when a call starts, but a stream can outlive it. The server ends such a stream when',
    "its token expires, with UNAUTHENTICATED and reason TOKEN_EXPIRED (option streamExpiry, default 'end').",
    'Streams are never replayed by the client library: the program reopens it, and gets a fresh token.',
  ],
  async run(context, report) {
    // A client of its own, so the stream starts with a token fetched just now.
    const client = context.connect(context.newTokenSource());
    try {
      let firstToken = '';
      const watched = await readStream(client.WatchOrders({}, new Metadata()), {
        onMessage: (event) => {
          if (event.sequence === 1) {
            firstToken = event.caller.tokenId;
            report.at(`WatchOrders is streaming; the token it was opened with expires in ${secondsUntil(event.caller.tokenExpiresAtMs)}`);
          }
          report.at(`event ${event.sequence}: order ${event.orderId} ${event.status}`);
        },
      });
      const refusal = watched.end.ok ? undefined : watched.end.refusal;
      report.at(`stream ended: ${refusal ? describeRefusal(refusal) : 'OK (the server should have ended it)'}`);
      const rejection = context.server.lastRejection;
      if (rejection) report.show(`server log (onRejected): ${rejection.error.code}: ${rejection.error.message}`);
      report.expect(refusal?.status === 'UNAUTHENTICATED' && refusal.reason === 'TOKEN_EXPIRED', 'UNAUTHENTICATED with reason TOKEN_EXPIRED');
      report.expect(watched.messages.length > 0, 'events before the token expired');

      const reopened = await readStream(client.WatchOrders({}, new Metadata()), { limit: 1 });
      const [first] = reopened.messages;
      const fresh = first !== undefined && first.caller.tokenId !== firstToken;
      report.at(
        `reopened: ${first ? `event ${first.sequence} received with ${fresh ? 'a fresh token' : 'the same token'}` : 'no event'}; the client then cancels`,
      );
      report.expect(fresh, 'the reopened stream runs with a fresh token');
    } finally {
      client.close();
    }
  },
};

export const LIFECYCLE_STEPS: readonly Step[] = [refreshBeforeExpiry, liveKeyRotation, streamEndsAtExpiry];
