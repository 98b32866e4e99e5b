/**
 * The published package as a user gets it: `npm pack`, install the tarball into a scratch project,
 * then import it with `import` and `require`, and type-check a TypeScript consumer against it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { installPackedPackage, type ScratchProject } from '../support/packed-package.ts';

const run = promisify(execFile);
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

describe('packaging: the tarball installs and works in a scratch project', { timeout: 240_000 }, () => {
  let dir = '';
  let files: readonly string[] = [];
  let project: ScratchProject | undefined;

  before(async () => {
    project = await installPackedPackage(['@grpc/grpc-js', 'typescript', '@types/node']);
    ({ dir, files } = project);
  });
  after(() => project?.remove());

  it('holds only what users need: dist, the .proto, README, LICENSE, package.json', () => {
    for (const file of files) assert.match(file, /^(dist\/.*\.(js|d\.ts)|proto\/.*\.proto|README\.md|LICENSE|package\.json)$/, file);
    const entries = ['dist/index', 'dist/client/index', 'dist/testing/index'].flatMap((entry) => [`${entry}.js`, `${entry}.d.ts`]);
    for (const needed of [...entries, 'proto/grpc_jwt_auth/v1/auth.proto', 'LICENSE', 'README.md']) assert.ok(files.includes(needed), needed);
  });

  it('import works for the three entry points; client names live only in grpc-jwt-auth/client', async () => {
    const script = `
      import * as server from 'grpc-jwt-auth';
      import { createAuthInterceptor, fromSecret, getAuth } from 'grpc-jwt-auth';
      import { clientCredentials, createTokenInterceptor, decodeErrorInfo } from 'grpc-jwt-auth/client';
      import { createTestIssuer } from 'grpc-jwt-auth/testing';
      const idp = await createTestIssuer({ alg: 'HS256' });
      const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] });
      const interceptor = createTokenInterceptor({ token: await idp.sign() });
      console.log(typeof auth, typeof getAuth, typeof fromSecret, typeof interceptor, typeof clientCredentials, typeof decodeErrorInfo);
      console.log(['clientCredentials', 'createTokenInterceptor', 'decodeErrorInfo', 'isTokenError'].filter((name) => name in server).join() || 'none');`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    assert.deepEqual(stdout.trim().split('\n'), ['function function function function function function', 'none']);
  });

  it('require works on Node >= 20.19, for the three entry points', async () => {
    const script = `const { createAuthInterceptor } = require('grpc-jwt-auth'); const { createTokenInterceptor } = require('grpc-jwt-auth/client'); const { createTestIssuer } = require('grpc-jwt-auth/testing'); console.log(typeof createAuthInterceptor, typeof createTokenInterceptor, typeof createTestIssuer);`;
    const { stdout } = await run(process.execPath, ['--no-warnings', '-e', script], { cwd: dir });
    assert.equal(stdout.trim(), 'function function function');
  });

  it('the bin runs from the installed tarball: npx grpc-jwt-auth --help, inspect of a signed token', async () => {
    const { stdout: help } = await run(npx, ['--no-install', 'grpc-jwt-auth', '--help'], { cwd: dir, timeout: 30_000 });
    for (const command of ['inspect', 'sign', 'serve-issuer']) assert.match(help, new RegExp(`^  ${command} `, 'm'), command);
    const { stdout: signed } = await run(npx, ['--no-install', 'grpc-jwt-auth', 'sign', '--sub', 'alice', '--json'], { cwd: dir, timeout: 30_000 });
    const { token } = JSON.parse(signed) as { token: string };
    const { stdout: inspected } = await run(npx, ['--no-install', 'grpc-jwt-auth', 'inspect', token, '--json'], { cwd: dir, timeout: 30_000 });
    assert.equal((JSON.parse(inspected) as { claims: { sub: string } }).claims.sub, 'alice');
  });

  it('only the entry points load: a deep import of dist/ is refused, so internals are not API', async () => {
    const script = `for (const spec of ['grpc-jwt-auth/dist/index.js', 'grpc-jwt-auth/dist/util/option-checks.js', 'grpc-jwt-auth/dist/cli/main.js']) {
      try { await import(spec); console.log('loaded', spec); } catch (error) { console.log(error.code); }
    }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    assert.deepEqual(stdout.trim().split('\n'), Array(3).fill('ERR_PACKAGE_PATH_NOT_EXPORTED'));
  });

  it('a TypeScript consumer type-checks against the published declarations', async () => {
    await writeFile(
      join(dir, 'consumer.ts'),
      `import { Server, type ServerUnaryCall } from '@grpc/grpc-js';
import { createAuthInterceptor, fromJwks, getAuth, requireScopes, type AuthContext, type JwtClaims } from 'grpc-jwt-auth';
import { clientCredentials, createTokenInterceptor, decodeErrorInfo, type ErrorInfo, type TokenSource } from 'grpc-jwt-auth/client';
import { createTestIssuer, type TestIssuer } from 'grpc-jwt-auth/testing';
// @ts-expect-error: the server entry does not list client names
import { clientCredentials as notOnServer } from 'grpc-jwt-auth';
// @ts-expect-error: one function shape, TokenFunction; TokenFetcher is gone
import type { TokenFetcher } from 'grpc-jwt-auth/client';
// @ts-expect-error: internals are not API: no deep imports
import { optionNames } from 'grpc-jwt-auth/dist/util/option-checks.js';

interface Claims extends JwtClaims { readonly tenant: string }
const auth = createAuthInterceptor({
  keys: fromJwks('https://idp.example/jwks.json'),
  algorithms: ['RS256'],
  rules: { '/acme.v1.Orders/GetOrder': requireScopes('orders:read') },
});
new Server({ interceptors: [auth] });
export function handler(call: ServerUnaryCall<unknown, unknown>): string {
  const context: AuthContext<Claims> = getAuth<Claims>(call);
  return context.claims.tenant;
}
export const issuer: Promise<TestIssuer> = createTestIssuer({ alg: 'ES256' });
const token: TokenSource = clientCredentials({ tokenUrl: 'https://idp.example/oauth/token', clientId: 'worker', clientSecret: 'secret' });
export const interceptor = createTokenInterceptor({ token, channelSecurity: 'tls' });
export const reason = (details: Uint8Array): ErrorInfo['reason'] | undefined => decodeErrorInfo(details)?.reason;
`,
    );
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'] },
        files: ['consumer.ts'],
      }),
    );
    await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir });
  });
});
