import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How one path answers a request. */
export type Reply = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A loopback HTTP server playing an identity provider with faults on demand (slow, 500, non-JSON, huge,
 * redirect, hanging). Counts every request per path. `close()` drops open connections and timers, so a
 * hanging reply never keeps a test alive.
 */
export interface FakeProvider {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Sets how `path` answers from now on. Unset paths answer 404. */
  on(path: string, reply: Reply): void;
  /** Requests received for `path`. */
  count(path: string): number;
  /** Requests received in all. */
  total(): number;
  close(): Promise<void>;
}

/** 200 with a JSON body (evaluated per request, so a changing key set shows at once). */
export function json(body: unknown | (() => unknown), headers: Record<string, string> = {}): Reply {
  return (_request, response) => {
    const value = typeof body === 'function' ? (body as () => unknown)() : body;
    response.writeHead(200, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(value));
  };
}

/** A status with a short text body. */
export function status(code: number, body = 'error', headers: Record<string, string> = {}): Reply {
  return (_request, response) => {
    response.writeHead(code, { 'content-type': 'text/plain', ...headers });
    response.end(body);
  };
}

/** 200 with a body that is not JSON. */
export function text(body: string, contentType = 'application/json'): Reply {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': contentType });
    response.end(body);
  };
}

/** A redirect to `location`. */
export function redirect(location: string, code = 302): Reply {
  return (_request, response) => {
    response.writeHead(code, { location });
    response.end();
  };
}

/** Never answers (until the provider closes). */
export function hang(): Reply {
  return () => undefined;
}

/** Answers with `reply` after `ms`. */
export function delayed(ms: number, reply: Reply): Reply {
  return (request, response) => {
    const timer = setTimeout(() => reply(request, response), ms);
    // close() drops the connection: the timer must not outlive it.
    response.on('close', () => clearTimeout(timer));
  };
}

/**
 * A `bytes`-long body that starts like a JWKS, written in chunks with back-pressure; stops when the
 * client goes away. With `declareLength` the size is announced in `content-length`, else it is chunked.
 */
export function huge(bytes: number, declareLength: boolean): Reply {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', ...(declareLength ? { 'content-length': String(bytes) } : {}) });
    const filler = Buffer.alloc(64 * 1024, 0x20);
    const head = Buffer.concat([Buffer.from('{"keys":['), filler.subarray(9)]);
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes && !response.destroyed) {
        const piece = sent === 0 ? head : filler;
        const size = Math.min(piece.byteLength, bytes - sent);
        sent += size;
        if (!response.write(piece.subarray(0, size))) {
          response.once('drain', pump);
          return;
        }
      }
      if (!response.destroyed) response.end();
    };
    response.on('error', () => undefined);
    pump();
  };
}

/** Starts a fake provider on 127.0.0.1, port 0. */
export async function startFakeProvider(): Promise<FakeProvider> {
  const counts = new Map<string, number>();
  const replies = new Map<string, Reply>();
  let total = 0;
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    total += 1;
    (replies.get(path) ?? status(404, 'not found'))(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    on: (path, reply) => void replies.set(path, reply),
    count: (path) => counts.get(path) ?? 0,
    total: () => total,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
