import type * as grpc from '@grpc/grpc-js';
import { decodeErrorInfo } from '../../src/client/index.ts';
import type { EchoReply } from './echo-server.ts';

/** How a call ended, with everything a test asserts on. */
export interface Outcome {
  /** 0 for OK, else the gRPC status code. */
  readonly code: number;
  readonly details: string;
  /** The ErrorInfo reason from the status details trailer, if any. */
  readonly reason: string | undefined;
  readonly errorInfoMetadata: Readonly<Record<string, string>> | undefined;
  /** The `www-authenticate` trailer, if any. */
  readonly wwwAuthenticate: string | undefined;
  readonly replies: EchoReply[];
}

/** How a call ended, from its error (null for OK) and the replies it got. */
export function outcomeOf(error: grpc.ServiceError | null, replies: EchoReply[]): Outcome {
  if (!error) return { code: 0, details: '', reason: undefined, errorInfoMetadata: undefined, wwwAuthenticate: undefined, replies };
  const detailsBin = error.metadata?.get('grpc-status-details-bin')[0];
  const info = detailsBin instanceof Buffer ? decodeErrorInfo(detailsBin) : undefined;
  const challenge = error.metadata?.get('www-authenticate')[0];
  return {
    code: error.code,
    details: error.details,
    reason: info?.reason,
    errorInfoMetadata: info?.metadata,
    wwwAuthenticate: typeof challenge === 'string' ? challenge : undefined,
    replies,
  };
}

type Client = grpc.Client & Record<string, any>;

export function unary(client: Client, metadata: grpc.Metadata, text = 'hi', options: grpc.CallOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    client.Unary({ text }, metadata, options, (error: grpc.ServiceError | null, reply: EchoReply) => resolve(outcomeOf(error, reply ? [reply] : [])));
  });
}

function collect(call: grpc.ClientReadableStream<EchoReply> | grpc.ClientDuplexStream<any, EchoReply>): Promise<Outcome> {
  const replies: EchoReply[] = [];
  return new Promise((resolve) => {
    let settled = false;
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', (error: grpc.ServiceError) => {
      if (!settled) resolve(outcomeOf(error, replies));
      settled = true;
    });
    call.on('status', (status: grpc.StatusObject) => {
      if (status.code === 0 && !settled) {
        settled = true;
        resolve(outcomeOf(null, replies));
      }
    });
  });
}

export function serverStream(client: Client, metadata: grpc.Metadata, text = 'hi', options: grpc.CallOptions = {}): Promise<Outcome> {
  return collect(client.ServerStream({ text }, metadata, options));
}

export function clientStream(client: Client, metadata: grpc.Metadata, texts: readonly string[] = ['a', 'b', 'c']): Promise<Outcome> {
  return new Promise((resolve) => {
    const call = client.ClientStream(metadata, (error: grpc.ServiceError | null, reply: EchoReply) => resolve(outcomeOf(error, reply ? [reply] : [])));
    for (const text of texts) call.write({ text });
    call.end();
  });
}

export function bidi(client: Client, metadata: grpc.Metadata, texts: readonly string[] = ['a', 'b', 'c']): Promise<Outcome> {
  const call = client.Bidi(metadata);
  const done = collect(call);
  for (const text of texts) call.write({ text });
  call.end();
  return done;
}

/** Every call kind once, with the same metadata. */
export async function allKinds(client: Client, metadata: () => grpc.Metadata): Promise<Record<'unary' | 'serverStream' | 'clientStream' | 'bidi', Outcome>> {
  const [u, s, c, b] = await Promise.all([
    unary(client, metadata()),
    serverStream(client, metadata()),
    clientStream(client, metadata()),
    bidi(client, metadata()),
  ]);
  return { unary: u, serverStream: s, clientStream: c, bidi: b };
}

/** Metadata with one `authorization` value. */
export function bearer(Metadata: typeof grpc.Metadata, token: string): grpc.Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
