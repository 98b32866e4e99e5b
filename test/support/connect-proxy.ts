import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** A running HTTP CONNECT proxy on 127.0.0.1 that records everything it tunnels. */
export interface ConnectProxy {
  /** `http://127.0.0.1:<port>`, the value for `grpc_proxy`, `https_proxy` or `http_proxy`. */
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted so far, tunnelled or not. */
  readonly connections: number;
  /** The `host:port` of every CONNECT request, in order. */
  readonly tunnels: readonly string[];
  /** Every byte the client sent into a tunnel, in order. */
  sent(): Buffer;
  close(): Promise<void>;
}

export interface ConnectProxyOptions {
  /**
   * Where every tunnel really goes, whatever host the client asked for: lets a test stand in a local
   * server for a remote host. Default: the host and port of the CONNECT request.
   */
  readonly upstream?: { readonly host: string; readonly port: number };
}

function splitAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
  return match ? { host: match[1] ?? '', port: Number(match[2]) } : undefined;
}

/**
 * Starts a real HTTP CONNECT proxy on a loopback port, as a corporate proxy or a local proxy agent
 * would run. It pipes each tunnel to its target and keeps a copy of what the client sent through it,
 * so a test can show that a plaintext token crossed it.
 *
 * @example
 * ```ts
 * const proxy = await startConnectProxy();
 * process.env.grpc_proxy = proxy.url;
 * // ... make a call ...
 * assert.deepEqual(proxy.tunnels, []);
 * await proxy.close();
 * ```
 */
export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((_request, response) => {
    response.writeHead(405).end();
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
    const authority = request.url ?? '';
    tunnels.push(authority);
    const target = options.upstream ?? splitAuthority(authority);
    if (target === undefined) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const upstream = connect(target.port, target.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) {
        chunks.push(head);
        upstream.write(head);
      }
      client.on('data', (chunk: Buffer) => chunks.push(chunk));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    tunnels,
    sent: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
