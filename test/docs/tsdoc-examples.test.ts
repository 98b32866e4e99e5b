/**
 * Every TSDoc `@example` in src/ compiles, as go's examples do: a renamed option or a changed signature
 * fails here rather than in a user's editor. `npm run check:examples src/<folder>` shows the same errors
 * for one folder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExamples, collectExamples, sourceFiles, type TsdocExample } from './tsdoc-examples.ts';

/** An example as the collector would make it, documenting src/util/option-checks.ts. */
function example(code: string): TsdocExample {
  return { file: 'src/util/option-checks.ts', line: 1, owner: 'optionalBoolean', code, exports: [{ name: 'optionalBoolean', typeOnly: false }] };
}

describe('TSDoc @example blocks', { timeout: 120_000 }, () => {
  it('every @example in src/ type-checks', () => {
    const examples = collectExamples(sourceFiles());
    assert.ok(examples.length > 100, `only ${examples.length} examples found: is the collector still reading src/?`);
    const errors = checkExamples(examples);
    assert.equal(errors.length, 0, `${errors.length} examples do not compile:\n${errors.join('\n')}`);
  });

  it('the checker reports a broken example (a wrong argument type, an undeclared name), and passes a sound one', () => {
    const errors = checkExamples([example("optionalBoolean(true, 42);\nundeclaredThing();"), example("optionalBoolean(true, 'strictRules');")]);
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.ok(errors.every((error) => error.startsWith('src/util/option-checks.ts:')));
  });

  it('a path prefix selects whole folders: src/cli is not src/client', () => {
    const files = sourceFiles(['src/cli']);
    assert.ok(files.length > 0);
    assert.ok(files.every((file) => /[/\\]src[/\\]cli[/\\]/.test(file)), files.join('\n'));
  });
});
