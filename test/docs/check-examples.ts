/**
 * `npm run check:examples [path-prefix ...]`: type-checks the TSDoc `@example` blocks of src/ (or of the
 * files under the given prefixes) and prints each error with the line it is on, and each `@example` it
 * cannot check. Exits 1 on any.
 */
import { checkExamples, collectExamples, sourceFiles } from './tsdoc-examples.ts';

const files = sourceFiles(process.argv.slice(2));
const { examples, problems } = collectExamples(files);
const errors = [...problems, ...checkExamples(examples)];
for (const error of errors) console.log(error);
console.log(`${examples.length} examples in ${files.length} files, ${errors.length} errors`);
process.exitCode = errors.length === 0 ? 0 : 1;
