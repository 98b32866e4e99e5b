import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { PROTO_INCLUDE_DIR, createAuthenticator, requireScopes, rulesFromProto, type AuthContext, type Guard, type RuleMap } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';

const SHOP_PROTO = fileURLToPath(new URL('../fixtures/policy/shop.proto', import.meta.url));
const DESCRIPTOR_PROTO = createRequire(import.meta.url).resolve('protobufjs/google/protobuf/descriptor.proto');
const SHOP = '/test.shop.v1.Shop';
const BAD_M = '/test.bad.v1.S/M';

/** A protobufjs root (reflection), loaded exactly as the README and rulesFromProto's TSDoc show. */
function loadRoot(file: string): protobuf.Root {
  const protobufjsDir = join(DESCRIPTOR_PROTO, '../../..');
  const includeDirs = [PROTO_INCLUDE_DIR, protobufjsDir];
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => includeDirs.map((dir) => join(dir, target)).find(existsSync) ?? protobuf.util.path.resolve(origin, target);
  return root.loadSync(file);
}

const loadDefinition = (file: string, options: protoLoader.Options = {}) => protoLoader.loadSync(file, { includeDirs: [PROTO_INCLUDE_DIR], ...options });

let idp: TestIssuer;
let dir: string;
before(async () => {
  idp = await createTestIssuer({ alg: 'HS256' });
  dir = mkdtempSync(join(tmpdir(), 'proto-policy-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function contextFor(claims: Record<string, unknown>): Promise<AuthContext> {
  const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
  return (await authenticator.authenticate(await idp.sign(claims), `${SHOP}/GetOrder`)).context;
}

const allows = async (rule: unknown, auth: AuthContext, method: string): Promise<boolean> => (await (rule as Guard)(auth, { method })) === true;

/** Writes a .proto whose one service holds the given method bodies and service options. */
function protoWith(methods: string, serviceOptions = ''): string {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.proto`);
  writeFileSync(
    file,
    `syntax = "proto3";\npackage test.bad.v1;\nimport "grpc_jwt_auth/v1/auth.proto";\nmessage M { string s = 1; }\nservice S {\n${serviceOptions}\n${methods}\n}\n`,
  );
  return file;
}

describe('proto policy: reading (grpc_jwt_auth.v1.rule)', () => {
  const expectations = async (rules: RuleMap): Promise<void> => {
    assert.deepEqual(
      Object.keys(rules).sort(),
      ['Chat', 'DeleteAll', 'GetCart', 'GetOrder', 'ImportOrders', 'ListProducts', 'Support', 'WatchOrders'].map((m) => `${SHOP}/${m}`),
    );
    assert.equal(rules[`${SHOP}/ListProducts`], 'public');
    assert.equal(rules[`${SHOP}/GetCart`], 'optional', 'the field form `option (rule).optional = true` is read too');
    assert.equal(rules[`${SHOP}/Chat`], 'optional');
    assert.equal(rules[`${SHOP}/DeleteAll`], 'deny');
    assert.equal(rules[`${SHOP}/Whoami`], undefined, 'a method without the option is left to code rules and defaultRule');
    const reader = await contextFor({ scope: 'orders:read' });
    const admin = await contextFor({ scope: 'orders:admin' });
    const importer = await contextFor({ scope: 'orders:write', roles: ['importer'] });
    const writer = await contextFor({ scope: 'orders:write' });
    const support = await contextFor({ realm_access: { roles: ['support'] } });
    assert.equal(await allows(rules[`${SHOP}/GetOrder`], reader, 'GetOrder'), true);
    assert.equal(await allows(rules[`${SHOP}/GetOrder`], admin, 'GetOrder'), false);
    assert.equal(await allows(rules[`${SHOP}/WatchOrders`], admin, 'WatchOrders'), true);
    assert.equal(await allows(rules[`${SHOP}/WatchOrders`], writer, 'WatchOrders'), false);
    assert.equal(await allows(rules[`${SHOP}/ImportOrders`], importer, 'ImportOrders'), true, 'scopes and roles given together must both hold');
    assert.equal(await allows(rules[`${SHOP}/ImportOrders`], writer, 'ImportOrders'), false);
    assert.equal(await allows(rules[`${SHOP}/Support`], support, 'Support'), true);
    assert.equal(await allows(rules[`${SHOP}/Support`], reader, 'Support'), false);
  };

  it('from a proto-loader package definition', async () => {
    await expectations(rulesFromProto(loadDefinition(SHOP_PROTO)));
  });

  it('from a proto-loader package definition loaded with keepCase and other options', async () => {
    await expectations(rulesFromProto(loadDefinition(SHOP_PROTO, { keepCase: true, longs: String, defaults: true })));
  });

  it('from a protobufjs root (reflection)', async () => {
    await expectations(rulesFromProto(loadRoot(SHOP_PROTO)));
  });

  it('code rules override the file for the same method when spread after it', () => {
    const code = requireScopes('cart:read');
    const rules = { ...rulesFromProto(loadDefinition(SHOP_PROTO)), [`${SHOP}/GetCart`]: code };
    assert.equal(rules[`${SHOP}/GetCart`], code);
  });

  it('the shipped auth.proto loads on its own, and every field of its Rule message is one the reader knows', () => {
    const authProto = join(PROTO_INCLUDE_DIR, 'grpc_jwt_auth/v1/auth.proto');
    assert.equal(existsSync(authProto), true);
    const definition = protoLoader.loadSync(authProto, { keepCase: true });
    const rule = definition['grpc_jwt_auth.v1.Rule'] as { type: { field: Array<{ name: string; type: string; label: string }> } };
    assert.ok(rule.type.field.length >= 8);
    const bodies = rule.type.field.map(
      (field) =>
        `rpc F_${field.name}(M) returns (M) { option (grpc_jwt_auth.v1.rule).${field.name} = ${{ bound_token: '"any"' }[field.name] ?? { TYPE_BOOL: 'true', TYPE_UINT32: '300' }[field.type] ?? '"x"'}; }`,
    );
    const rules = rulesFromProto(loadDefinition(protoWith(bodies.join('\n'))));
    assert.equal(Object.keys(rules).length, rule.type.field.length);
  });
});

describe('proto policy: mistakes in the file throw, naming the method and field', () => {
  const cases: Array<[string, string, string]> = [
    ['an unknown field (scope for scopes)', 'option (grpc_jwt_auth.v1.rule) = { scope: ["orders:read"] };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule).scope'],
    ['a camelCase field name', 'option (grpc_jwt_auth.v1.rule) = { anyScopes: ["orders:read"] };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule).anyScopes'],
    ['a misspelt option name', 'option (grpc_jwt_auth.v1.rules) = { public: true };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rules)'],
    ['another version of the option', 'option (grpc_jwt_auth.v2.rule) = { public: true };', '/test.bad.v1.S/M (grpc_jwt_auth.v2.rule)'],
    ['a number for a flag', 'option (grpc_jwt_auth.v1.rule) = { public: 1 };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule).public'],
    ['a string for a flag', 'option (grpc_jwt_auth.v1.rule) = { deny: "true" };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule).deny'],
    ['public with scopes', 'option (grpc_jwt_auth.v1.rule) = { public: true, scopes: ["a"] };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule)'],
    ['public with deny', 'option (grpc_jwt_auth.v1.rule) = { public: true, deny: true };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule)'],
    ['an empty rule', 'option (grpc_jwt_auth.v1.rule) = { public: false };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule)'],
    [
      'a scope with a space',
      'option (grpc_jwt_auth.v1.rule) = { scopes: ["orders:read orders:write"] };',
      '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule).scopes[0]',
    ],
    ['a number as a scope', 'option (grpc_jwt_auth.v1.rule) = { scopes: [5] };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule).scopes[0]'],
    ['an empty role', 'option (grpc_jwt_auth.v1.rule) = { roles: [""] };', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule).roles[0]'],
    ['a scalar instead of a message', 'option (grpc_jwt_auth.v1.rule) = "public";', '/test.bad.v1.S/M (grpc_jwt_auth.v1.rule)'],
  ];
  for (const [name, option, where] of cases) {
    it(`${name} → AuthConfigError at ${where}`, () => {
      const file = protoWith(`rpc M(M) returns (M) { ${option} }`);
      for (const source of [loadDefinition(file), loadRoot(file)]) {
        assert.throws(() => rulesFromProto(source), { code: 'ERR_AUTH_INVALID_OPTION', option: where });
      }
    });
  }

  it('two rule options on one method (admin, then public): refused from a protobufjs root, naming the method', () => {
    const file = protoWith('rpc M(M) returns (M) { option (grpc_jwt_auth.v1.rule) = { roles: "admin" }; option (grpc_jwt_auth.v1.rule) = { public: true }; }');
    assert.throws(() => rulesFromProto(loadRoot(file)), { code: 'ERR_AUTH_INVALID_OPTION', option: `${BAD_M} (grpc_jwt_auth.v1.rule)` });
  });

  it('the rule option once with a leading dot and once without: refused from a proto-loader definition and a root', () => {
    // Two spellings of one option: proto-loader keeps both keys, and the one read last used to win.
    for (const [first, second] of [
      ['(.grpc_jwt_auth.v1.rule)', '(grpc_jwt_auth.v1.rule)'],
      ['(grpc_jwt_auth.v1.rule)', '(.grpc_jwt_auth.v1.rule)'],
    ]) {
      const file = protoWith(`rpc M(M) returns (M) { option ${first} = { roles: "admin" }; option ${second} = { public: true }; }`);
      for (const source of [loadDefinition(file), loadRoot(file)]) {
        assert.throws(() => rulesFromProto(source), { code: 'ERR_AUTH_INVALID_OPTION', option: `${BAD_M} (grpc_jwt_auth.v1.rule)` });
      }
    }
  });

  it('a field statement and a message statement of the rule on one method: refused from a root in either order', () => {
    // protobufjs merges a field statement into an earlier message (then proto-loader sees the conflict too),
    // but keeps a message after a field statement apart (then only a root tells).
    const cases: Array<[string, 'both' | 'root']> = [
      ['option (grpc_jwt_auth.v1.rule).public = true; option (grpc_jwt_auth.v1.rule) = { roles: "admin" };', 'root'],
      ['option (grpc_jwt_auth.v1.rule) = { roles: "admin" }; option (grpc_jwt_auth.v1.rule).public = true;', 'both'],
      ['option (grpc_jwt_auth.v1.rule) = { public: true }; option (grpc_jwt_auth.v1.rule).public = true;', 'both'],
    ];
    for (const [body, detectable] of cases) {
      const file = protoWith(`rpc M(M) returns (M) { ${body} }`);
      for (const source of detectable === 'both' ? [loadDefinition(file), loadRoot(file)] : [loadRoot(file)]) {
        assert.throws(() => rulesFromProto(source), { code: 'ERR_AUTH_INVALID_OPTION', option: /^\/test\.bad\.v1\.S\/M \(grpc_jwt_auth\.v1\.rule\)/ }, body);
      }
    }
  });

  it('one rule message setting a flag twice: refused from both sources, naming the field', () => {
    const file = protoWith('rpc M(M) returns (M) { option (grpc_jwt_auth.v1.rule) = { deny: true, deny: true }; }');
    for (const source of [loadDefinition(file), loadRoot(file)]) {
      assert.throws(() => rulesFromProto(source), {
        code: 'ERR_AUTH_INVALID_OPTION',
        option: `${BAD_M} (grpc_jwt_auth.v1.rule).deny`,
        message: /more than once/,
      });
    }
  });

  it('a list field given twice in one message is one list, as in protobuf text format', async () => {
    const file = protoWith('rpc M(M) returns (M) { option (grpc_jwt_auth.v1.rule) = { roles: "admin" roles: "ops" }; }');
    for (const source of [loadDefinition(file), loadRoot(file)]) {
      const rule = rulesFromProto(source)[BAD_M];
      assert.equal(await allows(rule, await contextFor({ roles: ['admin', 'ops'] }), 'M'), true);
      assert.equal(await allows(rule, await contextFor({ roles: ['admin'] }), 'M'), false);
    }
  });

  it('the proto-loader limit the docs state: two rule options reach rulesFromProto as the last one alone', () => {
    // Pinned so that the README stays true: if proto-loader ever keeps both, refuse them there too.
    const file = protoWith('rpc M(M) returns (M) { option (grpc_jwt_auth.v1.rule) = { roles: "admin" }; option (grpc_jwt_auth.v1.rule) = { public: true }; }');
    const definition = loadDefinition(file) as unknown as Record<string, Record<string, { options: Record<string, unknown> }>>;
    assert.deepEqual(definition['test.bad.v1.S']?.M?.options['(grpc_jwt_auth.v1.rule)'], { public: true });
  });

  it('a rule on the service instead of a method: refused from a protobufjs root', () => {
    const file = protoWith('rpc M(M) returns (M);', 'option (grpc_jwt_auth.v1.rule) = { public: true };');
    assert.throws(() => rulesFromProto(loadRoot(file)), { code: 'ERR_AUTH_INVALID_OPTION', option: 'test.bad.v1.S (grpc_jwt_auth.v1.rule)' });
  });

  it('other options of the method are ignored; a file without rules gives an empty map', () => {
    const file = protoWith('rpc M(M) returns (M) { option deprecated = true; option idempotency_level = NO_SIDE_EFFECTS; }');
    assert.deepEqual(rulesFromProto(loadDefinition(file)), {});
    assert.deepEqual(rulesFromProto(loadRoot(file)), {});
  });

  it('something that is not a proto source throws', () => {
    assert.throws(() => rulesFromProto('shop.proto' as never), { code: 'ERR_AUTH_INVALID_OPTION', option: 'rulesFromProto(source)' });
  });
});
