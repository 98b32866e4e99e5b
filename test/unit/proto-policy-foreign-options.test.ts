/**
 * Where options sit. Only our own option may not be given twice: a repeated custom option of another
 * package (`google.api.method_signature` is the common one) is legal protobuf, and refusing it refused
 * every file that used it, as `rulesFromProto` and as `services`. And our rule written at file level
 * (protoc refuses it: the option extends MethodOptions) must be refused, not kept without effect.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { PROTO_INCLUDE_DIR, createAuthInterceptor, fromSecret, rulesFromProto } from '../../src/index.ts';

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

describe("proto policy: other packages' repeated custom options", () => {
  const body =
    '{ option (other.api.method_signature) = "name"; option (other.api.method_signature) = "name,view"; option (grpc_jwt_auth.v1.rule) = { roles: "admin" }; }';

  it('a repeated method option of another package, given twice → the rule is read from a protobufjs root, as from proto-loader', () => {
    const file = fileWith(body);
    for (const source of [loadRoot(file), loadDefinition(file)]) {
      assert.deepEqual(Object.keys(rulesFromProto(source)), [METHOD]);
    }
  });

  it('the same file as `services` of createAuthInterceptor → accepted', () => {
    const root = loadRoot(fileWith(body));
    const keys = fromSecret('a-secret-of-thirty-two-bytes-or-more!');
    assert.doesNotThrow(() => createAuthInterceptor({ keys, algorithms: ['HS256'], rules: { [METHOD]: 'authenticated' }, services: root, strictRules: true }));
  });

  it('a repeated service option of another package → accepted', () => {
    const file = join(dir, 'service-option.proto');
    writeFileSync(
      file,
      'syntax = "proto3";\npackage test.src.v1;\nimport "grpc_jwt_auth/v1/auth.proto";\nimport "google/protobuf/descriptor.proto";\n' +
        'extend google.protobuf.ServiceOptions { repeated string oauth_scopes = 51052; }\nmessage Q { string s = 1; }\n' +
        'service S {\noption (test.src.v1.oauth_scopes) = "a";\noption (test.src.v1.oauth_scopes) = "b";\nrpc M(Q) returns (Q) { option (grpc_jwt_auth.v1.rule) = { public: true }; }\n}\n',
    );
    assert.deepEqual(rulesFromProto(loadRoot(file)), { [METHOD]: 'public' });
  });

  it('our own rule option given twice is still refused, beside a repeated option of another package', () => {
    const file = fileWith(
      '{ option (other.api.method_signature) = "a"; option (other.api.method_signature) = "b"; option (grpc_jwt_auth.v1.rule) = { roles: "admin" }; option (grpc_jwt_auth.v1.rule) = { public: true }; }',
    );
    assert.throws(() => rulesFromProto(loadRoot(file)), { code: 'ERR_AUTH_INVALID_OPTION', option: RULE_OPTION });
  });
});

describe('proto policy: our rule where it does nothing', () => {
  it('a file-level rule (option (grpc_jwt_auth.v1.rule) under package): refused from a protobufjs root, naming the package', () => {
    const file = join(dir, 'file-level.proto');
    writeFileSync(
      file,
      'syntax = "proto3";\npackage test.src.v1;\nimport "grpc_jwt_auth/v1/auth.proto";\noption (grpc_jwt_auth.v1.rule) = { deny: true };\n' +
        'message Q { string s = 1; }\nservice S { rpc M(Q) returns (Q); }\n',
    );
    assert.throws(() => rulesFromProto(loadRoot(file)), { code: 'ERR_AUTH_INVALID_OPTION', option: 'test.src.v1 (grpc_jwt_auth.v1.rule)' });
  });

  it('a file-level option of another package: ignored', () => {
    const file = join(dir, 'file-level-other.proto');
    writeFileSync(
      file,
      'syntax = "proto3";\npackage test.src.v1;\nimport "grpc_jwt_auth/v1/auth.proto";\noption java_package = "com.example";\n' +
        'message Q { string s = 1; }\nservice S { rpc M(Q) returns (Q) { option (grpc_jwt_auth.v1.rule) = { public: true }; } }\n',
    );
    assert.deepEqual(rulesFromProto(loadRoot(file)), { [METHOD]: 'public' });
  });
});
