/**
 * The `.proto` rule's step-up fields (RFC 9470): `acr_values` and `max_age` become requireAcr and
 * requireAuthTime, combined with the rule's other lists by allOf, from a proto-loader package
 * definition and a protobufjs root alike; mistakes throw naming the method and field.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { PROTO_INCLUDE_DIR, rulesFromProto, type AuthContext, type Guard, type GuardResult, type ServiceSource } from '../../src/index.ts';

const DESCRIPTOR_PROTO = createRequire(import.meta.url).resolve('protobufjs/google/protobuf/descriptor.proto');
const M = '/test.stepup.v1.S/M';
const NOW = 2_000_000_000_000;
const info = { method: M, clock: () => NOW };

function loadRoot(file: string): protobuf.Root {
  const includeDirs = [PROTO_INCLUDE_DIR, join(DESCRIPTOR_PROTO, '../../..')];
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => includeDirs.map((dir) => join(dir, target)).find(existsSync) ?? protobuf.util.path.resolve(origin, target);
  return root.loadSync(file);
}
const loadDefinition = (file: string) => protoLoader.loadSync(file, { includeDirs: [PROTO_INCLUDE_DIR] });

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'proto-step-up-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A .proto with one method M carrying the given rule option; both loaders' views of it. */
function sources(option: string): Array<[string, ServiceSource]> {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.proto`);
  writeFileSync(
    file,
    `syntax = "proto3";\npackage test.stepup.v1;\nimport "grpc_jwt_auth/v1/auth.proto";\nmessage M { string s = 1; }\nservice S {\n  rpc M(M) returns (M) { ${option} }\n}\n`,
  );
  return [
    ['proto-loader', loadDefinition(file)],
    ['protobufjs root', loadRoot(file)],
  ];
}

const caller = (claims: Record<string, unknown>, scopes: string[] = []) => ({ claims, scopes, roles: [] }) as unknown as AuthContext;
const judge = async (rule: unknown, auth: AuthContext): Promise<GuardResult> => (rule as Guard)(auth, info);

describe('proto policy: step-up fields', () => {
  it('acr_values → requireAcr: one of them passes, another refuses with a step-up naming them all', async () => {
    for (const [loader, source] of sources('option (grpc_jwt_auth.v1.rule) = { acr_values: ["mfa", "hwk"] };')) {
      const rule = rulesFromProto(source)[M];
      assert.equal(await judge(rule, caller({ acr: 'hwk' })), true, loader);
      assert.deepEqual(((await judge(rule, caller({ acr: 'pwd' }))) as { stepUp?: object }).stepUp, { acrValues: ['mfa', 'hwk'] }, loader);
    }
  });

  it('max_age → requireAuthTime: a recent login passes, an older one refuses with max_age', async () => {
    for (const [loader, source] of sources('option (grpc_jwt_auth.v1.rule) = { max_age: 300 };')) {
      const rule = rulesFromProto(source)[M];
      assert.equal(await judge(rule, caller({ auth_time: NOW / 1000 - 299 })), true, loader);
      assert.deepEqual(((await judge(rule, caller({ auth_time: NOW / 1000 - 301 }))) as { stepUp?: object }).stepUp, { maxAge: 300 }, loader);
    }
  });

  it('scopes, acr_values and max_age together → allOf: each must hold; the first refusal is answered', async () => {
    const option = 'option (grpc_jwt_auth.v1.rule) = { scopes: ["payments:write"], acr_values: "mfa", max_age: 300 };';
    for (const [loader, source] of sources(option)) {
      const rule = rulesFromProto(source)[M];
      const fresh = NOW / 1000 - 10;
      assert.equal(await judge(rule, caller({ acr: 'mfa', auth_time: fresh }, ['payments:write'])), true, loader);
      assert.deepEqual(((await judge(rule, caller({ acr: 'mfa', auth_time: fresh }))) as { requiredScopes?: object }).requiredScopes, ['payments:write']);
      assert.deepEqual(((await judge(rule, caller({ acr: 'pwd', auth_time: fresh }, ['payments:write']))) as { stepUp?: object }).stepUp, {
        acrValues: ['mfa'],
      });
      assert.deepEqual(((await judge(rule, caller({ acr: 'mfa', auth_time: 1 }, ['payments:write']))) as { stepUp?: object }).stepUp, { maxAge: 300 });
    }
  });

  it('fields in any order: the scope lists are judged before acr_values and max_age, and those two refuse with one challenge', async () => {
    const option = 'option (grpc_jwt_auth.v1.rule) = { max_age: 300, acr_values: "mfa", scopes: ["payments:write"] };';
    for (const [loader, source] of sources(option)) {
      const rule = rulesFromProto(source)[M];
      const weakOld = { acr: 'pwd', auth_time: 1 };
      const noScope = (await judge(rule, caller(weakOld))) as { requiredScopes?: object; stepUp?: object };
      assert.deepEqual(
        [noScope.requiredScopes, noScope.stepUp],
        [['payments:write'], undefined],
        `${loader}: no scope → PERMISSION_DENIED, not a pointless login`,
      );
      assert.deepEqual(((await judge(rule, caller(weakOld, ['payments:write']))) as { stepUp?: object }).stepUp, { acrValues: ['mfa'], maxAge: 300 }, loader);
    }
  });

  const mistakes: Array<[string, string, string]> = [
    ['max_age written as 0', '{ max_age: 0 }', '.max_age'],
    ['a negative max_age', '{ max_age: -5 }', '.max_age'],
    ['a fractional max_age', '{ max_age: 1.5 }', '.max_age'],
    ['a string max_age', '{ max_age: "300" }', '.max_age'],
    ['an acr value with a space', '{ acr_values: ["multi factor"] }', '.acr_values[0]'],
    ['a non-ASCII acr value', '{ acr_values: ["mfa", "zwei-faktor-ä"] }', '.acr_values[1]'],
    ['a number as an acr value', '{ acr_values: [5] }', '.acr_values[0]'],
    ['public with acr_values', '{ public: true, acr_values: ["mfa"] }', ''],
    ['optional with max_age', '{ optional: true, max_age: 60 }', ''],
  ];
  for (const [name, rule, field] of mistakes) {
    const where = `${M} (grpc_jwt_auth.v1.rule)${field}`;
    it(`${name} → AuthConfigError at ${where}, from both loaders`, () => {
      for (const [loader, source] of sources(`option (grpc_jwt_auth.v1.rule) = ${rule};`)) {
        assert.throws(() => rulesFromProto(source), { code: 'ERR_AUTH_INVALID_OPTION', option: where }, loader);
      }
    });
  }
});
