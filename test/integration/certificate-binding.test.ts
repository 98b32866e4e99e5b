/**
 * Certificate-bound tokens (RFC 8705) end to end over real TLS: a CA, a server certificate and two client
 * certificates made by openssl at test time; real grpc-js servers on 127.0.0.1:0 verifying client
 * certificates (or not), tokens bound with the test issuer's `bindTo`. Cases after Spring Security's
 * X509CertificateThumbprintValidatorTests (no cnf → pass, cert missing → invalid_token, mismatch →
 * invalid_token, match → pass) and the issue 14 plan.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  certificateThumbprint,
  createAuthInterceptor,
  getAuth,
  type AuthenticatedEvent,
  type AuthInterceptorOptions,
  type ClientCertificateHook,
  type RejectedEvent,
} from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { EchoClient, echoImplementation, startEchoServer, type EchoReply, type EchoServer, type HandlerRuns } from '../support/echo-server.ts';
import { allKinds, bearer, unary } from '../support/calls.ts';
import { testCertificateAuthority, type IssuedCertificate } from '../support/pem.ts';

const ca = testCertificateAuthority();
type Client = grpc.Client & Record<string, any>;

/** Echo, whose Unary answers with what the token was proven bound to (`unbound` when nothing). */
function bindingEcho(runs: HandlerRuns): grpc.UntypedServiceImplementation {
  return {
    ...echoImplementation(runs),
    Unary(call: grpc.ServerUnaryCall<unknown, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.unary += 1;
      const auth = getAuth(call);
      callback(null, { text: auth.confirmation?.x5tS256 ?? 'unbound', subject: auth.subject ?? '', scopes: [], count: 0 });
    },
  };
}

