/**
 * `@opentelemetry/api` is an optional peer dependency: in a process where it cannot be resolved (a
 * resolution hook hides the installed copy), the interceptor loads, telemetry is off, and real calls are
 * admitted and refused as ever.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { runBounded } from '../support/bounded-run.ts';

const support = (file: string) => fileURLToPath(new URL(`../support/${file}`, import.meta.url));

describe('telemetry without @opentelemetry/api installed', () => {
  it('api unresolvable → the interceptor works, an admitted and a refused call as usual, telemetry off (no per-call work)', async () => {
    const { stdout } = await runBounded(process.execPath, ['--import', 'tsx', '--import', support('hide-otel-api.ts'), support('calls-without-otel-api.ts')], {
      timeout: 60_000,
    });
    const found = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    assert.deepEqual(found, { apiLoadable: false, admitted: grpc.status.OK, refused: grpc.status.UNAUTHENTICATED, telemetryByDefault: 'off' });
  });

  it('an @opentelemetry/api older than the peer range (1.2: no metrics api) → taken as absent: the interceptor is created, calls decided as usual', async () => {
    const { stdout } = await runBounded(process.execPath, ['--import', 'tsx', '--import', support('old-otel-api.ts'), support('calls-without-otel-api.ts')], {
      timeout: 60_000,
    });
    const found = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    assert.deepEqual(found, { apiLoadable: true, admitted: grpc.status.OK, refused: grpc.status.UNAUTHENTICATED, telemetryByDefault: 'off' });
  });
});
