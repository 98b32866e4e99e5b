import type { Attributes } from '@opentelemetry/api';

/**
 * A gRPC method path as the OpenTelemetry RPC conventions name it: `rpc.system`, `rpc.service` and
 * `rpc.method` (the method's own name), the attributes `@opentelemetry/instrumentation-grpc` uses too.
 *
 * @example
 * ```ts
 * rpcAttributes('/acme.orders.v1.Orders/GetOrder'); // { 'rpc.system': 'grpc', 'rpc.service': 'acme.orders.v1.Orders', 'rpc.method': 'GetOrder' }
 * ```
 */
export function rpcAttributes(path: string): Attributes {
  const slash = path.lastIndexOf('/');
  return { 'rpc.system': 'grpc', 'rpc.service': path.slice(1, slash), 'rpc.method': path.slice(slash + 1) };
}
