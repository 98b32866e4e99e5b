/**
 * The service under test: notes that only their owner may read, and that only admins may delete. Its
 * keys are a parameter, so production passes `fromIssuer('https://idp.example/')` and tests pass the
 * test issuer's keys: the same interceptor, policy and handlers run in both. The handlers are exported
 * too, for unit tests without a server (`authenticatedCall`).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createAuthInterceptor, getAuth, requireScopes, type Algorithm, type KeyResolver } from 'grpc-jwt-auth';

const definition = protoLoader.loadSync(fileURLToPath(new URL('./notes.proto', import.meta.url)));
const Notes = (grpc.loadPackageDefinition(definition) as any).demo.notes.v1.Notes as grpc.ServiceClientConstructor;

/** The generated client constructor, for callers and tests. */
export const NotesClient = Notes;

export interface Note {
  readonly id: string;
  readonly owner: string;
  readonly text: string;
}

/** Where the server's tokens come from. */
export interface NotesServerOptions {
  readonly keys: KeyResolver;
  readonly algorithms: readonly Algorithm[];
  readonly issuer: string;
  readonly audience: string;
  /** Host and port to listen on. Default `127.0.0.1:0` (any free port). */
  readonly address?: string;
}

/** The notes service's handlers. */
export interface NotesHandlers extends grpc.UntypedServiceImplementation {
  GetNote: grpc.handleUnaryCall<{ id: string }, Note>;
  DeleteNote: grpc.handleUnaryCall<{ id: string }, object>;
}

/**
 * The handlers over a store of notes. Which calls reach them is the interceptor's policy (see
 * startNotesServer); who may read which note is theirs.
 *
 * @example
 * ```ts
 * const handlers = notesHandlers(new Map([['n1', { id: 'n1', owner: 'alice', text: 'buy coffee' }]]));
 * ```
 */
export function notesHandlers(notes: Map<string, Note>): NotesHandlers {
  return {
    GetNote(call, callback) {
      const note = notes.get(call.request.id);
      // Someone else's note is answered like a missing one, so its existence does not leak.
      if (!note || note.owner !== getAuth(call).subject) callback({ code: grpc.status.NOT_FOUND, details: 'no such note' });
      else callback(null, note);
    },
    DeleteNote(call, callback) {
      notes.delete(call.request.id);
      callback(null, {});
    },
  };
}

/** A running notes server. */
export interface NotesServer {
  readonly port: number;
  close(): void;
}

/**
 * Starts the notes service with its auth policy.
 *
 * @example
 * ```ts
 * const server = await startNotesServer({ keys: fromIssuer('https://idp.example/'), algorithms: ['RS256'], issuer: 'https://idp.example/', audience: 'notes-api' });
 * ```
 */
export async function startNotesServer(options: NotesServerOptions): Promise<NotesServer> {
  const notes = new Map<string, Note>([
    ['n1', { id: 'n1', owner: 'alice', text: 'buy coffee' }],
    ['n2', { id: 'n2', owner: 'bob', text: 'call the bank' }],
  ]);
  const auth = createAuthInterceptor({
    keys: options.keys,
    algorithms: options.algorithms,
    issuer: options.issuer,
    audience: options.audience,
    rules: {
      '/demo.notes.v1.Notes/GetNote': requireScopes('notes:read'),
      '/demo.notes.v1.Notes/DeleteNote': requireScopes('notes:admin'),
    },
    defaultRule: 'deny',
  });
  const server = new grpc.Server({ interceptors: [auth] });
  server.addService(Notes.service, notesHandlers(notes));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.address ?? '127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    port,
    close() {
      server.forceShutdown();
      auth.close();
    },
  };
}
