/**
 * The API reference builds without a warning (typedoc treats them as errors: an undocumented export, a
 * broken link), and every export of both entry points carries an @example.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));

interface Reflection {
  readonly id: number;
  readonly name: string;
  /** For a re-export of a declaration documented in another entry point: the id of that declaration. */
  readonly target?: number;
  readonly comment?: { readonly blockTags?: ReadonlyArray<{ readonly tag: string }> };
  readonly signatures?: readonly Reflection[];
  readonly children?: readonly Reflection[];
}

function hasExample(reflection: Reflection): boolean {
  const comments = [reflection.comment, ...(reflection.signatures ?? []).map((signature) => signature.comment)];
  return comments.some((comment) => comment?.blockTags?.some((tag) => tag.tag === '@example'));
}

describe('API docs', { timeout: 120_000 }, () => {
  it('typedoc builds with no warning, and every export has an @example', async () => {
    const out = await mkdtemp(join(tmpdir(), 'grpc-jwt-auth-docs-'));
    try {
      const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
      await run(process.execPath, [typedoc, '--out', join(out, 'html'), '--json', join(out, 'api.json')], { cwd: root, maxBuffer: 16 << 20 });
      const api = JSON.parse(await readFile(join(out, 'api.json'), 'utf8')) as Reflection;
      const byId = new Map((api.children ?? []).flatMap((entry) => entry.children ?? []).map((exported) => [exported.id, exported]));
      // A class exported by two entry points (AuthConfigError) is documented once; the other is a reference to it.
      const documented = (exported: Reflection): Reflection => (exported.target === undefined ? exported : (byId.get(exported.target) ?? exported));
      const missing = (api.children ?? []).flatMap((entry) =>
        (entry.children ?? []).filter((exported) => !hasExample(documented(exported))).map((exported) => `${entry.name}.${exported.name}`),
      );
      assert.deepEqual(missing, [], 'exports without an @example');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
