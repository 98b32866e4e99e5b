/**
 * A gRPC call written as HTTP/2 frames by hand, for header lists no Node client can send: Node's http2
 * client refuses a second `authorization` field (ERR_HTTP2_HEADER_SINGLE_VALUE), but a proxy or any
 * other HTTP/2 stack can send one. Header fields go out as HPACK literals without indexing and without
 * Huffman coding (RFC 7541 §6.2.2), exactly in the order given. The answer is read without an HPACK
 * decoder: the response messages (DATA frames) and how the stream ended are all a test needs.
 */
import net from 'node:net';

/** What came back on the stream. */
export interface FramesOutcome {
  /** The response messages, without their 5-byte gRPC prefix, in order. */
  readonly messages: Buffer[];
  /** `trailers`: the server ended the stream with a HEADERS frame; `reset`: RST_STREAM; `closed`: the connection went away. */
  readonly ended: 'trailers' | 'reset' | 'closed';
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const STREAM = 1;

/** RFC 7541 §5.1 integer with a 7-bit prefix (the string length of a literal, Huffman bit clear). */
function prefixedLength(value: number): number[] {
  if (value < 127) return [value];
  const bytes = [127];
  let rest = value - 127;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

function literalString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from(prefixedLength(bytes.length)), bytes]);
}

/** A literal header field without indexing, new name (first byte 0x00). */
function literalField(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), literalString(name), literalString(value)]);
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** One gRPC message: uncompressed flag and 4-byte length, then the serialized request. */
function grpcMessage(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

function splitMessages(body: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let at = 0; at + 5 <= body.length;) {
    const length = body.readUInt32BE(at + 1);
    messages.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}

/**
 * Sends one unary-style gRPC request on a fresh connection: the pseudo-headers, then `fields` as given
 * (repeat a name to send it twice), then `request` as the only message. Resolves when the stream ends;
 * gives up after `timeoutMs` (then `ended` is `closed`), so a test never hangs.
 */
export function callWithHeaderFields(
  port: number,
  path: string,
  fields: ReadonlyArray<readonly [string, string]>,
  request: Buffer,
  timeoutMs = 5_000,
): Promise<FramesOutcome> {
  const headerBlock = Buffer.concat(
    [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', path],
      [':authority', `127.0.0.1:${port}`],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ...fields,
    ].map(([name, value]) => literalField(name as string, value as string)),
  );
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const body: Buffer[] = [];
    let pending = Buffer.alloc(0);
    let settled = false;
    const finish = (ended: FramesOutcome['ended']): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ messages: splitMessages(Buffer.concat(body)), ended });
    };
    const timer = setTimeout(() => finish('closed'), timeoutMs);
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('connect', () => {
      socket.write(
        Buffer.concat([
          PREFACE,
          frame(SETTINGS, 0, 0, Buffer.alloc(0)),
          frame(HEADERS, END_HEADERS, STREAM, headerBlock),
          frame(DATA, END_STREAM, STREAM, grpcMessage(request)),
        ]),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 9) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < 9 + length) break;
        const type = pending.readUInt8(3);
        const flags = pending.readUInt8(4);
        const streamId = pending.readUInt32BE(5) & 0x7fffffff;
        const payload = pending.subarray(9, 9 + length);
        pending = pending.subarray(9 + length);
        if (type === SETTINGS && (flags & ACK) === 0) socket.write(frame(SETTINGS, ACK, 0, Buffer.alloc(0)));
        else if (type === PING && (flags & ACK) === 0) socket.write(frame(PING, ACK, 0, payload));
        else if (type === GOAWAY) finish('closed');
        else if (streamId === STREAM && type === DATA) body.push(Buffer.from(payload));
        else if (streamId === STREAM && type === RST_STREAM) finish('reset');
        else if (streamId === STREAM && type === HEADERS && (flags & END_STREAM) !== 0) finish('trailers');
      }
    });
  });
}
