/**
 * `.proto` policy read from several sources. Two sources describing one method must agree on its rule:
 * otherwise the one listed last used to win in silence (a rule swapped, or dropped and the method left
 * on `defaultRule`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { PROTO_INCLUDE_DIR, rulesFromProto } from '../../src/index.ts';

const DESCRIPTOR_DIR = join(createRequire(import.meta.url).resolve('protobufjs/google/protobuf/descriptor.proto'), '../../..');
const METHOD = '/test.src.v1.S/M';
const RULE_OPTION = `${METHOD} (grpc_jwt_auth.v1.rule)`;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'proto-policy-sources-'));
  // A custom method option of another package, repeated like google.api.method_signature.
  writeFileSync(
    join(dir, 'other_api.proto'),
    'syntax = "proto3";\npackage other.api;\nimport "google/protobuf/descriptor.proto";\nextend google.protobuf.MethodOptions { repeated string method_signature = 51051; }\n',
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

const includeDirs = (): string[] => [PROTO_INCLUDE_DIR, DESCRIPTOR_DIR, dir];

function loadRoot(file: string): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) =>
    includeDirs()
      .map((include) => join(include, target))
      .find(existsSync) ?? protobuf.util.path.resolve(origin, target);
  return root.loadSync(file);
}

const loadDefinition = (file: string) => protoLoader.loadSync(file, { includeDirs: includeDirs() });

/** A file with one service `test.src.v1.S` whose one method `M` has the given body. */
function fileWith(methodBody: string, serviceOptions = ''): string {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.proto`);
  writeFileSync(
    file,
    'syntax = "proto3";\npackage test.src.v1;\nimport "grpc_jwt_auth/v1/auth.proto";\nimport "other_api.proto";\n' +
      `message Q { string s = 1; }\nservice S {\n${serviceOptions}\nrpc M(Q) returns (Q) ${methodBody}\n}\n`,
  );
  return file;
}

describe('proto policy: one method described by several sources', () => {
  const admin = () => fileWith('{ option (grpc_jwt_auth.v1.rule) = { roles: "admin" }; }');
  const open = () => fileWith('{ option (grpc_jwt_auth.v1.rule) = { public: true }; }');
  const bare = () => fileWith('{}');

  it('two package definitions, admin-only then public → refused, naming the method and both sources', () => {
    assert.throws(() => rulesFromProto([loadDefinition(admin()), loadDefinition(open())]), {
      code: 'ERR_AUTH_INVALID_OPTION',
      option: RULE_OPTION,
      message: /rulesFromProto\(source\)\[0\].*rulesFromProto\(source\)\[1\]/,
    });
  });

  it('a root with the rule, then a package definition without it → refused (the rule is not dropped in silence)', () => {
    assert.throws(() => rulesFromProto([loadRoot(admin()), loadDefinition(bare())]), { code: 'ERR_AUTH_INVALID_OPTION', option: RULE_OPTION });
  });

  it('a source without the rule, then one with it → refused too: which one describes the server is unknown', () => {
    assert.throws(() => rulesFromProto([loadDefinition(bare()), loadRoot(admin())]), { code: 'ERR_AUTH_INVALID_OPTION', option: RULE_OPTION });
  });

  it('the same file from a root and from proto-loader, and one source twice → one rule, no error', () => {
    const file = admin();
    const definition = loadDefinition(file);
    for (const sources of [
      [loadRoot(file), definition],
      [definition, definition],
      [definition, loadRoot(file)],
    ]) {
      assert.deepEqual(Object.keys(rulesFromProto(sources)), [METHOD]);
    }
  });

  it('the shop fixture (every rule form: messages, field statements, lists) from a root and from proto-loader → they agree, no error', () => {
    const shop = fileURLToPath(new URL('../fixtures/policy/shop.proto', import.meta.url));
    const fromBoth = rulesFromProto([loadRoot(shop), loadDefinition(shop)]);
    assert.deepEqual(Object.keys(fromBoth).sort(), Object.keys(rulesFromProto(loadRoot(shop))).sort());
    assert.equal(Object.keys(fromBoth).length, 8);
  });

  it('the rule spelt with and without the leading dot in two sources → the same rule, no error', () => {
    const dotted = fileWith('{ option (.grpc_jwt_auth.v1.rule) = { roles: "admin" }; }');
    assert.deepEqual(Object.keys(rulesFromProto([loadDefinition(admin()), loadDefinition(dotted)])), [METHOD]);
  });

  it('different methods in several sources → each read', () => {
    const other = join(dir, 'other-service.proto');
    writeFileSync(
      other,
      'syntax = "proto3";\npackage test.other.v1;\nimport "grpc_jwt_auth/v1/auth.proto";\nmessage Q { string s = 1; }\n' +
        'service T { rpc N(Q) returns (Q) { option (grpc_jwt_auth.v1.rule) = { deny: true }; } }\n',
    );
    assert.deepEqual(rulesFromProto([loadDefinition(open()), loadRoot(other)]), { [METHOD]: 'public', '/test.other.v1.T/N': 'deny' });
  });
});
