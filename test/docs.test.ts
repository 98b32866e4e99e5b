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
  readonly name: string;
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
      const missing = (api.children ?? []).flatMap((entry) =>
        (entry.children ?? []).filter((exported) => !hasExample(exported)).map((exported) => `${entry.name}.${exported.name}`),
      );
      assert.deepEqual(missing, [], 'exports without an @example');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