describe('certificate-bound tokens (RFC 8705) over real TLS', { skip: ca === undefined ? 'openssl not available' : false, timeout: 60_000 }, () => {
  let idp: TestIssuer;
  let serverCert: IssuedCertificate;
  let clientA: IssuedCertificate;
  let clientB: IssuedCertificate;
  let x5tA: string;
  let x5tB: string;
  let boundToA: string;
  let unbound: string;
  const servers: EchoServer[] = [];
  const clients: Client[] = [];

  before(async () => {
    serverCert = ca!.issue('localhost', 'server', ['localhost', '127.0.0.1']);
    clientA = ca!.issue('client-a', 'client');
    clientB = ca!.issue('client-b', 'client');
    x5tA = certificateThumbprint(clientA.cert);
    x5tB = certificateThumbprint(clientB.cert);
    idp = await createTestIssuer({ alg: 'ES256' });
    boundToA = await idp.sign({ sub: 'client-a' }, { bindTo: { certificate: clientA.cert } });
    unbound = await idp.sign({ sub: 'anyone' });
  });
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((server) => server.close()));
    ca!.remove();
  });

  const base = (): AuthInterceptorOptions => ({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: idp.audience });

  /** A server with the interceptor: `mtls` verifies client certificates, `tls` does not ask for them, `insecure` is plaintext. */
  async function serve(options: Partial<AuthInterceptorOptions> = {}, transport: 'mtls' | 'tls' | 'insecure' = 'mtls'): Promise<EchoServer> {
    const credentials =
      transport === 'insecure'
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(ca!.cert, [{ private_key: serverCert.key, cert_chain: serverCert.cert }], transport === 'mtls');
    const server = await startEchoServer({
      // With `issuers`, keys, algorithms and issuer belong to each entry.
      interceptors: [createAuthInterceptor(options.issuers ? { audience: idp.audience, ...options } : { ...base(), ...options })],
      credentials,
      clientCredentials: transport === 'insecure' ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(ca!.cert),
      clientOptions: { 'grpc.ssl_target_name_override': 'localhost' },
      implementation: bindingEcho,
    });
    servers.push(server);
    return server;
  }

  /** A client on a connection of its own, presenting `identity`'s certificate (or none). */
  function connect(server: EchoServer, identity: IssuedCertificate | undefined, transport: 'tls' | 'insecure' = 'tls'): Client {
    const credentials =
      transport === 'insecure'
        ? grpc.credentials.createInsecure()
        : identity
          ? grpc.credentials.createSsl(ca!.cert, identity.key, identity.cert)
          : grpc.credentials.createSsl(ca!.cert);
    const client = new EchoClient(server.address, credentials, {
      'grpc.ssl_target_name_override': 'localhost',
      // Its own connection: the same token over another connection is what the cache test is about.
      'grpc.use_local_subchannel_pool': 1,
    }) as Client;
    clients.push(client);
    return client;
  }

  const call = (client: Client, token: string, metadata?: Record<string, string>) => {
    const md = bearer(grpc.Metadata, token);
    for (const [key, value] of Object.entries(metadata ?? {})) md.set(key, value);
    return unary(client, md);
  };

  describe('when-bound (default)', () => {
    let server: EchoServer;
    before(async () => {
      server = await serve();
    });

    it('token bound to A, call with certificate A → OK, and the handler sees confirmation.x5tS256', async () => {
      const outcome = await call(connect(server, clientA), boundToA);
      assert.equal(outcome.code, grpc.status.OK, outcome.details);
      assert.equal(outcome.replies[0]?.text, x5tA);
    });

    it('token bound to A, call with certificate B → UNAUTHENTICATED CERTIFICATE_MISMATCH, invalid_token, handler never runs', async () => {
      const before = server.runs.unary;
      const outcome = await call(connect(server, clientB), boundToA);
      assert.equal(outcome.code, grpc.status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'CERTIFICATE_MISMATCH');
      assert.match(outcome.wwwAuthenticate ?? '', /error="invalid_token"/);
      assert.equal(server.runs.unary, before);
    });

    it('unbound token with certificate A → OK (unbound tokens pass), no confirmation', async () => {
      const outcome = await call(connect(server, clientA), unbound);
      assert.equal(outcome.code, grpc.status.OK, outcome.details);
      assert.equal(outcome.replies[0]?.text, 'unbound');
    });

    it('a forged x-forwarded-client-cert naming A is never read by default: bound token over certificate B → MISMATCH', async () => {
      const hash = Buffer.from(x5tA, 'base64url').toString('hex');
      const outcome = await call(connect(server, clientB), boundToA, { 'x-forwarded-client-cert': `Hash=${hash}` });
      assert.equal(outcome.reason, 'CERTIFICATE_MISMATCH');
    });

    it('the same (cached) bound token over another connection with certificate B is refused; A again is admitted', async () => {
      const authenticated: AuthenticatedEvent[] = [];
      const rejected: RejectedEvent[] = [];
      const cached = await serve({ onAuthenticated: (event) => authenticated.push(event), onRejected: (event) => rejected.push(event) });
      assert.equal((await call(connect(cached, clientA), boundToA)).code, grpc.status.OK);
      const stolen = await call(connect(cached, clientB), boundToA);
      assert.equal(stolen.reason, 'CERTIFICATE_MISMATCH');
      assert.equal(rejected[0]?.cacheHit, true, 'the verified-token cache answered, and the binding was still checked');
      assert.equal(rejected[0]?.verified?.subject, 'client-a');
      assert.equal((await call(connect(cached, clientA), boundToA)).code, grpc.status.OK);
      assert.deepEqual(
        authenticated.map((event) => [event.cacheHit, event.certificateThumbprint]),
        [
          [false, x5tA],
          [true, x5tA],
        ],
      );
    });

    it('all four call kinds: bound to A over certificate B → CERTIFICATE_MISMATCH, no handler runs; over A → OK', async () => {
      const runsBefore = { ...server.runs };
      const refused = await allKinds(connect(server, clientB), () => bearer(grpc.Metadata, boundToA));
      for (const [kind, outcome] of Object.entries(refused)) assert.equal(outcome.reason, 'CERTIFICATE_MISMATCH', kind);
      assert.deepEqual(server.runs, runsBefore);
      const admitted = await allKinds(connect(server, clientA), () => bearer(grpc.Metadata, boundToA));
      for (const [kind, outcome] of Object.entries(admitted)) assert.equal(outcome.code, grpc.status.OK, `${kind}: ${outcome.details}`);
    });

    for (const [label, cnf] of [
      ['hex SHA-256', { 'x5t#S256': 'ab'.repeat(32) }],
      ['42 characters', { 'x5t#S256': 'A'.repeat(42) }],
      ['padded', { 'x5t#S256': `${'A'.repeat(43)}=` }],
      ['non-canonical last character', { 'x5t#S256': `${'A'.repeat(42)}B` }],
      ['a number', { 'x5t#S256': 1 }],
      ['an array', { 'x5t#S256': ['A'.repeat(43)] }],
      ['cnf a string', 'bound'],
      ['cnf an array', []],
      ['cnf null', null],
    ] as const) {
      it(`malformed cnf (${label}) → UNAUTHENTICATED CLAIM_INVALID, never read as unbound`, async () => {
        const token = await idp.sign({ cnf });
        const outcome = await call(connect(server, clientA), token);
        assert.equal(outcome.code, grpc.status.UNAUTHENTICATED);
        assert.equal(outcome.reason, 'CLAIM_INVALID');
      });
    }

    it('cnf with only unknown members (jkt-less, x5t-less) → OK as unbound', async () => {
      const outcome = await call(connect(server, clientA), await idp.sign({ cnf: { kid: 'k-1' } }));
      assert.equal(outcome.code, grpc.status.OK, outcome.details);
      assert.equal(outcome.replies[0]?.text, 'unbound');
    });
  });

  describe('review: a stolen bound token on every path', () => {
    it("an 'optional' method: a bound token over certificate B → CERTIFICATE_MISMATCH (not admitted as anonymous), over A → OK", async () => {
      const server = await serve({ rules: { '/test.echo.v1.Echo/Unary': 'optional' } });
      assert.equal((await call(connect(server, clientB), boundToA)).reason, 'CERTIFICATE_MISMATCH');
      assert.equal((await call(connect(server, clientA), boundToA)).code, grpc.status.OK);
      assert.equal(server.runs.unary, 1);
    });

    it('a guard that would allow: the binding is judged first (CERTIFICATE_MISMATCH, the guard never runs)', async () => {
      let guarded = 0;
      const server = await serve({
        rules: {
          '/test.echo.v1.Echo/Unary': () => {
            guarded += 1;
            return true;
          },
        },
      });
      assert.equal((await call(connect(server, clientB), boundToA)).reason, 'CERTIFICATE_MISMATCH');
      assert.equal(guarded, 0);
    });

    it('the same new token on two connections at once (one verification shared): A → OK, B → CERTIFICATE_MISMATCH', async () => {
      const server = await serve();
      const fresh = await idp.sign({ sub: 'client-a', jti: 'joined' }, { bindTo: { certificate: clientA.cert } });
      const a = connect(server, clientA);
      const b = connect(server, clientB);
      // Warm both connections with unbound calls, so the two bound calls arrive together.
      await Promise.all([call(a, unbound), call(b, unbound)]);
      const [fromA, fromB] = await Promise.all([call(a, fresh), call(b, fresh)]);
      assert.equal(fromA.code, grpc.status.OK, fromA.details);
      assert.equal(fromB.reason, 'CERTIFICATE_MISMATCH');
    });

    it("a token of an issuer whose mode is 'off' cannot carry another issuer's binding away: iss decides, signed by that issuer's keys", async () => {
      const legacy = await createTestIssuer({ alg: 'ES256', issuer: 'https://legacy-off.test' });
      const server = await serve({
        issuers: [
          { issuer: idp.issuer, keys: idp.keys, algorithms: ['ES256'], certificateBinding: 'required' },
          { issuer: legacy.issuer, keys: legacy.keys, algorithms: ['ES256'], certificateBinding: 'off' },
        ],
      });
      // The bound token re-labelled with the 'off' issuer's iss no longer verifies (its signature was idp's).
      const [header, , signature] = boundToA.split('.');
      const claims = JSON.parse(Buffer.from(boundToA.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      const relabelled = `${header}.${Buffer.from(JSON.stringify({ ...claims, iss: legacy.issuer })).toString('base64url')}.${signature}`;
      const outcome = await call(connect(server, clientB), relabelled);
      assert.equal(outcome.code, grpc.status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'SIGNATURE_INVALID');
    });
  });

  describe('servers without a verified client certificate', () => {
    it('TLS server that does not ask for client certificates: bound token → CERTIFICATE_MISSING (even if the client has one); unbound → OK', async () => {
      const server = await serve({}, 'tls');
      assert.equal((await call(connect(server, clientA), boundToA)).reason, 'CERTIFICATE_MISSING');
      assert.equal((await call(connect(server, undefined), boundToA)).reason, 'CERTIFICATE_MISSING');
      assert.equal((await call(connect(server, undefined), unbound)).code, grpc.status.OK);
    });

    it('plaintext server: bound token → UNAUTHENTICATED CERTIFICATE_MISSING, invalid_token; unbound → OK', async () => {
      const server = await serve({}, 'insecure');
      const outcome = await call(connect(server, undefined, 'insecure'), boundToA);
      assert.equal(outcome.code, grpc.status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'CERTIFICATE_MISSING');
      assert.match(outcome.wwwAuthenticate ?? '', /error="invalid_token"/);
      assert.equal((await call(connect(server, undefined, 'insecure'), unbound)).code, grpc.status.OK);
    });
  });

  describe("certificateBinding: 'required' and 'off'", () => {
    it('required: unbound token → UNAUTHENTICATED TOKEN_NOT_BOUND; bound to A over A → OK; over B → MISMATCH', async () => {
      const server = await serve({ certificateBinding: 'required' });
      const outcome = await call(connect(server, clientA), unbound);
      assert.equal(outcome.code, grpc.status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'TOKEN_NOT_BOUND');
      assert.match(outcome.wwwAuthenticate ?? '', /error="invalid_token"/);
      assert.equal((await call(connect(server, clientA), boundToA)).code, grpc.status.OK);
      assert.equal((await call(connect(server, clientB), boundToA)).reason, 'CERTIFICATE_MISMATCH');
    });

    it('required on a plaintext server: unbound → TOKEN_NOT_BOUND, bound → CERTIFICATE_MISSING', async () => {
      const server = await serve({ certificateBinding: 'required' }, 'insecure');
      assert.equal((await call(connect(server, undefined, 'insecure'), unbound)).reason, 'TOKEN_NOT_BOUND');
      assert.equal((await call(connect(server, undefined, 'insecure'), boundToA)).reason, 'CERTIFICATE_MISSING');
    });

    it('off: bound to A over B → OK, and no confirmation in the context; malformed cnf ignored', async () => {
      const server = await serve({ certificateBinding: 'off' });
      const outcome = await call(connect(server, clientB), boundToA);
      assert.equal(outcome.code, grpc.status.OK, outcome.details);
      assert.equal(outcome.replies[0]?.text, 'unbound');
      assert.equal((await call(connect(server, clientB), await idp.sign({ cnf: 'bound' }))).code, grpc.status.OK);
    });
  });

  describe('per issuer', () => {
    it("issuers[i].certificateBinding overrides the top-level default: 'required' for one issuer, 'when-bound' for the other", async () => {
      const partners = await createTestIssuer({ alg: 'ES256', issuer: 'https://partners.test' });
      const server = await serve({
        certificateBinding: 'required',
        issuers: [
          { issuer: idp.issuer, keys: idp.keys, algorithms: ['ES256'] },
          { issuer: partners.issuer, keys: partners.keys, algorithms: ['ES256'], certificateBinding: 'when-bound' },
        ],
      });
      assert.equal((await call(connect(server, clientA), unbound)).reason, 'TOKEN_NOT_BOUND');
      assert.equal((await call(connect(server, clientA), boundToA)).code, grpc.status.OK);
      assert.equal((await call(connect(server, clientA), await partners.sign())).code, grpc.status.OK);
      const partnerBound = await partners.sign({}, { bindTo: { certificate: clientA.cert } });
      assert.equal((await call(connect(server, clientB), partnerBound)).reason, 'CERTIFICATE_MISMATCH');
    });

    it("issuers[i].certificateBinding: 'off' for one issuer only", async () => {
      const legacy = await createTestIssuer({ alg: 'ES256', issuer: 'https://legacy.test' });
      const server = await serve({
        issuers: [
          { issuer: idp.issuer, keys: idp.keys, algorithms: ['ES256'] },
          { issuer: legacy.issuer, keys: legacy.keys, algorithms: ['ES256'], certificateBinding: 'off' },
        ],
      });
      assert.equal((await call(connect(server, clientB), boundToA)).reason, 'CERTIFICATE_MISMATCH');
      const legacyBound = await legacy.sign({}, { bindTo: { certificate: clientA.cert } });
      assert.equal((await call(connect(server, clientB), legacyBound)).code, grpc.status.OK);
    });
  });

  describe('clientCertificate hook (a TLS-terminating proxy)', () => {
    /** The "proxy" is a header set by the test; the hook trusts it only from loopback peers (a sidecar). */
    const fromSidecar: ClientCertificateHook = ({ metadata, peer }) => {
      if (!peer.startsWith('127.0.0.1:')) return undefined;
      const value = metadata.get('x-client-cert-x5t')[0];
      return typeof value === 'string' ? value : undefined;
    };

    it('hook returns the thumbprint of A: bound to A → OK; of B → MISMATCH; none → MISSING', async () => {
      const server = await serve({ clientCertificate: fromSidecar }, 'insecure');
      const client = connect(server, undefined, 'insecure');
      assert.equal((await call(client, boundToA, { 'x-client-cert-x5t': x5tA })).code, grpc.status.OK);
      assert.equal((await call(client, boundToA, { 'x-client-cert-x5t': x5tB })).reason, 'CERTIFICATE_MISMATCH');
      assert.equal((await call(client, boundToA)).reason, 'CERTIFICATE_MISSING');
      assert.equal((await call(client, unbound)).code, grpc.status.OK);
    });

    it('hook returns the DER bytes of A → OK (hashed by the server)', async () => {
      const der = new (await import('node:crypto')).X509Certificate(clientA.cert).raw;
      const server = await serve({ clientCertificate: () => new Uint8Array(der) }, 'insecure');
      assert.equal((await call(connect(server, undefined, 'insecure'), boundToA)).code, grpc.status.OK);
    });

    it('the hook is called only for a bound token (or required mode)', async () => {
      let calls = 0;
      const server = await serve(
        {
          clientCertificate: () => {
            calls += 1;
            return x5tA;
          },
        },
        'insecure',
      );
      const client = connect(server, undefined, 'insecure');
      assert.equal((await call(client, unbound)).code, grpc.status.OK);
      assert.equal(calls, 0);
      assert.equal((await call(client, boundToA)).code, grpc.status.OK);
      assert.equal((await call(client, boundToA)).code, grpc.status.OK);
      assert.equal(calls, 2, 'once per call, cache hit included');
    });

    for (const [label, hook] of [
      [
        'throws',
        () => {
          throw new Error('proxy header unreadable');
        },
      ],
      ['returns a hex hash', () => 'ab'.repeat(32)],
      ['returns a number', () => 42 as never],
      ['returns a promise', () => Promise.resolve('A'.repeat(43)) as never],
    ] as const) {
      it(`hook ${label} → INTERNAL, handler never runs`, async () => {
        const server = await serve({ clientCertificate: hook as ClientCertificateHook }, 'insecure');
        const outcome = await call(connect(server, undefined, 'insecure'), boundToA);
        assert.equal(outcome.code, grpc.status.INTERNAL);
        assert.equal(outcome.reason, 'INTERNAL');
        assert.equal(server.runs.unary, 0);
      });
    }
  });
});
