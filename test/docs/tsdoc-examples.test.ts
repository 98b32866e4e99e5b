/**
 * Every TSDoc `@example` in src/ compiles, as go's examples do: a renamed option or a changed signature
 * fails here rather than in a user's editor. `npm run check:examples src/<folder>` shows the same errors
 * for one folder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExamples, collectExamples, collectExamplesFrom, sourceFiles, type TsdocExample } from './tsdoc-examples.ts';

/** An example as the collector would make it, documenting src/util/option-checks.ts. */
function example(code: string): TsdocExample {
  return { file: 'src/util/option-checks.ts', line: 1, owner: 'optionalBoolean', code, exports: [{ name: 'optionalBoolean', typeOnly: false }] };
}

describe('TSDoc @example blocks', { timeout: 120_000 }, () => {
  it('every @example in src/ type-checks', () => {
    const { examples, problems } = collectExamples(sourceFiles());
    assert.ok(examples.length > 100, `only ${examples.length} examples found: is the collector still reading src/?`);
    assert.deepEqual(problems, [], 'examples the checker cannot check, public examples with relative imports');
    const errors = checkExamples(examples);
    assert.equal(errors.length, 0, `${errors.length} examples do not compile:\n${errors.join('\n')}`);
  });

  it('the checker reports a broken example (a wrong argument type, an undeclared name), and passes a sound one', () => {
    const errors = checkExamples([example("optionalBoolean(true, 42);\nundeclaredThing();"), example("optionalBoolean(true, 'strictRules');")]);
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.ok(errors.every((error) => error.startsWith('src/util/option-checks.ts:')));
  });

  it('an @example the checker would skip is reported: no fence, a fence in another language, a tag on no declaration', () => {
    const doc = (body: string) => `/**\n * Doc.\n *\n * @example\n${body.replace(/^/gm, ' * ')}\n */\nexport const thing = 1;\n`;
    const cases = [
      doc('thing + 1;'),
      doc('```typescript\nconst n: number = "x";\n```'),
      doc('```js\nthing + 1;\n```'),
      `export function thing(): void {\n  /**\n   * @example\n   * \`\`\`ts\n   * thing;\n   * \`\`\`\n   */\n}\n`,
    ];
    for (const text of cases) {
      const { examples, problems } = collectExamplesFrom('src/util/option-checks.ts', text, new Set());
      assert.equal(problems.length, 1, `${text}\n→ examples ${examples.map((e) => e.code).join('|')}, problems ${problems.join('|')}`);
    }
    // A space after the language is still a TypeScript block: checked, not skipped.
    const spaced = collectExamplesFrom('src/util/option-checks.ts', doc('```ts \nconst n: number = "x";\n```'), new Set());
    assert.deepEqual([spaced.examples.length, spaced.problems.length], [1, 0]);
    // Shell commands are not TypeScript: a ```sh block is the one other language an example may use.
    assert.deepEqual(collectExamplesFrom('src/cli/main.ts', doc('```sh\nnpx grpc-jwt-auth --help\n```'), new Set()).problems, []);
  });

  it("a public API example imports what it uses, as a user writes it: the file's public names are not put in scope for it", () => {
    const text = [
      '/**\n * Public.\n *\n * @example\n * ```ts\n * optionalBoolean(true, "strictRules");\n * ```\n */',
      'export function optionalBoolean(): void {}',
      '/**\n * Internal: may call the helpers of its file directly.\n *\n * @example\n * ```ts\n * optionalInteger(1, "port", 0, 65535);\n * ```\n */',
      'export function optionalInteger(): void {}',
    ].join('\n');
    const { examples, problems } = collectExamplesFrom('src/util/option-checks.ts', text, new Set(['optionalBoolean']));
    const errors = checkExamples(examples);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /\(optionalBoolean\).*optionalBoolean/);
    assert.deepEqual(problems, []);
    // Nor may it import the file it documents by a relative path: that is not what a user writes.
    const relative = text.replace('* optionalBoolean(true', "* import { optionalBoolean } from './option-checks.ts';\n * optionalBoolean(true");
    assert.equal(collectExamplesFrom('src/util/option-checks.ts', relative, new Set(['optionalBoolean'])).problems.length, 1);
  });

  it('a path prefix selects whole folders: src/cli is not src/client', () => {
    const files = sourceFiles(['src/cli']);
    assert.ok(files.length > 0);
    assert.ok(files.every((file) => /[/\\]src[/\\]cli[/\\]/.test(file)), files.join('\n'));
  });
});
