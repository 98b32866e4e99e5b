/**
 * `@opentelemetry/api` is an optional peer dependency: the built package (dist/, as `npm run build`
 * makes it for publishing) in a project where the api cannot be resolved at all. A TypeScript consumer that uses the
 * telemetry option's types type-checks with `skipLibCheck: false` (no published declaration reachable
 * from an entry names the api), and the package loads and serves real calls, with a meter provider of
 * the user's own still receiving the decisions.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildDist } from '../support/packed-package.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
/** What the built package and the consumer need, and nothing of OpenTelemetry. */
const LINKED = ['@grpc/grpc-js', 'jose', 'typescript', '@types/node'];

describe('packaging: the built package where @opentelemetry/api is not installed', { timeout: 180_000 }, () => {
  let scratch = '';
  let project = '';

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grpc-jwt-auth-no-otel-'));
    project = join(scratch, 'project');
    const installed = join(project, 'node_modules', 'grpc-jwt-auth');
    await mkdir(installed, { recursive: true });
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await cp(join(root, 'package.json'), join(installed, 'package.json'));
    // Built as for publishing (bundles + declarations) on a copy: the working tree's dist/ is left alone.
    await buildDist(join(installed, 'dist'));
    for (const name of LINKED) {
      const target = join(project, 'node_modules', name);
      await mkdir(join(target, '..'), { recursive: true });
      await symlink(join(root, 'node_modules', name), target, 'dir');
    }
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('the scratch project cannot resolve @opentelemetry/api (the premise)', () => {
    const resolve = createRequire(join(project, 'node_modules', 'grpc-jwt-auth', 'dist', 'index.js')).resolve;
    assert.throws(() => resolve('@opentelemetry/api'), { code: 'MODULE_NOT_FOUND' });
  });

  it('a consumer using TelemetryOptions, MeterProviderLike, TracerProviderLike and METRIC_NAMES type-checks with skipLibCheck false', async () => {
    await writeFile(
      join(project, 'consumer.ts'),
      `import { createAuthInterceptor, fromJwks, METRIC_NAMES, type MeterProviderLike, type TelemetryOptions, type TracerProviderLike } from 'grpc-jwt-auth';
const meterProvider: MeterProviderLike = { getMeter: () => ({}) };
const tracerProvider: TracerProviderLike = { getTracer: () => ({}) };
const telemetry: TelemetryOptions = { meterProvider, tracerProvider, recordSubject: false };
export const auth = createAuthInterceptor({ keys: fromJwks('https://idp.example/jwks.json'), algorithms: ['RS256'], telemetry });
export const off = createAuthInterceptor({ keys: fromJwks('https://idp.example/jwks.json'), algorithms: ['RS256'], telemetry: false });
export const name: string = METRIC_NAMES.decisions;
`,
    );
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          noEmit: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    await run(process.execPath, [tsc, '-p', project], { cwd: project });
  });

  it('import, default telemetry (off: nothing to load), real calls admitted and refused; a meter provider of your own still counts them', async () => {
    const script = `
      import * as grpc from '@grpc/grpc-js';
      import { createAuthInterceptor } from 'grpc-jwt-auth';
      import { createTestIssuer } from 'grpc-jwt-auth/testing';
      const counted = [];
      const instrument = { add: (value, attributes) => counted.push(attributes.outcome + ' ' + attributes.reason), record: () => undefined };
      const meter = {
        createCounter: () => instrument, createHistogram: () => instrument, createObservableGauge: () => ({}),
        addBatchObservableCallback: () => undefined, removeBatchObservableCallback: () => undefined,
      };
      const idp = await createTestIssuer({ alg: 'ES256' });
      const byDefault = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'] });
      const own = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], telemetry: { meterProvider: { getMeter: () => meter } } });
      const bytes = { requestStream: false, responseStream: false, requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b };
      const codes = [];
      for (const auth of [byDefault, own]) {
        const server = new grpc.Server({ interceptors: [auth] });
        server.addService({ Echo: { ...bytes, path: '/scratch.Echo/Echo' } }, { Echo: (call, callback) => callback(null, call.request) });
        const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
        const client = new grpc.Client('127.0.0.1:' + port, grpc.credentials.createInsecure());
        const call = (metadata) => new Promise((resolve) => client.makeUnaryRequest('/scratch.Echo/Echo', (b) => b, (b) => b, Buffer.from('hi'), metadata, (error) => resolve(error ? error.code : 0)));
        const withToken = new grpc.Metadata();
        withToken.set('authorization', 'Bearer ' + (await idp.sign()));
        codes.push(await call(withToken), await call(new grpc.Metadata()));
        client.close();
        await new Promise((resolve) => server.tryShutdown(resolve));
        auth.close();
      }
      console.log(JSON.stringify({ codes, counted }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project, timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout.trim()), { codes: [0, 16, 0, 16], counted: ['admitted OK', 'refused TOKEN_MISSING'] });
  });
});
