/**
 * The `.proto` rule's `bound_token` field (sender-constrained tokens, RFC 9449 / RFC 8705): it becomes
 * requireBoundToken, judged before the rule's other fields, from a proto-loader package definition and
 * a protobufjs root alike; any value but dpop, certificate or any throws naming the method and field.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { PROTO_INCLUDE_DIR, rulesFromProto, type AuthContext, type Confirmation, type Guard, type GuardDenial, type ServiceSource } from '../../src/index.ts';

const DESCRIPTOR_PROTO = createRequire(import.meta.url).resolve('protobufjs/google/protobuf/descriptor.proto');
const M = '/test.bound.v1.S/M';
const NOW = 2_000_000_000_000;
const info = { method: M, clock: () => NOW };
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const X5T = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2';

function loadRoot(file: string): protobuf.Root {
  const includeDirs = [PROTO_INCLUDE_DIR, join(DESCRIPTOR_PROTO, '../../..')];
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => includeDirs.map((dir) => join(dir, target)).find(existsSync) ?? protobuf.util.path.resolve(origin, target);
  return root.loadSync(file);
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'proto-bound-token-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A .proto with one method M carrying the given rule option; both loaders' views of it. */
function sources(option: string): Array<[string, ServiceSource]> {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.proto`);
  writeFileSync(
    file,
    `syntax = "proto3";\npackage test.bound.v1;\nimport "grpc_jwt_auth/v1/auth.proto";\nmessage M { string s = 1; }\nservice S {\n  rpc M(M) returns (M) { ${option} }\n}\n`,
  );
  return [
    ['proto-loader', protoLoader.loadSync(file, { includeDirs: [PROTO_INCLUDE_DIR] })],
    ['protobufjs root', loadRoot(file)],
  ];
}

const caller = (confirmation: Confirmation | undefined, scopes: string[] = [], claims: Record<string, unknown> = {}) =>
  ({ claims, scopes, roles: [], confirmation }) as unknown as AuthContext;
const judge = async (rule: unknown, auth: AuthContext) => (rule as Guard)(auth, info);
const bindingOf = async (rule: unknown, auth: AuthContext) => ((await judge(rule, auth)) as GuardDenial).binding;

describe('proto policy: bound_token', () => {
  const expected: Array<[string, Confirmation | undefined, boolean]> = [
    ['a bearer token', undefined, false],
    ['a DPoP-bound token', { jkt: JKT }, true],
    ['a certificate-bound token', { x5tS256: X5T }, true],
  ];
  for (const [kind, passes] of [
    ['dpop', [false, true, false]],
    ['certificate', [false, false, true]],
    ['any', [false, true, true]],
  ] as const) {
    it(`bound_token: "${kind}" → requireBoundToken('${kind}')`, async () => {
      for (const [loader, source] of sources(`option (grpc_jwt_auth.v1.rule) = { bound_token: "${kind}" };`)) {
        const rule = rulesFromProto(source)[M];
        for (const [index, [name, confirmation]] of expected.entries()) {
          if (passes[index]) assert.equal(await judge(rule, caller(confirmation)), true, `${loader}: ${name}`);
          else assert.equal(await bindingOf(rule, caller(confirmation)), kind, `${loader}: ${name}`);
        }
      }
    });
  }

  it('with scopes and step-up fields, in any order → allOf with the binding judged first: a bearer token without the scope is TOKEN_NOT_BOUND', async () => {
    const option = 'option (grpc_jwt_auth.v1.rule) = { max_age: 300, scopes: ["payments:write"], acr_values: "mfa", bound_token: "dpop" };';
    for (const [loader, source] of sources(option)) {
      const rule = rulesFromProto(source)[M];
      const good = { acr: 'mfa', auth_time: NOW / 1000 - 10 };
      assert.equal(await bindingOf(rule, caller(undefined, [], { acr: 'pwd' })), 'dpop', `${loader}: bearer, no scope, weak login`);
      assert.equal(await bindingOf(rule, caller(undefined, ['payments:write'], good)), 'dpop', `${loader}: bearer with everything else`);
      assert.deepEqual(((await judge(rule, caller({ jkt: JKT }, [], good))) as GuardDenial).requiredScopes, ['payments:write'], loader);
      assert.deepEqual(((await judge(rule, caller({ jkt: JKT }, ['payments:write'], { acr: 'pwd', auth_time: 1 }))) as GuardDenial).stepUp, {
        acrValues: ['mfa'],
        maxAge: 300,
      });
      assert.equal(await judge(rule, caller({ jkt: JKT }, ['payments:write'], good)), true, loader);
    }
  });

  it('a rule without bound_token admits a bearer token as before', async () => {
    for (const [loader, source] of sources('option (grpc_jwt_auth.v1.rule) = { scopes: ["orders:read"] };')) {
      assert.equal(await judge(rulesFromProto(source)[M], caller(undefined, ['orders:read'])), true, loader);
    }
  });

  const mistakes: Array<[string, string, string]> = [
    ['an unknown kind', '{ bound_token: "mtls" }', '.bound_token'],
    ['another case', '{ bound_token: "DPoP" }', '.bound_token'],
    ['the empty string written', '{ bound_token: "" }', '.bound_token'],
    ['public with bound_token', '{ public: true, bound_token: "any" }', ''],
    ['authenticated with bound_token', '{ authenticated: true, bound_token: "dpop" }', ''],
  ];
  for (const [name, rule, field] of mistakes) {
    const where = `${M} (grpc_jwt_auth.v1.rule)${field}`;
    it(`${name} → AuthConfigError at ${where}, from both loaders`, () => {
      for (const [loader, source] of sources(`option (grpc_jwt_auth.v1.rule) = ${rule};`)) {
        assert.throws(() => rulesFromProto(source), { code: 'ERR_AUTH_INVALID_OPTION', option: where }, loader);
      }
    });
  }

  it('bound_token given twice (merged field statements) → AuthConfigError at .bound_token, from a protobufjs root', () => {
    const twice = 'option (grpc_jwt_auth.v1.rule).bound_token = "dpop"; option (grpc_jwt_auth.v1.rule).bound_token = "any";';
    const [, [, root]] = sources(twice) as [unknown, [string, ServiceSource]];
    assert.throws(() => rulesFromProto(root), { code: 'ERR_AUTH_INVALID_OPTION', option: `${M} (grpc_jwt_auth.v1.rule).bound_token` });
  });
});
