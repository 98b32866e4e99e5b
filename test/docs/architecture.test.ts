/**
 * The layers ARCHITECTURE.md describes hold: each folder of src/ imports only from the folders below it,
 * and only server/, client/ and testing/ load @grpc/grpc-js (a type-only import is erased, so the core
 * stays usable by the CLI and by non-gRPC code).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { sourceFiles } from './tsdoc-examples.ts';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/** The folders each folder may import from (besides itself). */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  util: ['errors'],
  errors: ['util'],
  keys: ['errors', 'util'],
  stores: ['errors', 'util'],
  verify: ['stores', 'keys', 'errors', 'util'],
  authz: ['verify', 'keys', 'errors', 'util'],
  telemetry: ['verify', 'keys', 'errors', 'util'],
  server: ['telemetry', 'authz', 'verify', 'stores', 'keys', 'errors', 'util'],
  client: ['errors', 'util'],
  testing: ['server', 'verify', 'stores', 'keys', 'errors', 'util'],
  cli: ['testing', 'server', 'telemetry', 'authz', 'verify', 'stores', 'keys', 'errors', 'util'],
};
const LOADS_GRPC: ReadonlySet<string> = new Set(['server', 'client', 'testing']);

/** Each `import`/`export ... from` of a file: the specifier, and whether it is type-only. */
function importsOf(text: string): Array<{ readonly from: string; readonly typeOnly: boolean }> {
  return [...text.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)].map(([, , type, from = '']) => ({ from, typeOnly: type !== undefined }));
}

describe('layers', () => {
  it('every folder of src/ imports only from the folders below it; only server, client and testing load grpc-js', () => {
    const violations: string[] = [];
    for (const file of sourceFiles()) {
      const path = relative(src, file).split(sep);
      if (path.length === 1) continue; // src/index.ts: the entry, on top of everything
      const folder = path[0] ?? '';
      const allowed = MAY_IMPORT[folder];
      if (allowed === undefined) {
        violations.push(`${folder}/: a folder ARCHITECTURE.md does not place (add it to the table and to MAY_IMPORT)`);
        continue;
      }
      for (const { from, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
        const target = /^\.\.\/([\w-]+)\//.exec(from)?.[1];
        if (target !== undefined && !allowed.includes(target)) violations.push(`src/${path.join('/')} imports ${from}`);
        if (from.startsWith('@grpc/grpc-js') && !typeOnly && !LOADS_GRPC.has(folder)) violations.push(`src/${path.join('/')} loads ${from}`);
      }
    }
    assert.deepEqual(violations, []);
  });
});
