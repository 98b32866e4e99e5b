/** `grpc-jwt-auth serve-issuer`: the test issuer's loopback identity provider, for local development. */
import type { Algorithm } from '../keys/key-algorithms.ts';
import { createTestIssuer } from '../testing/test-issuer.ts';
import type { TestClient } from '../testing/token-endpoint.ts';
import { UsageError, listOption, numberOption, stringOption, supportedAlgorithm, type Command, type OptionSpec, type ParsedArgs } from './args.ts';
import { lines } from './format.ts';
import { EXIT, type CommandIo } from './io.ts';

const OPTIONS: OptionSpec = {
  port: { type: 'string' },
  alg: { type: 'string' },
  aud: { type: 'string' },
  client: { type: 'string', multiple: true },
  'token-lifetime': { type: 'string' },
  json: { type: 'boolean' },
};

const SERVE_ISSUER_HELP = `Usage: grpc-jwt-auth serve-issuer [--port <port>] [--alg <alg>] [--aud <audience>] [--client <id>:<secret>]... [--json]

Runs a throw-away identity provider on 127.0.0.1 for local development: OpenID Connect discovery, a
JWKS and an OAuth 2.0 token endpoint (client credentials and refresh token grants). Its key is made at
start and forgotten at exit. Not for production. Stops cleanly on Ctrl-C or SIGTERM.

Options:
  --port <port>            port on 127.0.0.1 (default 0: any free port)
  --alg <alg>              signing algorithm, a public-key one (default ES256)
  --aud <audience>         the aud of issued tokens (default test-audience)
  --client <id>:<secret>   a client of the token endpoint; repeatable (default test-client:test-secret)
  --token-lifetime <s>     access token lifetime in seconds (default 300)
  --json                   print the URLs as one line of JSON
  -h, --help               this help

Example:
  grpc-jwt-auth serve-issuer --port 8080 --client worker:dev-secret
  curl -s -u worker:dev-secret -d grant_type=client_credentials http://127.0.0.1:8080/token`;

function clientsFromArgs(values: ParsedArgs['values']): Record<string, TestClient> {
  const entries = listOption(values, 'client');
  if (entries.length === 0) return { 'test-client': { secret: 'test-secret' } };
  const clients: Record<string, TestClient> = {};
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1) throw new UsageError(`--client ${JSON.stringify(entry)}: expected <id>:<secret>`);
    clients[entry.slice(0, colon)] = { secret: entry.slice(colon + 1) };
  }
  return clients;
}

function algorithmOption(values: ParsedArgs['values']): Algorithm {
  const alg = supportedAlgorithm(stringOption(values, 'alg') ?? 'ES256');
  // A JWKS publishes public keys only: nobody could verify tokens signed with a secret kept here.
  if (alg.startsWith('HS')) throw new UsageError(`--alg ${alg}: an identity provider publishes public keys; use RS256, ES256, EdDSA...`);
  return alg;
}

/** Serves until Ctrl-C or SIGTERM. */
async function serveIssuer({ values }: ParsedArgs, io: CommandIo): Promise<number> {
  const alg = algorithmOption(values);
  const port = numberOption(values, 'port', { min: 0, max: 65_535, integer: true }) ?? 0;
  const accessTokenLifetime = numberOption(values, 'token-lifetime', { min: 1, max: 86_400 }) ?? 300;
  const clients = clientsFromArgs(values);
  const issuer = await createTestIssuer({ alg, audience: stringOption(values, 'aud') ?? 'test-audience' });
  const served = await issuer.serve({ port, token: { clients, accessTokenLifetime } });
  const facts = {
    issuer: served.url,
    discoveryUrl: served.discoveryUrl,
    jwksUri: served.jwksUri,
    tokenUrl: served.tokenUrl,
    alg,
    kid: issuer.kid,
    audience: issuer.audience,
    clients: Object.keys(clients),
  };
  if (values.json) io.out(JSON.stringify(facts));
  else {
    const [firstId = 'test-client'] = facts.clients;
    io.out(
      'Test identity provider (for development only: its key is forgotten when it stops)',
      ...lines([
        ['issuer', facts.issuer],
        ['discovery', facts.discoveryUrl],
        ['JWKS', facts.jwksUri],
        ['token endpoint', `${facts.tokenUrl} (clients: ${facts.clients.join(', ')})`],
        ['signing', `${alg}, key ${facts.kid}; tokens for audience ${facts.audience}, valid ${accessTokenLifetime} s`],
      ]),
      '',
      `Server:   createAuthInterceptor({ keys: fromIssuer('${facts.issuer}'), algorithms: ['${alg}'], issuer: '${facts.issuer}', audience: '${facts.audience}' })`,
      `A token:  curl -s -u ${firstId}:<secret> -d grant_type=client_credentials ${facts.tokenUrl}`,
      '',
      'Press Ctrl-C to stop.',
    );
  }
  const signal = await io.stopRequested();
  await served.close();
  io.err(`stopped (${signal})`);
  return EXIT.OK;
}

/**
 * `serve-issuer`: runs until Ctrl-C or SIGTERM, then exits 0.
 *
 * @example
 * ```ts
 * import { processIo } from './io.ts';
 * import { runCli } from './run.ts';
 * process.exitCode = await runCli(['serve-issuer', '--port', '8080'], processIo()); // runs serveIssuerCommand
 * ```
 */
export const serveIssuerCommand: Command = { options: OPTIONS, maxPositionals: 0, help: SERVE_ISSUER_HELP, run: serveIssuer };
