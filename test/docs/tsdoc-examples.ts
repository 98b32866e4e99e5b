/**
 * The `@example` blocks of TSDoc comments, extracted and type-checked like the rest of the code, so an
 * example cannot rot: a renamed option or a changed signature fails the check. Each example is checked
 * as its own module, placed beside the file it documents. An example of the public API (a declaration an
 * entry point exports, or a member of one) imports from `grpc-jwt-auth` (or `/client`, `/testing`) what
 * it uses, as a user would: nothing public is put in scope for it. An example of an internal helper may
 * call the helpers of its file directly: the file's other exports are in scope. A few names every example
 * may use without declaring them are in {@link PRELUDE}. An `@example` the checker would skip (no ```ts
 * block, a block in another language, a tag on no declaration) is reported, not passed over, and so is a
 * public example that imports a relative path.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The entry points of the package: what they export is the public API. */
const ENTRY_POINTS = ['src/index.ts', 'src/client/index.ts', 'src/testing/index.ts'];

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

/** Every fenced block of an example's text: its language, and its code. */
const FENCE = /```([^\n`]*)\n([\s\S]*?)```/g;
/** The languages of fenced blocks that are not TypeScript and are not checked: shell commands. */
const UNCHECKED_LANGUAGES: ReadonlySet<string> = new Set(['sh']);

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

/** The examples of some files, and what is wrong with the `@example` tags beyond compiling. */
export interface ExampleCollection {
  readonly examples: TsdocExample[];
  /** `file:line (owner): why`: a tag the checker cannot check, a public example importing a relative path. */
  readonly problems: string[];
}

/** Every `@example` block of every declaration in `files` (absolute paths). */
export function collectExamples(files: readonly string[]): ExampleCollection {
  const publicNames = publicNamesByFile();
  const collections = files.map((file) => {
    const path = relative(root, file);
    return collectExamplesFrom(path, readFileSync(file, 'utf8'), publicNames.get(path) ?? new Set());
  });
  return { examples: collections.flatMap((c) => c.examples), problems: collections.flatMap((c) => c.problems) };
}

/**
 * The examples of one file (`file` relative to the project root, `text` its content). `publicNames` are
 * the names of this file that an entry point exports: an example on one of them, or on a member of one,
 * gets none of them in scope.
 */
export function collectExamplesFrom(file: string, text: string, publicNames: ReadonlySet<string>): ExampleCollection {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const exports = exportedNames(source);
  const examples: TsdocExample[] = [];
  const problems: string[] = [];
  let tags = 0;
  const visit = (node: ts.Node, statement: ts.Statement | undefined): void => {
    for (const tag of ts.getJSDocTags(node)) {
      if (tag.tagName.text !== 'example' || tag.parent.parent !== node) continue;
      tags += 1;
      const named = ts.isVariableStatement(node) ? node.declarationList.declarations[0] : node;
      const owner = (named as { name?: ts.Node } | undefined)?.name?.getText(source) ?? ts.SyntaxKind[node.kind];
      const line = source.getLineAndCharacterOfPosition(tag.getStart(source)).line + 1;
      const isPublic = statement !== undefined && declaredNames(statement).some((name) => publicNames.has(name));
      // A public example shows the import a user writes: the file's public names are not given to it.
      const inScope = isPublic ? exports.filter(({ name }) => !publicNames.has(name)) : exports;
      const comment = typeof tag.comment === 'string' ? tag.comment : (ts.getTextOfJSDocComment(tag.comment) ?? '');
      const fences = [...comment.matchAll(FENCE)];
      if (fences.length === 0) problems.push(`${file}:${line} (${owner}): an @example without a \`\`\`ts block is never checked`);
      for (const [, info = '', code = ''] of fences) {
        const language = info.trim();
        if (language === 'ts') {
          examples.push({ file, line, owner, code, exports: inScope });
          if (isPublic && /\bfrom\s+['"]\.\.?\//.test(code)) {
            problems.push(`${file}:${line} (${owner}): a public example imports a relative path; import from the entry point, as a user does`);
          }
        } else if (!UNCHECKED_LANGUAGES.has(language)) {
          problems.push(`${file}:${line} (${owner}): a \`\`\`${language} block is never checked; write \`\`\`ts`);
        }
      }
    }
    ts.forEachChild(node, (child) => visit(child, statement ?? (ts.isSourceFile(node) ? (child as ts.Statement) : undefined)));
  };
  visit(source, undefined);
  // A tag the parser attaches to no declaration (a comment before nothing) would be skipped in silence.
  const written = [...text.matchAll(/@example\b/g)].length;
  if (written > tags) problems.push(`${file}: ${written - tags} @example tag(s) on no declaration are never checked`);
  return { examples, problems };
}

/** The names a top-level statement declares (a function, a class, an interface, the variables of a `const`). */
function declaredNames(statement: ts.Statement): string[] {
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((declaration) => (ts.isIdentifier(declaration.name) ? [declaration.name.text] : []));
  }
  const name = (statement as { name?: ts.Node }).name;
  return name !== undefined && ts.isIdentifier(name) ? [name.text] : [];
}

/** For each file (relative to the root), the names it declares that an entry point exports. */
function publicNamesByFile(): Map<string, Set<string>> {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  const entries = ENTRY_POINTS.map((entry) => join(root, entry));
  const program = ts.createProgram(entries, { ...config?.options, noEmit: true });
  const checker = program.getTypeChecker();
  const names = new Map<string, Set<string>>();
  for (const entry of entries) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry) as ts.SourceFile);
    for (const exported of module === undefined ? [] : checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      for (const declaration of symbol.declarations ?? []) {
        const file = relative(root, declaration.getSourceFile().fileName);
        names.set(file, (names.get(file) ?? new Set()).add(symbol.name));
      }
    }
  }
  return names;
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
