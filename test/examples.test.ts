import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const examplesDir = fileURLToPath(new URL('../examples/', import.meta.url));
const examples = readdirSync(examplesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`${examplesDir}${entry.name}/main.ts`))
  .map((entry) => entry.name);

describe('examples run and exit 0', () => {
  for (const example of examples) {
    it(`examples/${example}`, async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `${examplesDir}${example}/main.ts`], { timeout: 60_000 });
      assert.ok(stdout.length > 0, 'prints what it shows');
    });
  }
});
