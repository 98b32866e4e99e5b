/** `grpc-jwt-auth inspect`: decode a token, and with keys, verify it and explain a refusal. */
import { EXIT, ownLines } from './io.ts';
import type { Command, OptionSpec } from './args.ts';
import { renderInspectReport } from './inspect-output.ts';
import { inspectToken } from './inspect-report.ts';
import { readToken } from './token-input.ts';
import { verifySettingsFromArgs } from './verification.ts';

const OPTIONS: OptionSpec = {
  jwks: { type: 'string' },
  'issuer-url': { type: 'string' },
  secret: { type: 'string' },
  'secret-file': { type: 'string' },
  pem: { type: 'string' },
  alg: { type: 'string', multiple: true },
  iss: { type: 'string', multiple: true },
  aud: { type: 'string', multiple: true },
  'clock-tolerance': { type: 'string' },
  json: { type: 'boolean' },
};

const INSPECT_HELP = `Usage: grpc-jwt-auth inspect <token | -> [keys --alg <alg> [--iss <iss>] [--aud <aud>]] [--json]

Shows a token's header and claims, with times in human form. Nothing is verified unless you give keys:
then the token is verified exactly as the library's server interceptor would, and a refusal says which
check failed, why, and how to fix it (a token lifecycle problem, or an auth layer configuration one).

Arguments:
  <token>                  the token; "-" reads it from standard input ("Bearer " is stripped)

Keys (one of):
  --jwks <url | file>      a JWKS URL (https, or http to loopback), or a JWKS file
  --issuer-url <url>       an issuer, found by OpenID Connect / RFC 8414 discovery
  --secret <text>          an HMAC secret (HS256/384/512)
  --secret-file <file>     an HMAC secret read from a file (one trailing newline is ignored)
  --pem <file>             a public key or certificate, PEM

Checks:
  --alg <alg>              an allowed algorithm; repeat for more. Required with keys
  --iss <issuer>           the accepted issuer; repeat for more
  --aud <audience>         the accepted audience; repeat for more
  --clock-tolerance <s>    seconds of clock skew tolerated, 0 to 300 (default 60, as on the server)

Output:
  --json                   the report as JSON
  -h, --help               this help

Exit status: 0 decoded (and verified, if asked), 1 refused or undecodable, 2 usage error.

Examples:
  grpc-jwt-auth inspect eyJhbGciOi...
  pbpaste | grpc-jwt-auth inspect -
  grpc-jwt-auth inspect "$TOKEN" --issuer-url https://idp.example/ --alg RS256 --aud orders-api`;

/**
 * `inspect`: exit 0 when the token decodes (and verifies, with keys), 1 when it is refused.
 *
 * @example
 * ```ts
 * import { processIo } from './io.ts';
 * import { runCli } from './run.ts';
 * process.exitCode = await runCli(['inspect', 'eyJ...', '--json'], processIo()); // runs inspectCommand
 * ```
 */
export const inspectCommand: Command = {
  options: OPTIONS,
  maxPositionals: 1,
  help: INSPECT_HELP,
  async run({ values, positionals }, io) {
    const token = await readToken(positionals[0], io);
    const settings = verifySettingsFromArgs(values);
    const report = await inspectToken(token, settings, io.now);
    io.out(...(values.json ? ownLines(JSON.stringify(report, null, 2)) : renderInspectReport(report)));
    return report.failure ? EXIT.FAILED : EXIT.OK;
  },
};
