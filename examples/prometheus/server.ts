/**
 * The example's server: a Greeter behind the auth interceptor, keys from a (loopback) identity provider
 * by discovery, and `/metrics` for Prometheus on loopback. `main.ts` runs it; the test suite boots it too.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createAuthInterceptor, fromIssuer, getAuth } from 'grpc-jwt-auth';
import { authMetrics } from './auth-metrics.ts';

export interface MetricsExample {
  /** The gRPC server's address, `127.0.0.1:<port>`. */
  readonly address: string;
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly metricsUrl: string;
  close(): Promise<void>;
}

const protoPath = fileURLToPath(new URL('../quickstart/greeter.proto', import.meta.url));
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as any;

/** Starts the server of an API whose tokens `issuer` signs for `audience`. */
export async function startMetricsExample(issuer: string, audience: string): Promise<MetricsExample> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = authMetrics(registry);
  const keys = fromIssuer(issuer);
  const stopWatching = metrics.watchKeys(keys); // before ready(): the first fetch counts too
  const auth = createAuthInterceptor({
    keys,
    algorithms: ['ES256'],
    issuer,
    audience,
    onAuthenticated: metrics.onAuthenticated,
    onRejected: metrics.onRejected,
    telemetry: false, // Prometheus only, from the hooks; no OpenTelemetry
  });
  metrics.readStatus(() => auth.status());

  const server = new grpc.Server({ interceptors: [auth] });
  server.addService(proto.helloworld.Greeter.service, {
    SayHello(call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<{ message: string }>) {
      callback(null, { message: `Hello ${call.request.name}, you are ${getAuth(call).subject}` });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  await auth.ready();

  // In production: a separate port that only the Prometheus scraper can reach.
  const http: HttpServer = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

  return {
    address: `127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/metrics`,
    async close() {
      stopWatching();
      auth.close();
      server.forceShutdown();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A Greeter client of the example's server. */
export function greeterClient(address: string): grpc.Client & Record<string, any> {
  return new proto.helloworld.Greeter(address, grpc.credentials.createInsecure());
}
