import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runBounded } from './support/bounded-run.ts';

const examplesDir = fileURLToPath(new URL('../examples/', import.meta.url));
const examples = readdirSync(examplesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`${examplesDir}${entry.name}/main.ts`))
  .map((entry) => entry.name);

describe('examples run and exit 0', () => {
  for (const example of examples) {
    it(`examples/${example}`, async () => {
      const { stdout } = await runBounded(process.execPath, ['--import', 'tsx', `${examplesDir}${example}/main.ts`], { timeout: 60_000 });
      assert.ok(stdout.length > 0, 'prints what it shows');
    });
  }
});
