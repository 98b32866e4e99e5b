/**
 * Loaded with `--import` before anything else: `require('@opentelemetry/api')` (how the library loads
 * it) gets a module shaped like @opentelemetry/api 1.2, older than the peer range: tracing, context and
 * propagation, but no metrics api yet (added in 1.3). What a project has when another package pulled in
 * an old copy, which npm, pnpm or yarn may leave in place of the optional peer with only a warning.
 */
import Module, { createRequire } from 'node:module';

type Resolve = (this: unknown, request: string, ...rest: unknown[]) => string;
const internals = Module as unknown as { _resolveFilename: Resolve; _cache: Record<string, unknown> };
const real = createRequire(import.meta.url)('@opentelemetry/api') as Record<string, unknown>;
const { metrics: _metrics, createNoopMeter: _createNoopMeter, ValueType: _valueType, ...before13 } = real;
const path = '/virtual/node_modules/@opentelemetry/api-1.2/index.js';
const old = new Module(path);
Object.assign(old, { filename: path, loaded: true, exports: before13 });
internals._cache[path] = old;
const resolve = internals._resolveFilename;
internals._resolveFilename = function (request, ...rest) {
  return request === '@opentelemetry/api' ? path : resolve.call(this, request, ...rest);
};
