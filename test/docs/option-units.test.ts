/**
 * Every option of every public factory, with its unit. The README states the rule once: durations are
 * seconds (no unit suffix), the one millisecond number is the `clock` function (like `Date.now`). This
 * table is the checked list: an option added without a row here, a row for an option that is gone, a
 * duration whose TSDoc does not say "seconds" or a name with a unit suffix fails.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import ts from 'typescript';

/** What an option's number means; `-` for options that are not quantities. */
type Unit = 'seconds' | 'bytes' | 'count' | 'fraction' | 'NumericDate' | 'clock' | '-';

const verify = {
  keys: '-',
  algorithms: '-',
  audience: '-',
  subject: '-',
  typ: '-',
  requiredClaims: '-',
  requireExp: '-',
  clockTolerance: 'seconds',
  maxTokenAge: 'seconds',
  scopeClaims: '-',
  roleClaims: '-',
  validate: '-',
  certificateBinding: '-',
  dpopBinding: '-',
} as const satisfies Record<string, Unit>;

const cached = { refreshBefore: 'seconds', jitter: 'fraction', assumedLifetime: 'seconds', minBackoff: 'seconds', maxBackoff: 'seconds', clock: 'clock' } as const;
const tokenRequest = { tokenUrl: '-', clientId: '-', clientSecret: '-', scope: '-', authMethod: '-', timeout: 'seconds', allowInsecureHttp: '-', fetch: '-' } as const;

/** Options interface (as exported by an entry point) → option → unit. */
const UNITS: Readonly<Record<string, Readonly<Record<string, Unit>>>> = {
  AuthInterceptorOptions: {
    ...verify,
    issuer: '-',
    maxTokenBytes: 'bytes',
    issuers: '-',
    clock: 'clock',
    cache: '-',
    rules: '-',
    defaultRule: '-',
    services: '-',
    strictRules: '-',
    streamExpiry: '-',
    onAuthenticated: '-',
    onRejected: '-',
    telemetry: '-',
    maxConcurrentVerifications: 'count',
    tokenFrom: '-',
    logger: '-',
    clientCertificate: '-',
    dpop: '-',
    replayStore: '-',
    revocations: '-',
  },
  AuthenticatorOptions: { ...verify, issuer: '-', maxTokenBytes: 'bytes', issuers: '-', clock: 'clock', cache: '-', maxConcurrentVerifications: 'count', revocations: '-' },
  VerifyOptions: { ...verify, issuer: '-', maxTokenBytes: 'bytes' },
  IssuerOptions: { ...verify, issuer: '-' },
  TokenCacheOptions: { maxEntries: 'count', maxTtl: 'seconds' },
  TelemetryOptions: { meterProvider: '-', tracerProvider: '-', recordSubject: '-' },
  RemoteJwksOptions: {
    timeout: 'seconds',
    maxResponseBytes: 'bytes',
    cacheMaxAge: 'seconds',
    minCacheMaxAge: 'seconds',
    maxCacheMaxAge: 'seconds',
    cooldown: 'seconds',
    staleIfError: 'seconds',
    allowInsecureHttp: '-',
    tokensWithoutKid: '-',
    onEvent: '-',
    clock: 'clock',
    fetch: '-',
  },
  TokenInterceptorOptions: { token: '-', channelSecurity: '-', dpop: '-' },
  CachedTokenOptions: cached,
  ClientCredentialsOptions: { ...cached, ...tokenRequest, audience: '-', dpop: '-' },
  RefreshingTokenOptions: { ...cached, ...tokenRequest, refreshToken: '-', onRefreshToken: '-', dpop: '-' },
  DpopKeyOptions: { alg: '-', keyPair: '-', clock: 'clock' },
  TestIssuerOptions: { alg: '-', issuer: '-', audience: '-', kid: '-' },
  SignOptions: { expiresIn: 'seconds', notBefore: 'seconds', issuedAt: 'NumericDate', header: '-', bindTo: '-' },
  ServeOptions: { port: '-', token: '-', jwksMaxAge: 'seconds' },
  TestCallOptions: { request: '-', method: '-', metadata: '-' },
  AuthenticatedCallOptions: { request: '-', method: '-', metadata: '-', claims: '-', signOptions: '-', verify: '-' },
  TokenEndpointOptions: { clients: '-', accessTokenLifetime: 'seconds', refreshTokenLifetime: 'seconds', rotateRefreshTokens: '-', clock: 'clock', dpop: '-' },
  RequireAuthTimeOptions: { maxAge: 'seconds', clockTolerance: 'seconds' },
  DpopOptions: { origins: '-', algorithms: '-', proofMaxAge: 'seconds', clockTolerance: 'seconds', nonce: '-' },
  MemoryReplayStoreOptions: { maxEntries: 'count', clock: 'clock' },
  MemoryRevocationStoreOptions: { maxTokenLifetime: 'seconds', maxEntries: 'count', clock: 'clock' },
  RedisConnectionOptions: { url: '-', client: '-', prefix: '-', timeout: 'seconds' },
  RedisRevocationStoreOptions: {
    url: '-',
    client: '-',
    prefix: '-',
    timeout: 'seconds',
    heartbeat: 'seconds',
    staleIfError: 'seconds',
    maxTokenLifetime: 'seconds',
    maxEntries: 'count',
    clock: 'clock',
    onEvent: '-',
  },
};

/** What an option's TSDoc must say for its unit. */
const SAYS: Partial<Record<Unit, RegExp>> = {
  seconds: /\bseconds?\b/i,
  bytes: /\bbytes\b/i,
  clock: /milliseconds/i,
  fraction: /fraction/i,
  NumericDate: /NumericDate/,
};

const root = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES = ['src/index.ts', 'src/client/index.ts', 'src/testing/index.ts'].map((entry) => `${root}${entry}`);

/** Every property of each options interface the entry points export, with its TSDoc text. */
function optionsOfEntryPoints(): Map<string, Map<string, string>> {
  const config = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  const program = ts.createProgram(ENTRIES, config?.options ?? {});
  const checker = program.getTypeChecker();
  const found = new Map<string, Map<string, string>>();
  for (const entry of ENTRIES) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry) as ts.SourceFile);
    for (const exported of module === undefined ? [] : checker.getExportsOfModule(module)) {
      if (!exported.name.endsWith('Options') || exported.name.endsWith('ErrorOptions')) continue;
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const properties = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol));
      found.set(exported.name, new Map(properties.map((p) => [p.name, ts.displayPartsToString(p.getDocumentationComment(checker))])));
    }
  }
  return found;
}

describe('option units', () => {
  const options = optionsOfEntryPoints();

  it('the table lists every options interface of the three entry points, and every option of each', () => {
    assert.deepEqual([...options.keys()].sort(), Object.keys(UNITS).sort());
    for (const [name, properties] of options) assert.deepEqual([...properties.keys()].sort(), Object.keys(UNITS[name] ?? {}).sort(), name);
  });

  it('every duration is in seconds and says so; only the clock speaks milliseconds; no name carries a unit suffix', () => {
    for (const [name, properties] of options) {
      for (const [option, doc] of properties) {
        const unit = UNITS[name]?.[option] ?? '-';
        const says = SAYS[unit];
        if (says !== undefined) assert.match(doc, says, `${name}.${option} (${unit}): ${doc}`);
        if (unit !== 'clock') assert.doesNotMatch(doc, /milliseconds/i, `${name}.${option} speaks milliseconds`);
        assert.doesNotMatch(option, /(Ms|Millis|Seconds|Secs)$/, `${name}.${option} carries a unit suffix`);
      }
    }
  });
});
