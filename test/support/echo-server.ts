import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createAuthInterceptor, findAuth, type AuthInterceptor, type AuthInterceptorOptions } from '../../src/index.ts';

export const ECHO_PROTO = fileURLToPath(new URL('../fixtures/echo.proto', import.meta.url));

const packageDefinition = protoLoader.loadSync(ECHO_PROTO, { keepCase: true, defaults: true });
const loaded = grpc.loadPackageDefinition(packageDefinition) as any;
export const EchoService: grpc.ServiceDefinition = loaded.test.echo.v1.Echo.service;
export const PublicService: grpc.ServiceDefinition = loaded.test.echo.v1.Public.service;
export const EchoClient: grpc.ServiceClientConstructor = loaded.test.echo.v1.Echo;
export const PublicClient: grpc.ServiceClientConstructor = loaded.test.echo.v1.Public;
export { packageDefinition as echoPackageDefinition };

export const METHODS = {
  unary: '/test.echo.v1.Echo/Unary',
  serverStream: '/test.echo.v1.Echo/ServerStream',
  clientStream: '/test.echo.v1.Echo/ClientStream',
  bidi: '/test.echo.v1.Echo/Bidi',
  ping: '/test.echo.v1.Public/Ping',
} as const;

export interface EchoReply {
  text: string;
  subject: string;
  scopes: string[];
  count: number;
}

/** Counts handler runs per method: a refused call must leave its counter untouched. */
export type HandlerRuns = Record<keyof typeof METHODS, number>;

function describe(call: { metadata: grpc.Metadata }, text: string, count = 0): EchoReply {
  const auth = findAuth(call);
  return { text, subject: auth?.subject ?? '', scopes: [...(auth?.scopes ?? [])], count };
}

/**
 * The default Echo implementation. A server-streaming request with text `hold` writes one reply and
 * then keeps the stream open until the call ends (for stream-expiry tests).
 */
export function echoImplementation(runs: HandlerRuns): grpc.UntypedServiceImplementation {
  return {
    Unary(call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.unary += 1;
      callback(null, describe(call, call.request.text));
    },
    ServerStream(call: grpc.ServerWritableStream<any, EchoReply>) {
      runs.serverStream += 1;
      if (call.request.text === 'hold') {
        call.write(describe(call, 'held'));
        const tick = setInterval(() => {
          if (!call.cancelled && call.writable) call.write(describe(call, 'tick'));
        }, 20);
        const stop = (): void => clearInterval(tick);
        call.on('cancelled', stop);
        call.on('close', stop);
        call.on('finish', stop);
        call.on('error', stop);
        return;
      }
      for (let i = 0; i < 3; i++) call.write(describe(call, `${call.request.text}#${i}`, i));
      call.end();
    },
    ClientStream(call: grpc.ServerReadableStream<any, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.clientStream += 1;
      const texts: string[] = [];
      call.on('data', (message: { text: string }) => texts.push(message.text));
      call.on('end', () => callback(null, describe(call, texts.join(','), texts.length)));
    },
    Bidi(call: grpc.ServerDuplexStream<any, EchoReply>) {
      runs.bidi += 1;
      let count = 0;
      call.on('data', (message: { text: string }) => {
        if (message.text === 'hold') return;
        call.write(describe(call, message.text, count++));
      });
      call.on('end', () => call.end());
    },
  };
}

export interface EchoServer {
  readonly server: grpc.Server;
  readonly port: number;
  readonly address: string;
  readonly runs: HandlerRuns;
  /** An Echo client on an insecure loopback channel. */
  readonly client: grpc.Client & Record<string, any>;
  /** A Public service client. */
  readonly publicClient: grpc.Client & Record<string, any>;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly interceptors?: grpc.ServerInterceptor[];
  readonly serverOptions?: grpc.ServerOptions;
  readonly credentials?: grpc.ServerCredentials;
  readonly clientCredentials?: grpc.ChannelCredentials;
  readonly clientOptions?: grpc.ClientOptions;
  readonly implementation?: (runs: HandlerRuns) => grpc.UntypedServiceImplementation;
}

/** Starts a real grpc-js server with the Echo and Public services on 127.0.0.1:0. */
export async function startEchoServer(options: StartOptions = {}): Promise<EchoServer> {
  const runs: HandlerRuns = { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 };
  const server = new grpc.Server({ ...options.serverOptions, interceptors: options.interceptors ?? [] });
  server.addService(EchoService, (options.implementation ?? echoImplementation)(runs));
  server.addService(PublicService, {
    Ping(call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.ping += 1;
      callback(null, describe(call, 'pong'));
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    );
  });
  const address = `127.0.0.1:${port}`;
  const channelCredentials = options.clientCredentials ?? grpc.credentials.createInsecure();
  const client = new EchoClient(address, channelCredentials, options.clientOptions) as grpc.Client & Record<string, any>;
  const publicClient = new PublicClient(address, channelCredentials, options.clientOptions) as grpc.Client & Record<string, any>;
  return {
    server,
    port,
    address,
    runs,
    client,
    publicClient,
    async close() {
      client.close();
      publicClient.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/**
 * Runs `body` against an echo server whose only interceptor is `createAuthInterceptor(options)`, then
 * closes both, whatever `body` does: the shape of a test that needs its own interceptor.
 */
export async function withAuthServer(options: AuthInterceptorOptions, body: (echo: EchoServer, auth: AuthInterceptor) => Promise<void>): Promise<void> {
  const auth = createAuthInterceptor(options);
  const echo = await startEchoServer({ interceptors: [auth] });
  try {
    await body(echo, auth);
  } finally {
    await echo.close();
    auth.close();
  }
}
