/**
 * `npm run check:examples [path-prefix ...]`: type-checks the TSDoc `@example` blocks of src/ (or of the
 * files under the given prefixes) and prints each error with the line it is on. Exits 1 on any error.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkExamples, collectExamples } from './tsdoc-examples.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const prefixes = process.argv.slice(2);
const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts'))
  .map((name) => join(root, 'src', name))
  .filter((file) => prefixes.length === 0 || prefixes.some((prefix) => relative(root, file).startsWith(prefix)));
const examples = collectExamples(files);
const errors = checkExamples(examples);
for (const error of errors) console.log(error);
console.log(`${examples.length} examples in ${files.length} files, ${errors.length} errors`);
process.exitCode = errors.length === 0 ? 0 : 1;
