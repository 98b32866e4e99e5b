/**
 * Mutual TLS and JWT together. The server accepts only clients with a certificate from its CA (which
 * machine is calling), then the auth interceptor verifies each call's token (which principal, with which
 * scopes). The handler sees both: `call.getAuthContext()` for the certificate, `getAuth(call)` for the
 * token. The tokens here are also bound to the client's certificate (RFC 8705 `cnf.x5t#S256`), so a token
 * copied to a machine with another certificate is refused.
 * Run: node --import tsx examples/mtls/main.ts
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createAuthInterceptor, getAuth, requireScopes } from 'grpc-jwt-auth';
import { createTestIssuer } from 'grpc-jwt-auth/testing';
import { makeCertificates } from '../support/certificates.ts';

const protoPath = fileURLToPath(new URL('./whoami.proto', import.meta.url));
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as any;

// --- certificates: a CA, the server's certificate and two clients' (openssl, deleted once read) -------
const { ca, server: serverCert, clients } = makeCertificates(['orders-app', 'reports-app']);
const ordersApp = clients['orders-app']!;
const reportsApp = clients['reports-app']!;

// --- identity provider ---------------------------------------------------------------------------
const idp = await createTestIssuer({ alg: 'ES256', audience: 'identity-api' });

// --- server: client certificates required (the last argument), and the auth interceptor -----------
const auth = createAuthInterceptor({
  keys: idp.keys,
  algorithms: ['ES256'],
  issuer: idp.issuer,
  audience: 'identity-api',
  // Every token must be bound to the calling client's verified certificate ('when-bound', the default,
  // would also admit unbound tokens).
  certificateBinding: 'required',
  rules: { '/demo.mtls.v1.Identity/WhoAmI': requireScopes('identity:read') },
});
const server = new grpc.Server({ interceptors: [auth] });
server.addService(proto.demo.mtls.v1.Identity.service, {
  WhoAmI(call: grpc.ServerUnaryCall<object, unknown>, callback: grpc.sendUnaryData<{ certificateSubject: string; tokenSubject: string }>) {
    // The interceptor proved the binding before this ran: confirmation.x5tS256 is the verified certificate's.
    const peer = call.getAuthContext().sslPeerCertificate;
    const token = getAuth(call);
    callback(null, { certificateSubject: `${String(peer?.subject.CN)} (x5t#S256 ${token.confirmation?.x5tS256 ?? '-'})`, tokenSubject: token.subject ?? '' });
  },
});
const serverCredentials = grpc.ServerCredentials.createSsl(ca, [{ private_key: serverCert.key, cert_chain: serverCert.cert }], true);
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', serverCredentials, (error, bound) => (error ? reject(error) : resolve(bound))),
);

// --- clients ------------------------------------------------------------------------------------------
/** A client presenting `identity`'s certificate, or none. The server's certificate is checked as "localhost". */
function connect(identity?: { key: Buffer; cert: Buffer }): grpc.Client & Record<string, any> {
  const channel = identity ? grpc.credentials.createSsl(ca, identity.key, identity.cert) : grpc.credentials.createSsl(ca);
  return new proto.demo.mtls.v1.Identity(`127.0.0.1:${port}`, channel, { 'grpc.ssl_target_name_override': 'localhost' });
}

function whoAmI(client: grpc.Client & Record<string, any>, token?: string): Promise<string> {
  return new Promise((resolve) => {
    const metadata = token ? idp.metadata(token) : new grpc.Metadata();
    client.WhoAmI(
      {},
      metadata,
      { deadline: Date.now() + 5000 },
      (error: grpc.ServiceError | null, reply: { certificateSubject: string; tokenSubject: string }) => {
        client.close();
        // A failed handshake comes with a long OpenSSL error; its TLS alert is what matters.
        const why = error ? (/alert [a-z ]+/.exec(error.details)?.[0] ?? error.details) : '';
        resolve(
          error ? `refused: ${grpc.status[error.code]} (${why})` : `accepted: certificate CN=${reply.certificateSubject}, token sub=${reply.tokenSubject}`,
        );
      },
    );
  });
}

// The provider binds the token to the certificate of the client it was issued to (cnf x5t#S256).
const boundToken = await idp.sign({ sub: 'orders-app', scope: 'identity:read' }, { bindTo: { certificate: ordersApp.cert } });
const bearerToken = await idp.sign({ sub: 'orders-app', scope: 'identity:read' });

const cases: Array<[label: string, result: Promise<string>, expected: string]> = [
  ['orders-app certificate + its token', whoAmI(connect(ordersApp), boundToken), 'accepted'],
  ['orders-app certificate, no token', whoAmI(connect(ordersApp)), 'refused: UNAUTHENTICATED'],
  ['reports-app certificate + orders-app token', whoAmI(connect(reportsApp), boundToken), 'refused: UNAUTHENTICATED'],
  ['orders-app certificate + unbound token', whoAmI(connect(ordersApp), bearerToken), 'refused: UNAUTHENTICATED'],
  ['no client certificate (TLS handshake fails)', whoAmI(connect(), boundToken), 'refused: UNAVAILABLE'],
];
let failed = false;
for (const [label, result, expected] of cases) {
  const outcome = await result;
  failed ||= !outcome.startsWith(expected);
  console.log(`${label.padEnd(44)} ${outcome}`);
}

server.forceShutdown();
if (failed) process.exit(1);
