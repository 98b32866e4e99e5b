/**
 * requireBoundToken end to end over real TLS: a CA, a server certificate and two client certificates
 * made by openssl at test time, a grpc-js server on 127.0.0.1:0 verifying client certificates, tokens
 * bound with the test issuer's `bindTo`. The guard as a rule (all four call kinds), inside allOf, in
 * `withGuard`, and as the `.proto` rule field `bound_token`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import {
  PROTO_INCLUDE_DIR,
  allOf,
  createAuthInterceptor,
  getAuth,
  requireBoundToken,
  requireScopes,
  rulesFromProto,
  withGuard,
  type AuthInterceptorOptions,
  type RuleMap,
} from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { EchoClient, METHODS, echoImplementation, startEchoServer, type EchoReply, type EchoServer, type HandlerRuns } from '../support/echo-server.ts';
import { allKinds, bearer, unary, type Outcome } from '../support/calls.ts';
import { testCertificateAuthority, type IssuedCertificate } from '../support/pem.ts';

const ca = testCertificateAuthority();
type Client = grpc.Client & Record<string, any>;
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

/** Echo whose Unary answers with the proven certificate binding and whose ServerStream is wrapped in withGuard(requireBoundToken('certificate')). */
function boundEcho(runs: HandlerRuns): grpc.UntypedServiceImplementation {
  const echo = echoImplementation(runs);
  return {
    ...echo,
    Unary(call: grpc.ServerUnaryCall<unknown, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.unary += 1;
      callback(null, { text: getAuth(call).confirmation?.x5tS256 ?? 'unbound', subject: '', scopes: [], count: 0 });
    },
    ServerStream: withGuard(requireBoundToken('certificate'), echo.ServerStream as grpc.handleServerStreamingCall<unknown, EchoReply>),
  };
}

/** `.proto` rules for the Echo service, read from a protobufjs root as the README recommends. */
function rulesFromFile(dir: string): RuleMap {
  const file = join(dir, 'echo-bound.proto');
  writeFileSync(
    file,
    [
      'syntax = "proto3";',
      'package test.echo.v1;',
      'import "grpc_jwt_auth/v1/auth.proto";',
      'message EchoRequest { string text = 1; }',
      'message EchoReply { string text = 1; string subject = 2; repeated string scopes = 3; int32 count = 4; }',
      'service Echo {',
      '  rpc Unary(EchoRequest) returns (EchoReply) { option (grpc_jwt_auth.v1.rule) = { bound_token: "certificate" }; }',
      '  rpc ServerStream(EchoRequest) returns (stream EchoReply) { option (grpc_jwt_auth.v1.rule) = { bound_token: "any", scopes: ["echo:read"] }; }',
      '  rpc ClientStream(stream EchoRequest) returns (EchoReply) { option (grpc_jwt_auth.v1.rule) = { bound_token: "dpop" }; }',
      '  rpc Bidi(stream EchoRequest) returns (stream EchoReply) { option (grpc_jwt_auth.v1.rule) = { authenticated: true }; }',
      '}',
    ].join('\n'),
  );
  const includeDirs = [PROTO_INCLUDE_DIR, join(createRequire(import.meta.url).resolve('protobufjs/google/protobuf/descriptor.proto'), '../../..')];
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => includeDirs.map((d) => join(d, target)).find(existsSync) ?? protobuf.util.path.resolve(origin, target);
  return rulesFromProto(root.loadSync(file));
}

function assertNotBound(outcome: Outcome, label: string): void {
  assert.equal(outcome.code, grpc.status.UNAUTHENTICATED, `${label}: ${outcome.details}`);
  assert.equal(outcome.reason, 'TOKEN_NOT_BOUND', label);
  assert.match(outcome.wwwAuthenticate ?? '', /^Bearer error="invalid_token"/, label);
}

