/**
 * Unit tests of the notes service with real tokens and no identity provider: createTestIssuer signs
 * them with a throw-away key, and the service verifies them exactly as it would in production. The
 * first suite calls a served service; the second calls its handlers directly, with no server, through
 * authenticatedCall (the caller verified and attached as the interceptor attaches it).
 * Run: node --import tsx --test examples/testing/notes-service.test.ts (main.ts does it for you)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { decodeErrorInfo } from 'grpc-jwt-auth/client';
import { anonymousCall, authenticatedCall, createTestIssuer, type TestIssuer } from 'grpc-jwt-auth/testing';
import { NotesClient, notesHandlers, startNotesServer, type Note, type NotesServer } from './notes-service.ts';

interface Outcome {
  readonly code: grpc.status;
  /** The ErrorInfo reason of a refusal, e.g. TOKEN_EXPIRED. */
  readonly reason: string | undefined;
  readonly note: { owner: string; text: string } | undefined;
}

describe('notes service', () => {
  let idp: TestIssuer;
  let server: NotesServer;
  let client: grpc.Client & Record<string, any>;

  /** Calls a method with `token` (or none) and resolves with its status, reason and reply. */
  function call(method: 'GetNote' | 'DeleteNote', id: string, token?: string): Promise<Outcome> {
    return new Promise((resolve) => {
      client[method]({ id }, token ? idp.metadata(token) : new grpc.Metadata(), (error: grpc.ServiceError | null, note?: Outcome['note']) => {
        const [details] = error?.metadata.get('grpc-status-details-bin') ?? [];
        const reason = details instanceof Buffer ? decodeErrorInfo(details)?.reason : undefined;
        resolve({ code: error ? error.code : grpc.status.OK, reason, note });
      });
    });
  }

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'notes-api' });
    server = await startNotesServer({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: 'notes-api' });
    client = new NotesClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
  });

  after(() => {
    client.close();
    server.close();
  });

  it('GetNote: the owner reads their note', async () => {
    const outcome = await call('GetNote', 'n1', await idp.sign({ sub: 'alice', scope: 'notes:read' }));
    assert.equal(outcome.code, grpc.status.OK);
    assert.equal(outcome.note?.text, 'buy coffee');
  });

  it("GetNote: someone else's note → NOT_FOUND, as if it did not exist", async () => {
    const outcome = await call('GetNote', 'n2', await idp.sign({ sub: 'alice', scope: 'notes:read' }));
    assert.equal(outcome.code, grpc.status.NOT_FOUND);
  });

  it('GetNote: no token → UNAUTHENTICATED TOKEN_MISSING', async () => {
    const outcome = await call('GetNote', 'n1');
    assert.deepEqual([outcome.code, outcome.reason], [grpc.status.UNAUTHENTICATED, 'TOKEN_MISSING']);
  });

  it('GetNote: expired token → UNAUTHENTICATED TOKEN_EXPIRED', async () => {
    const outcome = await call('GetNote', 'n1', await idp.expiredToken({ sub: 'alice', scope: 'notes:read' }));
    assert.deepEqual([outcome.code, outcome.reason], [grpc.status.UNAUTHENTICATED, 'TOKEN_EXPIRED']);
  });

  it('GetNote: token for another audience → UNAUTHENTICATED AUDIENCE_INVALID', async () => {
    const outcome = await call('GetNote', 'n1', await idp.wrongAudienceToken({ sub: 'alice', scope: 'notes:read' }));
    assert.deepEqual([outcome.code, outcome.reason], [grpc.status.UNAUTHENTICATED, 'AUDIENCE_INVALID']);
  });

  it('GetNote: token changed after signing → UNAUTHENTICATED SIGNATURE_INVALID', async () => {
    const outcome = await call('GetNote', 'n2', await idp.tamperedToken({ sub: 'bob', scope: 'notes:read' }));
    assert.deepEqual([outcome.code, outcome.reason], [grpc.status.UNAUTHENTICATED, 'SIGNATURE_INVALID']);
  });

  it('DeleteNote: without scope notes:admin → PERMISSION_DENIED INSUFFICIENT_SCOPE', async () => {
    const outcome = await call('DeleteNote', 'n1', await idp.sign({ sub: 'alice', scope: 'notes:read' }));
    assert.deepEqual([outcome.code, outcome.reason], [grpc.status.PERMISSION_DENIED, 'INSUFFICIENT_SCOPE']);
  });

  it('DeleteNote: an admin deletes, and the note is gone', async () => {
    const deleted = await call('DeleteNote', 'n2', await idp.sign({ sub: 'carol', scope: 'notes:admin' }));
    assert.equal(deleted.code, grpc.status.OK);
    const read = await call('GetNote', 'n2', await idp.sign({ sub: 'bob', scope: 'notes:read' }));
    assert.equal(read.code, grpc.status.NOT_FOUND);
  });
});

describe('notes handlers, without a server', () => {
  let idp: TestIssuer;
  const handlers = notesHandlers(
    new Map<string, Note>([
      ['n1', { id: 'n1', owner: 'alice', text: 'buy coffee' }],
      ['n2', { id: 'n2', owner: 'bob', text: 'call the bank' }],
    ]),
  );
  const GET_NOTE = '/demo.notes.v1.Notes/GetNote';

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'notes-api' });
  });

  it('GetNote: the owner reads their note', async () => {
    const call = await authenticatedCall(idp, { claims: { sub: 'alice', scope: 'notes:read' }, method: GET_NOTE, request: { id: 'n1' } });
    handlers.GetNote(call, call.respond);
    const { code, value } = await call.result;
    assert.deepEqual([code, value], [grpc.status.OK, { id: 'n1', owner: 'alice', text: 'buy coffee' }]);
  });

  it("GetNote: someone else's note → NOT_FOUND, as if it did not exist", async () => {
    const call = await authenticatedCall(idp, { claims: { sub: 'alice', scope: 'notes:read' }, method: GET_NOTE, request: { id: 'n2' } });
    handlers.GetNote(call, call.respond);
    assert.equal((await call.result).code, grpc.status.NOT_FOUND);
  });

  it('GetNote: a call the interceptor did not authenticate → INTERNAL (the handler needs getAuth to succeed)', async () => {
    const call = anonymousCall({ method: GET_NOTE, request: { id: 'n1' } });
    assert.throws(() => handlers.GetNote(call, call.respond), { code: 'ERR_AUTH_INTERNAL' });
    assert.equal((await call.result).code, grpc.status.INTERNAL);
  });
});
