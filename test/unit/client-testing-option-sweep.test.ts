/**
 * Every option of every factory of `grpc-jwt-auth/client` and `grpc-jwt-auth/testing`, swept: each one
 * given a value no option accepts (a symbol, an empty array, NaN) is refused with an AuthConfigError naming
 * it, and an unknown name beside valid options is refused by name. The option names come from the
 * interfaces themselves (read by the type-checker), so an option added later is swept without a new line
 * here; a factory whose options interface has no row in {@link FACTORIES} fails the first test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { AuthConfigError, cachedToken, clientCredentials, createDpopKey, createTokenInterceptor, refreshingToken } from '../../src/client/index.ts';
import { createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Values of a type no option takes: each must be refused, whatever the option. */
const WRONG: ReadonlyArray<readonly [string, unknown]> = [
  ['a symbol', Symbol('wrong')],
  ['an empty array', []],
  ['NaN', Number.NaN],
];

/** The property names of the types `names` of the entry point `entry`, as the type-checker reads them. */
function propertiesOf(entry: string, names: readonly string[]): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  const program = ts.createProgram([`${root}${entry}`], config?.options ?? {});
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(`${root}${entry}`) as ts.SourceFile);
  const found = new Map<string, string[]>();
  for (const exported of module === undefined ? [] : checker.getExportsOfModule(module)) {
    if (!names.includes(exported.name)) continue;
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    found.set(
      exported.name,
      checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).map((property) => property.name),
    );
  }
  return found;
}

/** A factory taking one options object: `valid` is accepted, `path` prefixes the option in errors. */
interface Factory {
  readonly valid: () => Record<string, unknown>;
  readonly make: (options: Record<string, unknown>) => unknown;
  readonly path?: string;
}

let idp: TestIssuer;
let served: ServedIssuer;
const tokenUrl = 'https://idp.example/oauth/token';

/** Options interface (exported by its entry point) → how to call the factory that takes it. */
const FACTORIES: Readonly<Record<string, Factory>> = {
  TokenInterceptorOptions: { valid: () => ({ token: 'abc.def.ghi' }), make: (options) => createTokenInterceptor(options as never) },
  CachedTokenOptions: { valid: () => ({}), make: (options) => cachedToken(() => 'abc', options as never) },
  ClientCredentialsOptions: {
    valid: () => ({ tokenUrl, clientId: 'worker', clientSecret: 'worker-secret' }),
    make: (options) => clientCredentials(options as never),
  },
  RefreshingTokenOptions: { valid: () => ({ tokenUrl, refreshToken: 'rt-1' }), make: (options) => refreshingToken(options as never) },
  DpopKeyOptions: { valid: () => ({}), make: (options) => createDpopKey(options as never) },
  TestIssuerOptions: { valid: () => ({}), make: (options) => createTestIssuer(options as never) },
  SignOptions: { valid: () => ({}), make: (options) => idp.sign({}, options as never) },
  ServeOptions: { valid: () => ({}), make: (options) => idp.serve(options as never) },
  TokenEndpointOptions: { valid: () => ({}), make: (options) => idp.serve({ token: options as never }), path: 'token.' },
  TestClient: {
    valid: () => ({ secret: 'worker-secret' }),
    make: (options) => idp.serve({ token: { clients: { worker: options as never } } }),
    path: 'token.clients.worker.',
  },
};

/** Runs `make`, stopping whatever it started if it was accepted after all, so a failing sweep still ends. */
async function outcome(make: () => unknown): Promise<unknown> {
  try {
    const made = await make();
    if (typeof made === 'object' && made !== null && 'close' in made && typeof made.close === 'function') await made.close();
    return made;
  } catch (error) {
    return error;
  }
}

function refusedNaming(result: unknown, option: string): boolean {
  return result instanceof AuthConfigError && result.option === option;
}

describe('client and testing factories: every option swept', { timeout: 120_000 }, () => {
  const client = propertiesOf('src/client/index.ts', Object.keys(FACTORIES));
  const testing = propertiesOf('src/testing/index.ts', Object.keys(FACTORIES));
  const interfaces = new Map([...client, ...testing]);

  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    served = await idp.serve();
  });
  after(() => served.close());

  it('each options interface of the two entry points has a factory to sweep', () => {
    assert.deepEqual([...interfaces.keys()].sort(), Object.keys(FACTORIES).sort());
    for (const [name, properties] of interfaces) assert.ok(properties.length > 0, name);
  });

  it('the valid options of each factory are accepted (the sweep below starts from them)', async () => {
    for (const [name, factory] of Object.entries(FACTORIES)) {
      const result = await outcome(() => factory.make(factory.valid()));
      assert.ok(!(result instanceof Error), `${name}: ${String(result)}`);
    }
  });

  it('an option of the wrong type (a symbol, an empty array, NaN) → AuthConfigError naming it', async () => {
    const accepted: string[] = [];
    for (const [name, properties] of interfaces) {
      const factory = FACTORIES[name] as Factory;
      for (const option of properties) {
        for (const [what, value] of WRONG) {
          const result = await outcome(() => factory.make({ ...factory.valid(), [option]: value }));
          if (!refusedNaming(result, `${factory.path ?? ''}${option}`)) accepted.push(`${name}.${option} = ${what}: ${String(result)}`);
        }
      }
    }
    assert.deepEqual(accepted, []);
  });

  it('the client factories read each option once, a token fetch included: a getter cannot pass the check with one value and be used with another', async () => {
    const reads = new Map<string, number>();
    const counted = (name: string, options: Record<string, unknown>) =>
      new Proxy(options, {
        get(target, key, receiver) {
          if (typeof key === 'string') reads.set(`${name}.${key}`, (reads.get(`${name}.${key}`) ?? 0) + 1);
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
    const grant = { tokenUrl: served.tokenUrl, clientId: 'test-client', clientSecret: 'test-secret', allowInsecureHttp: false, timeout: 5 };
    createTokenInterceptor(counted('createTokenInterceptor', { token: 'abc.def.ghi', channelSecurity: 'tls' }) as never);
    await cachedToken(() => ({ token: 'abc', expiresIn: 60 }), counted('cachedToken', { refreshBefore: 5 }) as never).getToken();
    await clientCredentials(counted('clientCredentials', { ...grant, scope: 'a' }) as never).getToken();
    const refreshToken = served.tokenEndpoint.issueRefreshToken({ clientId: 'test-client' });
    await refreshingToken(counted('refreshingToken', { ...grant, refreshToken }) as never).getToken();
    const twice = [...reads].filter(([, count]) => count > 1).map(([option, count]) => `${option}: ${count} reads`);
    assert.deepEqual(twice, []);
  });

  it('an unknown option name beside valid ones → AuthConfigError naming it', async () => {
    for (const [name, factory] of Object.entries(FACTORIES)) {
      const result = await outcome(() => factory.make({ ...factory.valid(), retries: 3 }));
      assert.ok(refusedNaming(result, `${factory.path ?? ''}retries`), `${name}: ${String(result)}`);
    }
  });
});
