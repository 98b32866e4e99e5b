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
    for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'proto/grpc_jwt_auth/v1/auth.proto', 'LICENSE', 'README.md'])
      assert.ok(files.includes(needed), needed);
  });

  it('import works for both entry points', async () => {
    const script = `
      import { createAuthInterceptor, fromSecret, getAuth } from 'grpc-jwt-auth';
      import { createTestIssuer } from 'grpc-jwt-auth/testing';
      const idp = await createTestIssuer({ alg: 'HS256' });
      const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] });
      console.log(typeof auth, typeof getAuth, typeof fromSecret);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    assert.equal(stdout.trim(), 'function function function');
  });

  it('require works on Node >= 20.19', async () => {
    const script = `const { createAuthInterceptor } = require('grpc-jwt-auth'); const { createTestIssuer } = require('grpc-jwt-auth/testing'); console.log(typeof createAuthInterceptor, typeof createTestIssuer);`;
    const { stdout } = await run(process.execPath, ['--no-warnings', '-e', script], { cwd: dir });
    assert.equal(stdout.trim(), 'function function');
  });

  it('a TypeScript consumer type-checks against the published declarations', async () => {
    await writeFile(
      join(dir, 'consumer.ts'),
      `import { Server, type ServerUnaryCall } from '@grpc/grpc-js';
import { createAuthInterceptor, fromJwks, getAuth, requireScopes, type AuthContext, type JwtClaims } from 'grpc-jwt-auth';
import { createTestIssuer, type TestIssuer } from 'grpc-jwt-auth/testing';

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
