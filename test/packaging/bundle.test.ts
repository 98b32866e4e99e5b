/**
 * The bundled package as a user installs it (`npm pack`, whose `prepack` runs the esbuild build, then
 * the tarball installed into a scratch project): the three importable entries share one copy of each
 * module, dist/ holds only files the entries load, the bundles import only jose, grpc-js and node's
 * builtins (redis and the OpenTelemetry api stay lazy), and the paths the code computes from its own
 * location (the bundled .proto, the CLI's version) still land in the package.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { installPackedPackage, type ScratchProject } from '../support/packed-package.ts';

const run = promisify(execFile);
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const root = fileURLToPath(new URL('../../', import.meta.url));
/** The files the exports map and the bin point at. */
const ENTRIES = ['dist/index.js', 'dist/client/index.js', 'dist/testing/index.js', 'dist/cli/main.js'];
/** `from "x"`, `import "x"` and `import("x")` of an emitted module: every specifier it loads. */
const SPECIFIERS = /(?:\bfrom\s*|^import\s*|\bimport\s*\(\s*)"([^"]+)"/gm;

describe('packaging: the bundled entries', { timeout: 240_000 }, () => {
  let dir = '';
  let installed = '';
  let files: readonly string[] = [];
  let project: ScratchProject | undefined;
  const source = (file: string) => readFile(join(installed, file), 'utf8');
  const specifiers = async (file: string) => [...(await source(file)).matchAll(SPECIFIERS)].map((match) => match[1] as string);
  const node = async (script: string) => (await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, timeout: 60_000 })).stdout.trim();

  before(async () => {
    project = await installPackedPackage(['@grpc/grpc-js']);
    ({ dir, files } = project);
    installed = join(dir, 'node_modules', 'grpc-jwt-auth');
  });
  after(() => project?.remove());

  it('one copy of each module across entries: what grpc-jwt-auth/testing throws or attaches is the main entry’s', async () => {
    const script = `
      import { AuthConfigError, AuthError, findAuth, requireScopes, withGuard } from 'grpc-jwt-auth';
      import { anonymousCall, authenticatedCall, createTestIssuer } from 'grpc-jwt-auth/testing';
      const idp = await createTestIssuer({ alg: 'ES256' });
      const refused = await authenticatedCall(idp, { verify: { audience: 'someone-else' } }).catch((error) => error);
      let misconfigured;
      try { anonymousCall({ method: 'not a path' }); } catch (error) { misconfigured = error; }
      const call = await authenticatedCall(idp, { claims: { sub: 'alice', scope: 'orders:read' } });
      withGuard(requireScopes('orders:admin'), (_call, callback) => callback(null, {}))(call, call.respond);
      console.log(JSON.stringify({
        authError: refused instanceof AuthError, code: refused.code,
        configError: misconfigured instanceof AuthConfigError,
        subject: findAuth(call)?.subject ?? null,
        guardedCode: (await call.result).code,
      }));`;
    assert.deepEqual(JSON.parse(await node(script)), {
      authError: true,
      code: 'ERR_AUTH_AUDIENCE_INVALID',
      configError: true,
      subject: 'alice',
      guardedCode: 7,
    });
  });

  it('dist holds the entries, the chunks they import and the declarations: no other .js file', async () => {
    const shipped = new Set(files.filter((file) => file.endsWith('.js')));
    const loaded = new Set<string>();
    const pending = [...ENTRIES];
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      assert.ok(shipped.has(file), `${file} is imported but not in the tarball`);
      if (loaded.has(file)) continue;
      loaded.add(file);
      for (const specifier of await specifiers(file)) if (specifier.startsWith('.')) pending.push(posix.join(posix.dirname(file), specifier));
    }
    assert.deepEqual([...shipped].sort(), [...loaded].sort());
    for (const file of files) assert.match(file, /^(dist\/.*\.(js|d\.ts)|proto\/.*\.proto|README\.md|LICENSE|package\.json)$/, file);
  });

  it('the bundles import only jose, @grpc/grpc-js and node: builtins; redis and @opentelemetry/api are required only when used', async () => {
    const imported = new Set<string>();
    for (const file of files.filter((name) => name.endsWith('.js'))) {
      for (const specifier of await specifiers(file)) if (!specifier.startsWith('.')) imported.add(specifier.startsWith('node:') ? 'node:' : specifier);
    }
    assert.deepEqual([...imported].sort(), ['@grpc/grpc-js', 'jose', 'node:']);
    // Not installed in the scratch project (optional peers): importing every entry still works.
    const { stdout } = await run(process.execPath, ['-e', "require.resolve('redis')"], { cwd: dir }).catch((error: { stderr: string }) => ({
      stdout: error.stderr,
    }));
    assert.match(stdout, /Cannot find module 'redis'/);
    assert.equal(
      await node(`for (const e of ['grpc-jwt-auth', 'grpc-jwt-auth/client', 'grpc-jwt-auth/testing']) await import(e); console.log('loaded');`),
      'loaded',
    );
  });

  it('every exported function and class keeps its name (esbuild renames colliding top-level names; keepNames is off)', async () => {
    const script = `
      const renamed = [];
      for (const entry of ['grpc-jwt-auth', 'grpc-jwt-auth/client', 'grpc-jwt-auth/testing']) {
        for (const [name, value] of Object.entries(await import(entry))) if (typeof value === 'function' && value.name !== name) renamed.push(entry + ' ' + name + ' → ' + value.name);
      }
      console.log(JSON.stringify(renamed));`;
    assert.deepEqual(JSON.parse(await node(script)), []);
  });

  it('PROTO_INCLUDE_DIR is the installed package’s proto/ directory, with grpc_jwt_auth/v1/auth.proto', async () => {
    const script = `
      import { existsSync } from 'node:fs';
      import { join } from 'node:path';
      import { PROTO_INCLUDE_DIR } from 'grpc-jwt-auth';
      console.log(JSON.stringify({ dir: PROTO_INCLUDE_DIR, found: existsSync(join(PROTO_INCLUDE_DIR, 'grpc_jwt_auth', 'v1', 'auth.proto')) }));`;
    const { dir: protoDir, found } = JSON.parse(await node(script)) as { dir: string; found: boolean };
    assert.equal(protoDir, join(installed, 'proto'));
    assert.equal(found, true);
  });

  it('the bin keeps its hashbang and prints the package’s version', async () => {
    assert.match(await source('dist/cli/main.js'), /^#!\/usr\/bin\/env node\n/);
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    const { stdout } = await run(npx, ['--no-install', 'grpc-jwt-auth', '--version'], { cwd: dir, timeout: 30_000 });
    assert.equal(stdout.trim(), version);
  });
});
