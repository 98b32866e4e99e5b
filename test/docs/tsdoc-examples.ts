/**
 * The `@example` blocks of TSDoc comments, extracted and type-checked like the rest of the code, so an
 * example cannot rot: a renamed option or a changed signature fails the check. Each example is checked
 * as its own module, placed beside the file it documents, with that file's own exports in scope (as the
 * code around it sees them): examples of the public API import from `grpc-jwt-auth` (or `/client`,
 * `/testing`) as a user would; an example of an internal helper may just call it. A few names every
 * example may use without declaring them are in {@link PRELUDE}.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** One fenced `ts` block of an `@example`, and where it came from. */
export interface TsdocExample {
  /** The documented file, relative to the project root. */
  readonly file: string;
  /** The line of the `@example` tag. */
  readonly line: number;
  /** The documented declaration. */
  readonly owner: string;
  readonly code: string;
  /** Names the documented file exports, in scope unless the example binds them itself. */
  readonly exports: readonly ExportedName[];
}

/** A name a file exports; a type-only one (interface, type alias) must be imported with `import type`. */
export interface ExportedName {
  readonly name: string;
  readonly typeOnly: boolean;
}

/**
 * Names an example may use without declaring them: the things every snippet of a gRPC auth library
 * talks about. Anything else an example needs, it imports or declares (`declare const orders: Client;`).
 */
export const PRELUDE = `import type * as grpc from '@grpc/grpc-js';
import type { KeyResolver } from 'grpc-jwt-auth';
declare global {
  /** A key resolver, e.g. fromJwks('https://idp.example/.well-known/jwks.json'). */
  const keys: KeyResolver;
  /** A compact JWT. */
  const token: string;
  /** An HMAC secret of at least 32 bytes. */
  const secret: string;
  /** A unary server call, as a handler gets it. */
  const call: grpc.ServerUnaryCall<any, any>;
  /** The callback of a unary handler. */
  const callback: grpc.sendUnaryData<any>;
  /** Request or response metadata. */
  const metadata: grpc.Metadata;
}
`;

const FENCE = /```ts\n([\s\S]*?)```/g;

/**
 * The TypeScript files of src/, or those under the given prefixes (absolute paths). A prefix matches
 * whole path segments: `src/cli` selects src/cli/, not src/client/.
 */
export function sourceFiles(prefixes: readonly string[] = []): string[] {
  const wanted = prefixes.map((prefix) => prefix.replace(/\/+$/, ''));
  return readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(root, 'src', name))
    .filter((file) => {
      const path = relative(root, file);
      return wanted.length === 0 || wanted.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
    });
}

/** Every `@example` block of every declaration in `files` (absolute paths). */
export function collectExamples(files: readonly string[]): TsdocExample[] {
  const examples: TsdocExample[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const exports = exportedNames(source);
    const visit = (node: ts.Node): void => {
      for (const tag of ts.getJSDocTags(node)) {
        if (tag.tagName.text !== 'example' || tag.parent.parent !== node) continue;
        const comment = typeof tag.comment === 'string' ? tag.comment : (ts.getTextOfJSDocComment(tag.comment) ?? '');
        for (const match of comment.matchAll(FENCE)) {
          const named = ts.isVariableStatement(node) ? node.declarationList.declarations[0] : node;
          const owner = (named as { name?: ts.Node } | undefined)?.name?.getText(source) ?? ts.SyntaxKind[node.kind];
          const line = source.getLineAndCharacterOfPosition(tag.getStart(source)).line + 1;
          examples.push({ file: relative(root, file), line, owner, code: match[1] ?? '', exports });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return examples;
}

/** The names a file declares with `export` (not re-exports). */
function exportedNames(source: ts.SourceFile): ExportedName[] {
  const names: ExportedName[] = [];
  for (const statement of source.statements) {
    const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) names.push({ name: declaration.name.text, typeOnly: false });
      }
    } else if ((statement as { name?: ts.Node }).name !== undefined && ts.isIdentifier((statement as { name: ts.Identifier }).name)) {
      const typeOnly = ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement);
      names.push({ name: (statement as { name: ts.Identifier }).name.text, typeOnly });
    }
  }
  return names;
}

/** The example as a module: the documented file's exports it does not bind itself are imported from it. */
function exampleModule(example: TsdocExample): { readonly text: string; readonly extraLines: number } {
  const bound = new Set<string>();
  for (const match of example.code.matchAll(/\b(?:import\s+(?:type\s+)?\{([^}]*)\}|(?:const|let|function|class|interface|type)\s+([A-Za-z_$][\w$]*))/g)) {
    if (match[1] !== undefined) for (const part of match[1].split(',')) bound.add(part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop() ?? '');
    if (match[2] !== undefined) bound.add(match[2]);
  }
  const used = example.exports.filter(({ name }) => !bound.has(name) && new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`).test(example.code));
  const base = example.file.slice(example.file.lastIndexOf('/') + 1);
  const own = used.length > 0 ? `import { ${used.map(({ name, typeOnly }) => (typeOnly ? `type ${name}` : name)).join(', ')} } from './${base}';\n` : '';
  return { text: `${own}${example.code}\nexport {};\n`, extraLines: own === '' ? 0 : 1 };
}

/** Type-checks each example as a module beside the file it documents; one message per diagnostic. */
export function checkExamples(examples: readonly TsdocExample[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (config === undefined) throw new Error('cannot read tsconfig.json');
  const virtual = new Map<string, string>();
  const modules = examples.map((example, index) => {
    const path = join(root, dirname(example.file), `__example_${index}.ts`);
    const module = exampleModule(example);
    virtual.set(path, module.text);
    return { path, extraLines: module.extraLines };
  });
  virtual.set(join(root, 'test', 'docs', '__example_prelude.ts'), PRELUDE);
  // Examples may leave a variable unused: they show a call, not a program.
  const options: ts.CompilerOptions = { ...config.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false };
  const host = ts.createCompilerHost(options);
  const { readFile, fileExists, getSourceFile } = host;
  host.readFile = (name) => virtual.get(name) ?? readFile.call(host, name);
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
  host.getSourceFile = (name, language, onError) => {
    const text = virtual.get(name);
    return text === undefined ? getSourceFile.call(host, name, language, onError) : ts.createSourceFile(name, text, language, true);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const messages: string[] = [];
  examples.forEach((example, index) => {
    const module = modules[index];
    const file = module && program.getSourceFile(module.path);
    if (file === undefined) return;
    for (const diagnostic of ts.getPreEmitDiagnostics(program, file)) {
      if (diagnostic.file !== file) continue;
      const { line } = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      // The fence starts two lines below the tag (the tag line, then the ```ts line).
      const at = example.line + line + 2 - (module?.extraLines ?? 0);
      messages.push(`${example.file}:${at} (${example.owner}): ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`);
    }
  });
  return messages;
}
