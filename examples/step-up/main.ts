/**
 * Step-up authentication (RFC 9470): a transfer needs a multi-factor login no older than five minutes.
 * A token from a password login is refused with a challenge (UNAUTHENTICATED, `acr_values`, `max_age`);
 * the client reads it with stepUpChallenge, has the user log in again as asked, and the call passes.
 * Runs offline: a throw-away test issuer stands in for the identity provider.
 * Run: node --import tsx examples/step-up/main.ts
 */
import * as grpc from '@grpc/grpc-js';
import { allOf, createAuthInterceptor, requireAcr, requireAuthTime, requireScopes } from 'grpc-jwt-auth';
import { stepUpChallenge, type StepUpChallenge } from 'grpc-jwt-auth/client';
import { createTestIssuer } from 'grpc-jwt-auth/testing';

const TRANSFER = '/acme.bank.v1.Payments/Transfer';
const idp = await createTestIssuer({ alg: 'ES256', audience: 'payments-api' });

// The policy: a scope, and a fresh strong login (the acr values are your provider's names for them).
const auth = createAuthInterceptor({
  keys: idp.keys,
  algorithms: ['ES256'],
  issuer: idp.issuer,
  audience: 'payments-api',
  rules: { [TRANSFER]: allOf(requireScopes('payments:write'), requireAcr('urn:acme:loa:mfa'), requireAuthTime({ maxAge: 300 })) },
  defaultRule: 'deny',
});

// A hand-written service definition keeps the example to one file: JSON messages instead of protobuf.
const json = { serialize: (value: unknown) => Buffer.from(JSON.stringify(value)), deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) };
const payments: grpc.ServiceDefinition = {
  Transfer: {
    path: TRANSFER,
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
const server = new grpc.Server({ interceptors: [auth] });
server.addService(payments, {
  Transfer: (_call: grpc.ServerUnaryCall<{ amount: number }, { done: boolean }>, callback: grpc.sendUnaryData<{ done: boolean }>) =>
    callback(null, { done: true }),
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);
const Client = grpc.makeGenericClientConstructor(payments, 'Payments');
const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;

function transfer(token: string): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => client.Transfer({ amount: 5000 }, idp.metadata(token), (error: grpc.ServiceError | null) => resolve(error)));
}

const morning = Math.floor(Date.now() / 1000) - 4 * 3600;

/**
 * Stands in for the identity provider's login page, asked for what the challenge names. Like a real
 * one, it reuses the morning's session (and its auth_time) unless `max_age` asks for a fresh login.
 */
function logInAgain(challenge: StepUpChallenge): Promise<string> {
  console.log(`  → the user logs in again with acr_values=${challenge.acrValues?.join(' ') ?? '-'} max_age=${challenge.maxAge ?? '-'}`);
  const authTime = challenge.maxAge === undefined ? morning : Math.floor(Date.now() / 1000);
  return idp.sign({ sub: 'alice', scope: 'payments:write', acr: challenge.acrValues?.[0], auth_time: authTime });
}

try {
  // 1. Logged in this morning with a password only.
  const passwordToken = await idp.sign({ sub: 'alice', scope: 'payments:write', acr: 'urn:acme:loa:pwd', auth_time: morning });
  const refused = await transfer(passwordToken);
  console.log(`password login, 4 h ago: ${refused ? grpc.status[refused.code] : 'OK'}`);
  console.log(`  www-authenticate: ${String(refused?.metadata.get('www-authenticate')[0])}`);

  // 2. The client reads the challenge (null for any other error) and steps up.
  const challenge = stepUpChallenge(refused);
  if (!challenge) throw new Error('expected a step-up challenge');
  console.log(`  stepUpChallenge: ${JSON.stringify(challenge)}`);
  const strongToken = await logInAgain(challenge);

  // 3. The same call with the fresh multi-factor token.
  const passed = await transfer(strongToken);
  console.log(`multi-factor login, just now: ${passed ? grpc.status[passed.code] : 'OK'}`);
  if (passed) process.exitCode = 1;
} finally {
  client.close();
  server.forceShutdown();
  auth.close();
}
