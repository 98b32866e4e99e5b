/**
 * The orders service as a NestJS gRPC microservice, authenticated by grpc-jwt-auth.
 *
 * Nest's gRPC transport builds its grpc-js server as `new Server({ ...channelOptions, ...keepalive })`,
 * so the interceptor goes in `channelOptions.interceptors`: every call is authenticated and authorized
 * before Nest routes it, refusals keep their status and trailers, and no Nest guard is needed. The same
 * option works for a hybrid app (`app.connectMicroservice({ transport: Transport.GRPC, options })`).
 */
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { createAuthInterceptor, requireScopes, type Algorithm, type KeyResolver } from 'grpc-jwt-auth';
import { OrdersController } from './orders-controller.ts';

/** The proto file, for clients. */
export const ORDERS_PROTO = fileURLToPath(new URL('./orders.proto', import.meta.url));

@Module({ controllers: [OrdersController] })
export class OrdersModule {}

/** Where the app's tokens come from: production passes `fromIssuer(...)`, tests the test issuer's keys. */
export interface OrdersAppOptions {
  readonly keys: KeyResolver;
  readonly algorithms: readonly Algorithm[];
  readonly issuer: string;
  readonly audience: string;
}

/** A running orders app. */
export interface OrdersApp {
  /** The loopback port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the orders app on a free loopback port.
 *
 * @example
 * ```ts
 * const app = await startOrdersApp({ keys: fromIssuer('https://idp.example/'), algorithms: ['RS256'], issuer: 'https://idp.example/', audience: 'orders-api' });
 * ```
 */
export async function startOrdersApp(options: OrdersAppOptions): Promise<OrdersApp> {
  const auth = createAuthInterceptor({
    ...options,
    rules: {
      '/demo.orders.v1.Orders/GetOrder': requireScopes('orders:read'),
      '/demo.orders.v1.Orders/WatchOrders': requireScopes('orders:read'),
      '/demo.orders.v1.Orders/ImportOrders': requireScopes('orders:write'),
    },
    defaultRule: 'deny',
  });
  // Nest does not report the port grpc-js bound, so ask the system for a free one first; another
  // process may take it in between, hence a few attempts.
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(OrdersModule, {
      transport: Transport.GRPC,
      logger: ['error', 'warn'],
      options: {
        url: `127.0.0.1:${port}`,
        package: 'demo.orders.v1',
        protoPath: ORDERS_PROTO,
        channelOptions: { interceptors: [auth] },
      },
    });
    try {
      await app.listen();
    } catch (error) {
      await app.close();
      if (attempt < 3) continue;
      auth.close();
      throw error;
    }
    return {
      port,
      async close() {
        await app.close();
        auth.close();
      },
    };
  }
}

/** A port no one listens on right now. */
async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
