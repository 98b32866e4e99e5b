/**
 * The README's quick start runs as written. Its files are copied out of README.md into an empty project
 * where the packed tarball and the packages its `npm install` lines name are installed; its last command
 * runs there and must print what the README says it prints. The same file type-checks (strict), and the
 * CommonJS settings the README gives compile and run against the tarball.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runBounded } from '../support/bounded-run.ts';
import { installPackedPackage, type ScratchProject } from '../support/packed-package.ts';
import { README, fencedBlocks, section } from './readme-sections.ts';

const run = promisify(execFile);
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** What the quick start is made of, as README.md states it. */
interface QuickStart {
  /** File name → text, from blocks introduced by `` `name`: ``. */
  readonly files: ReadonlyMap<string, string>;
  /** The packages its `npm install` lines name, besides grpc-jwt-auth itself. */
  readonly packages: readonly string[];
  /** The command that runs it: the last line of the `Run it:` block. */
  readonly command: readonly string[];
  /** The `It prints:` block. */
  readonly output: string;
}

function readQuickStart(): QuickStart {
  const blocks = fencedBlocks(section(README, 'Quick start'));
  const files = new Map<string, string>();
  for (const block of blocks) {
    const name = /^`([\w.-]+)`:$/.exec(block.label)?.[1];
    if (name !== undefined) files.set(name, block.text);
  }
  const commands = (blocks.find((block) => block.label === 'Run it:')?.text ?? '').trim().split('\n');
  const packages = commands
    .filter((line) => line.startsWith('npm install '))
    .flatMap((line) => line.split(/\s+/).slice(2))
    .filter((word) => !word.startsWith('-') && word !== 'grpc-jwt-auth');
  const output = blocks.find((block) => block.label === 'It prints:')?.text ?? '';
  return { files, packages, command: (commands.at(-1) ?? '').split(/\s+/), output };
}

describe('README quick start, in an empty project with the packed tarball', { timeout: 300_000 }, () => {
  const quickStart = readQuickStart();
  let project: ScratchProject | undefined;
  let dir = '';

  before(async () => {
    // typescript and @types/node only for the type-checks below: running needs what the README installs.
    project = await installPackedPackage([...quickStart.packages, 'typescript', '@types/node']);
    dir = project.dir;
    for (const [name, text] of quickStart.files) await writeFile(join(dir, name), text);
  });
  after(() => project?.remove());

  it('README.md holds the pieces: a .proto, a .ts file, the install and run commands, the expected output', () => {
    assert.deepEqual([...quickStart.files.keys()].sort(), ['orders.proto', 'quickstart.ts']);
    assert.deepEqual(quickStart.packages, ['@grpc/grpc-js', '@grpc/proto-loader', 'tsx']);
    assert.deepEqual(quickStart.command, ['npx', 'tsx', 'quickstart.ts']);
    assert.ok(quickStart.output.length > 0);
  });

  it('runs, ends by itself, and prints what the README says', async () => {
    const [command = '', ...args] = quickStart.command;
    // In a process group of its own: a quick start that hangs is killed whole (npx, tsx and node), its port closed.
    const { stdout } = await runBounded(command === 'npx' ? npx : command, args, { cwd: dir, timeout: 60_000 });
    assert.equal(stdout.trim(), quickStart.output.trim());
  });

  it('type-checks as a strict ESM TypeScript project (module nodenext)', async () => {
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', noEmit: true, types: ['node'] },
        files: ['quickstart.ts'],
      }),
    );
    await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir });
  });

  it('a CommonJS TypeScript project with either setting the README gives (nodenext, node20) compiles, and require() loads every entry point', async () => {
    const cjs = join(dir, 'commonjs');
    await mkdir(cjs);
    await writeFile(join(cjs, 'package.json'), JSON.stringify({ name: 'commonjs-consumer', private: true, type: 'commonjs' }));
    await writeFile(
      join(cjs, 'main.ts'),
      `import { createAuthInterceptor } from 'grpc-jwt-auth';
import { createTokenInterceptor } from 'grpc-jwt-auth/client';
import { createTestIssuer } from 'grpc-jwt-auth/testing';

async function main(): Promise<void> {
  const idp = await createTestIssuer({ issuer: 'https://idp.example/' });
  const auth = createAuthInterceptor({ keys: idp.keys, algorithms: [idp.alg], issuer: 'https://idp.example/' });
  await auth.ready();
  console.log(typeof auth, typeof createTokenInterceptor({ token: await idp.sign() }), typeof require);
  auth.close();
}
void main();
`,
    );
    for (const module of ['nodenext', 'node20']) {
      const config = `tsconfig.${module}.json`;
      const outDir = `out-${module}`;
      await writeFile(
        join(cjs, config),
        JSON.stringify({ compilerOptions: { strict: true, module, target: 'es2022', outDir, types: ['node'] }, files: ['main.ts'] }),
      );
      await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(cjs, config)], { cwd: cjs });
      const { stdout } = await run(process.execPath, [join(cjs, outDir, 'main.js')], { cwd: cjs, timeout: 30_000 });
      assert.equal(stdout.trim(), 'function function function', `${module}: require exists, the output is CommonJS`);
    }
  });
});
