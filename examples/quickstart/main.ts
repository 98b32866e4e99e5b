/**
 * Quick start: a greeter server that requires a JWT signed with a shared secret, and a client that calls
 * it once with a valid token and once without. Run: node --import tsx examples/quickstart/main.ts
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { SignJWT } from 'jose';
import { createAuthInterceptor, fromSecret, getAuth } from 'grpc-jwt-auth';

const SECRET = 'a-demo-secret-of-at-least-32-bytes!!'; // in production: from your secret store
const protoPath = fileURLToPath(new URL('./greeter.proto', import.meta.url));
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as any;

// --- server ------------------------------------------------------------------------------------------
const auth = createAuthInterceptor({
  keys: fromSecret(SECRET),
  algorithms: ['HS256'], // required: never taken from the token
  issuer: 'https://auth.example',
  audience: 'greeter',
});
const server = new grpc.Server({ interceptors: [auth] });
server.addService(proto.helloworld.Greeter.service, {
  SayHello(call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<{ message: string }>) {
    const { subject } = getAuth(call); // verified claims, never from client-controlled headers
    callback(null, { message: `Hello ${call.request.name}, you are ${subject}` });
  },
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);

// --- client ------------------------------------------------------------------------------------------
const client = new proto.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const token = await new SignJWT({ sub: 'alice' })
  .setProtectedHeader({ alg: 'HS256' })
  .setIssuer('https://auth.example')
  .setAudience('greeter')
  .setExpirationTime('5m')
  .sign(new TextEncoder().encode(SECRET));

function sayHello(metadata: grpc.Metadata): Promise<string> {
  return new Promise((resolve) => {
    client.SayHello({ name: 'world' }, metadata, (error: grpc.ServiceError | null, reply: { message: string }) => {
      resolve(error ? `refused: ${grpc.status[error.code]} (${error.details})` : `accepted: ${reply.message}`);
    });
  });
}

const withToken = new grpc.Metadata();
withToken.set('authorization', `Bearer ${token}`);
const accepted = await sayHello(withToken);
const rejected = await sayHello(new grpc.Metadata());
console.log(`with a token:    ${accepted}`);
console.log(`without a token: ${rejected}`);

client.close();
server.forceShutdown();
if (!accepted.startsWith('accepted') || !rejected.startsWith('refused: UNAUTHENTICATED')) process.exit(1);
