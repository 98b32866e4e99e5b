/**
 * Child process of telemetry-absent-api.test.ts, run with hide-otel-api.ts loaded first: real calls
 * through an interceptor with telemetry left at its default, in a process where `@opentelemetry/api`
 * cannot be loaded. Prints one JSON line: what it found.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { startTelemetry } from '../../src/telemetry/call-telemetry.ts';
import { bearer, unary } from './calls.ts';
import { startEchoServer } from './echo-server.ts';

let apiLoadable: boolean;
try {
  createRequire(import.meta.url)('@opentelemetry/api');
  apiLoadable = true;
} catch {
  apiLoadable = false;
}
const idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], audience: 'echo-api' });
const echo = await startEchoServer({ interceptors: [auth] });
const admitted = (await unary(echo.client, bearer(grpc.Metadata, await idp.sign({ sub: 'alice' })))).code;
const refused = (await unary(echo.client, new grpc.Metadata())).code;
await echo.close();
auth.close();
const telemetryByDefault = startTelemetry(undefined, [idp.keys], () => auth.status()) === undefined ? 'off' : 'on';
process.stdout.write(`${JSON.stringify({ apiLoadable, admitted, refused, telemetryByDefault })}\n`);