describe('requireBoundToken over real TLS', { skip: ca === undefined ? 'openssl not available' : false, timeout: 60_000 }, () => {
  let idp: TestIssuer;
  let serverCert: IssuedCertificate;
  let clientA: IssuedCertificate;
  let boundToA: string;
  let unbound: string;
  let protoDir: string;
  const servers: EchoServer[] = [];
  const clients: Client[] = [];

  before(async () => {
    serverCert = ca!.issue('localhost', 'server', ['localhost', '127.0.0.1']);
    clientA = ca!.issue('client-a', 'client');
    idp = await createTestIssuer({ alg: 'ES256' });
    boundToA = await idp.sign({ sub: 'client-a', scope: 'echo:read' }, { bindTo: { certificate: clientA.cert } });
    unbound = await idp.sign({ sub: 'anyone', scope: 'echo:read' });
    protoDir = mkdtempSync(join(tmpdir(), 'bound-token-guard-'));
  });
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((server) => server.close()));
    rmSync(protoDir, { recursive: true, force: true });
    ca!.remove();
  });

  async function serve(options: Partial<AuthInterceptorOptions>): Promise<EchoServer> {
    const server = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: idp.audience, ...options })],
      credentials: grpc.ServerCredentials.createSsl(ca!.cert, [{ private_key: serverCert.key, cert_chain: serverCert.cert }], true),
      clientCredentials: grpc.credentials.createSsl(ca!.cert, clientA.key, clientA.cert),
      clientOptions: { 'grpc.ssl_target_name_override': 'localhost' },
      implementation: boundEcho,
    });
    servers.push(server);
    return server;
  }

  /** A client presenting certificate A on a connection of its own. */
  function clientOf(server: EchoServer): Client {
    const client = new EchoClient(server.address, grpc.credentials.createSsl(ca!.cert, clientA.key, clientA.cert), {
      'grpc.ssl_target_name_override': 'localhost',
    }) as Client;
    clients.push(client);
    return client;
  }

  describe('as rules', () => {
    let server: EchoServer;
    before(async () => {
      server = await serve({
        rules: {
          [METHODS.unary]: requireBoundToken('certificate'),
          [METHODS.serverStream]: 'authenticated', // guarded by withGuard in the handler
          [METHODS.clientStream]: requireBoundToken(),
          [METHODS.bidi]: allOf(requireBoundToken('certificate'), requireScopes('echo:write')),
        },
      });
    });

    it('all four call kinds: a token bound to the presented certificate → OK', async () => {
      const outcomes = await allKinds(clientOf(server), () => bearer(grpc.Metadata, boundToA));
      for (const kind of ['unary', 'serverStream', 'clientStream'] as const)
        assert.equal(outcomes[kind].code, grpc.status.OK, `${kind}: ${outcomes[kind].details}`);
      // allOf: bound, but without echo:write → the scope refusal.
      assert.equal(outcomes.bidi.code, grpc.status.PERMISSION_DENIED);
      assert.equal(outcomes.bidi.reason, 'INSUFFICIENT_SCOPE');
    });

    it('all four call kinds: a bearer token over the same mTLS connection → UNAUTHENTICATED TOKEN_NOT_BOUND, invalid_token, no handler runs', async () => {
      const runs = { ...server.runs };
      const outcomes = await allKinds(clientOf(server), () => bearer(grpc.Metadata, unbound));
      for (const [kind, outcome] of Object.entries(outcomes)) assertNotBound(outcome, kind);
      // ServerStream's count is kept by the handler withGuard wraps: it stays too.
      assert.deepEqual(server.runs, runs);
    });

    it('the handler of a bound call sees the proven thumbprint', async () => {
      const outcome = await unary(clientOf(server), bearer(grpc.Metadata, boundToA));
      assert.equal(outcome.replies[0]?.text.length, 43);
    });

    it("requireBoundToken('certificate') refuses a token whose cnf names only a DPoP key (nothing proven on this call)", async () => {
      const jktOnly = await idp.sign({ sub: 'dpop-client' }, { bindTo: { jkt: JKT } });
      const outcome = await unary(clientOf(server), bearer(grpc.Metadata, jktOnly));
      assert.equal(outcome.code, grpc.status.UNAUTHENTICATED, outcome.details);
      // Until the server checks DPoP proofs, cnf.jkt is not proven: TOKEN_NOT_BOUND; once it does, a
      // DPoP-bound token sent as Bearer is refused earlier, with DPOP_SCHEME_REQUIRED.
      assert.ok(['TOKEN_NOT_BOUND', 'DPOP_SCHEME_REQUIRED'].includes(outcome.reason ?? ''), outcome.reason);
    });
  });

  describe("with certificateBinding 'off'", () => {
    it("a certificate-bound token is used as a bearer token, so requireBoundToken('certificate') refuses it", async () => {
      const server = await serve({ certificateBinding: 'off', rules: { [METHODS.unary]: requireBoundToken('certificate') } });
      assertNotBound(await unary(clientOf(server), bearer(grpc.Metadata, boundToA)), 'off');
    });
  });

  describe('as the .proto rule field bound_token', () => {
    let server: EchoServer;
    before(async () => {
      server = await serve({ rules: rulesFromFile(protoDir) });
    });

    it('bound_token "certificate": bound → OK, bearer → TOKEN_NOT_BOUND', async () => {
      assert.equal((await unary(clientOf(server), bearer(grpc.Metadata, boundToA))).code, grpc.status.OK);
      assertNotBound(await unary(clientOf(server), bearer(grpc.Metadata, unbound)), 'unary');
    });

    it('bound_token "any" with scopes: bound with the scope → OK; bearer with the scope → TOKEN_NOT_BOUND; "dpop" refuses a certificate-bound token; a rule without it admits bearer', async () => {
      const outcomes = await allKinds(clientOf(server), () => bearer(grpc.Metadata, unbound));
      assertNotBound(outcomes.serverStream, 'serverStream');
      assertNotBound(outcomes.clientStream, 'clientStream');
      assert.equal(outcomes.bidi.code, grpc.status.OK, outcomes.bidi.details);
      const bound = await allKinds(clientOf(server), () => bearer(grpc.Metadata, boundToA));
      assert.equal(bound.serverStream.code, grpc.status.OK, bound.serverStream.details);
      assertNotBound(bound.clientStream, 'clientStream (dpop) with a certificate-bound token');
    });
  });
});
