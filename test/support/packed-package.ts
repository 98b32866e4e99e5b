/**
 * The published package as a user gets it, for the packaging tests: `npm pack` (whose `prepack` builds
 * dist/), then the tarball installed into an empty scratch project; or dist/ alone, built the same way.
 * Builds run on a copy of this working tree: test files run in parallel, and two builds in one tree
 * would delete and rebuild the same dist/ under each other.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const MAX_BUFFER = 16 << 20;
/** Never copied: installed or generated, or git's own. */
const NOT_COPIED: ReadonlySet<string> = new Set(['node_modules', '.git', 'dist', 'docs', 'coverage', '.tmp']);

/** A copy of this working tree in `scratch`/source, sharing its node_modules: a place to build. */
async function copyWorkingTree(scratch: string): Promise<string> {
  const source = join(scratch, 'source');
  await cp(root, source, { recursive: true, filter: (path) => !NOT_COPIED.has(relative(root, path)) });
  await symlink(join(root, 'node_modules'), join(source, 'node_modules'), 'dir');
  return source;
}

/**
 * Runs `npm run build` (the bundles and the declarations, as `prepack` does) on a copy of this working
 * tree and moves the result to `target`: a dist/ as published, for a test that assembles its own install.
 */
export async function buildDist(target: string): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'grpc-jwt-auth-build-'));
  try {
    const source = await copyWorkingTree(scratch);
    await run(npm, ['run', 'build'], { cwd: source, maxBuffer: MAX_BUFFER });
    await cp(join(source, 'dist'), target, { recursive: true });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** An empty project with the packed tarball installed, and the packages a test asked for. */
export interface ScratchProject {
  /** The project's directory, its working directory for commands. */
  readonly dir: string;
  /** The paths the tarball holds, e.g. `dist/index.js`. */
  readonly files: readonly string[];
  /** Deletes the project and the tarball. */
  remove(): Promise<void>;
}

/**
 * Packs this working tree and installs the tarball into a fresh ESM project (`"type": "module"`),
 * beside `packages` at the versions this repository tests with (its devDependencies);
 * `--prefer-offline` reuses what `npm ci` already fetched.
 */
export async function installPackedPackage(packages: readonly string[]): Promise<ScratchProject> {
  const scratch = await mkdtemp(join(tmpdir(), 'grpc-jwt-auth-pack-'));
  try {
    const source = await copyWorkingTree(scratch);
    const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', scratch], { cwd: source, maxBuffer: MAX_BUFFER });
    await rm(source, { recursive: true, force: true });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (packed === undefined) throw new Error('npm pack made no tarball');
    const dir = join(scratch, 'project');
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    const versions = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
    const specs = packages.map((name) => {
      const version = versions[name];
      if (version === undefined) throw new Error(`${name} is not a devDependency: the scratch project installs only versions this repository tests with`);
      return `${name}@${version}`;
    });
    const install = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(scratch, packed.filename), ...specs];
    await run(npm, install, { cwd: dir, maxBuffer: MAX_BUFFER });
    return { dir, files: packed.files.map((file) => file.path), remove: () => rm(scratch, { recursive: true, force: true }) };
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
}
