import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_INCLUDE_DIR, findAuth } from '../../src/index.ts';
import { outcomeOf, type Outcome } from './calls.ts';
import type { EchoReply } from './echo-server.ts';

/** The Shop fixture: one service whose access policy is declared in the .proto (see the file). */
export const SHOP_PROTO = fileURLToPath(new URL('../fixtures/policy/shop.proto', import.meta.url));
export const shopPackageDefinition = protoLoader.loadSync(SHOP_PROTO, { includeDirs: [PROTO_INCLUDE_DIR] });
const loaded = grpc.loadPackageDefinition(shopPackageDefinition) as any;
export const ShopService: grpc.ServiceDefinition = loaded.test.shop.v1.Shop.service;
const ShopClient: grpc.ServiceClientConstructor = loaded.test.shop.v1.Shop;

type Kind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

/** Every Shop method and its call kind. */
export const SHOP_METHODS = {
  ListProducts: 'serverStream',
  GetCart: 'unary',
  GetOrder: 'unary',
  WatchOrders: 'serverStream',
  ImportOrders: 'clientStream',
  Chat: 'bidi',
  Support: 'bidi',
  DeleteAll: 'unary',
  Whoami: 'unary',
} as const satisfies Record<string, Kind>;

export type ShopMethod = keyof typeof SHOP_METHODS;
export type ShopRuns = Record<ShopMethod, number>;

/** The full gRPC path of a Shop method. */
export const shopPath = (method: ShopMethod): string => `/test.shop.v1.Shop/${method}`;

function reply(call: { metadata: grpc.Metadata }, text: string, count = 0): EchoReply {
  const auth = findAuth(call);
  return { text, subject: auth?.subject ?? '', scopes: [...(auth?.scopes ?? [])], count };
}

/** One handler per method, by call kind; each counts its runs, so a refused call must leave it at 0. */
function shopImplementation(runs: ShopRuns): grpc.UntypedServiceImplementation {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [method, kind] of Object.entries(SHOP_METHODS) as Array<[ShopMethod, Kind]>) {
    const count = (): void => {
      runs[method] += 1;
    };
    if (kind === 'unary') {
      implementation[method] = (call: grpc.ServerUnaryCall<EchoReply, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
        count();
        callback(null, reply(call, call.request.text));
      };
    } else if (kind === 'serverStream') {
      implementation[method] = (call: grpc.ServerWritableStream<EchoReply, EchoReply>) => {
        count();
        for (let i = 0; i < 2; i++) call.write(reply(call, `${call.request.text}#${i}`, i));
        call.end();
      };
    } else if (kind === 'clientStream') {
      implementation[method] = (call: grpc.ServerReadableStream<EchoReply, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
        count();
        const texts: string[] = [];
        call.on('data', (message: EchoReply) => texts.push(message.text));
        call.on('end', () => callback(null, reply(call, texts.join(','), texts.length)));
      };
    } else {
      implementation[method] = (call: grpc.ServerDuplexStream<EchoReply, EchoReply>) => {
        count();
        let n = 0;
        call.on('data', (message: EchoReply) => call.write(reply(call, message.text, n++)));
        call.on('end', () => call.end());
      };
    }
  }
  return implementation;
}

export interface ShopServer {
  readonly runs: ShopRuns;
  /** Calls a Shop method of any kind with the given metadata, sending `texts` (one for unary and server-streaming). */
  call(method: ShopMethod, metadata: grpc.Metadata, texts?: readonly string[]): Promise<Outcome>;
  close(): Promise<void>;
}

/** Starts a real grpc-js server with the Shop service on 127.0.0.1:0. */
export async function startShopServer(interceptors: grpc.ServerInterceptor[]): Promise<ShopServer> {
  const runs = Object.fromEntries(Object.keys(SHOP_METHODS).map((method) => [method, 0])) as ShopRuns;
  const server = new grpc.Server({ interceptors });
  server.addService(ShopService, shopImplementation(runs));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  const client = new ShopClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;

  function call(method: ShopMethod, metadata: grpc.Metadata, texts: readonly string[] = ['a', 'b']): Promise<Outcome> {
    const kind: Kind = SHOP_METHODS[method];
    return new Promise((resolve) => {
      const done = (error: grpc.ServiceError | null, replyValue?: EchoReply): void => resolve(outcomeOf(error, replyValue ? [replyValue] : []));
      if (kind === 'unary') {
        client[method]({ text: texts[0] }, metadata, done);
        return;
      }
      if (kind === 'clientStream') {
        const stream = client[method](metadata, done);
        for (const text of texts) stream.write({ text });
        stream.end();
        return;
      }
      const stream = kind === 'serverStream' ? client[method]({ text: texts[0] }, metadata) : client[method](metadata);
      const replies: EchoReply[] = [];
      stream.on('data', (message: EchoReply) => replies.push(message));
      stream.on('error', (error: grpc.ServiceError) => resolve(outcomeOf(error, replies)));
      stream.on('status', (status: grpc.StatusObject) => {
        if (status.code === grpc.status.OK) resolve(outcomeOf(null, replies));
      });
      if (kind === 'bidi') {
        for (const text of texts) stream.write({ text });
        stream.end();
      }
    });
  }

  return {
    runs,
    call,
    async close() {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
