/**
 * Review of the bundled build (issue 16): the packed package installed in a scratch project exports
 * exactly what the sources export, under every install layout PROTO_INCLUDE_DIR still lands in the
 * installed package's proto/, the bundled CLI runs every command's help and a sign → inspect round trip
 * with redis absent, and a stack trace from dist names readable code.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { installPackedPackage, type ScratchProject } from '../support/packed-package.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES = { 'grpc-jwt-auth': 'src/index.ts', 'grpc-jwt-auth/client': 'src/client/index.ts', 'grpc-jwt-auth/testing': 'src/testing/index.ts' };

describe('packaging review: the bundled entries as installed', { timeout: 300_000 }, () => {
  let dir = '';
  let installed = '';
  let project: ScratchProject | undefined;
  const node = async (script: string, cwd = dir) =>
    (await run(process.execPath, ['--input-type=module', '-e', script], { cwd, timeout: 60_000 })).stdout.trim();
  const cli = (args: readonly string[], cwd = dir) =>
    run(process.execPath, [join(installed, 'dist', 'cli', 'main.js'), ...args], { cwd, timeout: 30_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  before(async () => {
    project = await installPackedPackage(['@grpc/grpc-js']);
    dir = project.dir;
    installed = join(dir, 'node_modules', 'grpc-jwt-auth');
  });
  after(() => project?.remove());

  it('each entry exports exactly the runtime names of its source index, with the same kinds', async () => {
    const describeExports = (module: Record<string, unknown>) =>
      Object.fromEntries(
        Object.keys(module)
          .sort()
          .map((name) => [name, typeof module[name]]),
      );
    for (const [entry, file] of Object.entries(ENTRIES)) {
      const fromSource = describeExports((await import(join(root, file))) as Record<string, unknown>);
      const script = `const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.fromEntries(Object.keys(m).sort().map((n) => [n, typeof m[n]]))));`;
      assert.deepEqual(JSON.parse(await node(script)), fromSource, entry);
    }
  });

  it('instanceof across entries: client and testing throw the main entry’s AuthConfigError and AuthError classes', async () => {
    const script = `
      import { AuthConfigError, AuthError } from 'grpc-jwt-auth';
      import * as client from 'grpc-jwt-auth/client';
      import { anonymousCall, authenticatedCall, createTestIssuer } from 'grpc-jwt-auth/testing';
      const caught = (f) => { try { f(); } catch (error) { return error; } };
      const clientConfig = caught(() => client.cachedToken({ nonsense: 1 }));
      const testingConfig = caught(() => anonymousCall({ method: 'not a path' }));
      const idp = await createTestIssuer({ alg: 'ES256' });
      const refused = await authenticatedCall(idp, { verify: { audience: 'elsewhere' } }).catch((error) => error);
      console.log(JSON.stringify({
        sameClass: client.AuthConfigError === AuthConfigError,
        clientConfig: clientConfig instanceof AuthConfigError, testingConfig: testingConfig instanceof AuthConfigError,
        refused: refused instanceof AuthError,
      }));`;
    assert.deepEqual(JSON.parse(await node(script)), { sameClass: true, clientConfig: true, testingConfig: true, refused: true });
  });

  it('CLI: --version, --help, every command’s --help (redis not installed: revoke’s help still prints), exit 0', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal((await cli(['--version'])).stdout.trim(), version);
    for (const args of [['--help'], ['inspect', '--help'], ['sign', '--help'], ['serve-issuer', '--help'], ['revoke', '--help'], ['unrevoke', '--help']]) {
      const result = await cli(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, /Usage: grpc-jwt-auth/, args.join(' '));
    }
  });

  it('CLI: sign then inspect with the printed JWKS verifies the token (exit 0); another audience is refused (exit 1)', async () => {
    const signed = await cli(['sign', '--sub', 'alice', '--aud', 'orders-api', '--print-jwks']);
    assert.equal(signed.code, 0, signed.stderr);
    const [token = '', jwks = ''] = signed.stdout.trim().split('\n');
    await writeFile(join(dir, 'jwks.json'), jwks);
    const checked = await cli(['inspect', token, '--jwks', 'jwks.json', '--alg', 'ES256', '--aud', 'orders-api']);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /sub\s+alice/);
    const refused = await cli(['inspect', token, '--jwks', 'jwks.json', '--alg', 'ES256', '--aud', 'billing-api']);
    assert.equal(refused.code, 1);
  });

  it('PROTO_INCLUDE_DIR under another directory name, symlinked (npm link), and in a pnpm-like store: that copy’s proto/', async () => {
    const probe = (specifier: string) => `
      import { existsSync, realpathSync } from 'node:fs';
      import { join } from 'node:path';
      const { PROTO_INCLUDE_DIR } = await import(${JSON.stringify(specifier)});
      console.log(JSON.stringify({ dir: realpathSync(PROTO_INCLUDE_DIR), found: existsSync(join(PROTO_INCLUDE_DIR, 'grpc_jwt_auth', 'v1', 'auth.proto')) }));`;
    // Each layout in its own app beside the scratch project (npm must never see these trees: the last
    // test installs into the project), its dependencies symlinked from the project's node_modules.
    const app = async (name: string): Promise<string> => {
      const appDir = join(dir, '..', name);
      await mkdir(join(appDir, 'node_modules'), { recursive: true });
      await writeFile(join(appDir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
      return appDir;
    };
    const dependencies = async (nodeModules: string) => {
      for (const dependency of ['jose', '@grpc']) await symlink(join(dir, 'node_modules', dependency), join(nodeModules, dependency), 'dir');
    };
    // An npm alias (`"jwt-auth-alias": "npm:grpc-jwt-auth@…"`): the directory is not the package's name.
    const aliasApp = await app('alias-app');
    const aliased = join(aliasApp, 'node_modules', 'jwt-auth-alias');
    await cp(installed, aliased, { recursive: true });
    await dependencies(join(aliasApp, 'node_modules'));
    // npm link: the package lives elsewhere, a symlink in node_modules points at it.
    const linkApp = await app('link-app');
    const linkedReal = join(dir, '..', 'elsewhere', 'grpc-jwt-auth-checkout');
    await cp(installed, linkedReal, { recursive: true });
    await mkdir(join(linkedReal, 'node_modules'));
    await dependencies(join(linkedReal, 'node_modules'));
    await symlink(linkedReal, join(linkApp, 'node_modules', 'jwt-auth-linked'), 'dir');
    // pnpm: the real copy in node_modules/.pnpm/<name>@<version>/node_modules/<name>, its dependencies beside it.
    const pnpmApp = await app('pnpm-app');
    const store = join(pnpmApp, 'node_modules', '.pnpm', 'grpc-jwt-auth@0.0.0', 'node_modules');
    await mkdir(store, { recursive: true });
    await cp(installed, join(store, 'grpc-jwt-auth'), { recursive: true });
    await dependencies(store);
    await symlink(join(store, 'grpc-jwt-auth'), join(pnpmApp, 'node_modules', 'grpc-jwt-auth'), 'dir');
    const cases: Array<[string, string, string]> = [
      ['jwt-auth-alias', aliasApp, aliased],
      ['jwt-auth-linked', linkApp, linkedReal],
      ['grpc-jwt-auth', pnpmApp, join(store, 'grpc-jwt-auth')],
      ['grpc-jwt-auth', dir, installed],
    ];
    for (const [specifier, cwd, expected] of cases) {
      const { realpathSync } = await import('node:fs');
      assert.deepEqual(JSON.parse(await node(probe(specifier), cwd)), { dir: join(realpathSync(expected), 'proto'), found: true }, `${specifier} from ${cwd}`);
    }
  });

  it('PROTO_INCLUDE_DIR where the package’s own name does not resolve (a loader without self-reference): still the installed proto/, not node_modules/proto', async () => {
    // A resolve hook refusing the self-reference, as a runtime or loader that cannot resolve it would.
    const hook = `export async function resolve(specifier, context, next) {
      if (specifier === 'grpc-jwt-auth/package.json') throw Object.assign(new Error('no self-reference here'), { code: 'ERR_MODULE_NOT_FOUND' });
      return next(specifier, context);
    }`;
    await writeFile(
      join(dir, 'no-self-reference.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});\n`,
    );
    const script = `
      import { existsSync } from 'node:fs';
      import { join } from 'node:path';
      import { PROTO_INCLUDE_DIR } from 'grpc-jwt-auth';
      console.log(JSON.stringify({ dir: PROTO_INCLUDE_DIR, found: existsSync(join(PROTO_INCLUDE_DIR, 'grpc_jwt_auth', 'v1', 'auth.proto')) }));`;
    const { stdout } = await run(process.execPath, ['--import', './no-self-reference.mjs', '--input-type=module', '-e', script], { cwd: dir, timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout.trim()), { dir: join(installed, 'proto'), found: true });
  });

  it('a stack trace from dist names a readable line of the installed bundle', async () => {
    const script = `
      import { createAuthInterceptor } from 'grpc-jwt-auth';
      try { createAuthInterceptor({}); } catch (error) { console.log(JSON.stringify({ name: error.name, code: error.code, stack: error.stack })); }`;
    const { name, stack } = JSON.parse(await node(script)) as { name: string; stack: string };
    assert.equal(name, 'AuthConfigError');
    const frame = /\((?:file:\/\/)?([^()]*node_modules\/grpc-jwt-auth\/dist\/[^():]+\.js):(\d+):\d+\)/.exec(stack);
    assert.ok(frame, stack);
    const line = (await readFile(frame[1] as string, 'utf8')).split('\n')[Number(frame[2]) - 1] ?? '';
    assert.ok(line.length < 400, `not minified: ${line.slice(0, 200)}`);
    assert.match(line, /[a-z][A-Za-z]{3,}/);
  });
  it('redis absent: a Redis store is an AuthConfigError naming url; installed afterwards: the bundle loads it (a connection error instead)', async () => {
    const script = `
      import { AuthConfigError, createRedisReplayStore } from 'grpc-jwt-auth';
      try {
        const store = createRedisReplayStore({ url: 'redis://127.0.0.1:1', timeout: 0.2 });
        await store.close();
        console.log(JSON.stringify({ constructed: true }));
      } catch (error) { console.log(JSON.stringify({ config: error instanceof AuthConfigError, option: error.option })); }`;
    assert.deepEqual(JSON.parse(await node(script)), { config: true, option: 'url' });
    const { devDependencies } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        `redis@${devDependencies.redis}`,
        `@grpc/grpc-js@${devDependencies['@grpc/grpc-js']}`,
      ],
      { cwd: dir, timeout: 120_000 },
    );
    assert.deepEqual(JSON.parse(await node(script)), { constructed: true });
  });
});
