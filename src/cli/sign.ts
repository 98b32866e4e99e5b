/** `grpc-jwt-auth sign`: mint a development token, from a fresh test issuer or with a given key. */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { MIN_SECRET_BYTES, algorithmsForPublicKey, algorithmsForSecret, type Algorithm } from '../keys/key-algorithms.ts';
import { createTestIssuer } from '../testing/test-issuer.ts';
import {
  UsageError,
  listOption,
  numberOption,
  readOptionFile,
  readSecretFile,
  stringOption,
  supportedAlgorithm,
  type Command,
  type OptionSpec,
  type ParsedArgs,
} from './args.ts';
import { EXIT, ownLines, type CommandIo } from './io.ts';

const OPTIONS: OptionSpec = {
  alg: { type: 'string' },
  secret: { type: 'string' },
  'secret-file': { type: 'string' },
  key: { type: 'string' },
  kid: { type: 'string' },
  sub: { type: 'string' },
  iss: { type: 'string' },
  aud: { type: 'string', multiple: true },
  scope: { type: 'string' },
  claim: { type: 'string', multiple: true },
  'expires-in': { type: 'string' },
  'print-jwks': { type: 'boolean' },
  json: { type: 'boolean' },
};

const SIGN_HELP = `Usage: grpc-jwt-auth sign [--alg <alg>] [--secret <text> | --secret-file <file> | --key <file>] [claims] [--json]

Mints a token for development and tests, and prints it. Without a key, a test issuer with a fresh key
signs it (defaults: sub "test-user", iss "https://issuer.test", aud "test-audience"); that key is gone
when the command ends, so add --print-jwks to get its public key set. With a key, only the claims you
give are set (plus iat and exp).

Key (optional, one of):
  --secret <text>          sign with an HMAC secret (HS256 by default; at least 32 bytes)
  --secret-file <file>     the same, read from a file (one trailing newline is ignored)
  --key <file>             sign with a private key, PEM (PKCS#8, PKCS#1 or SEC1)
  --alg <alg>              the algorithm; default ES256 for a fresh key, else what the key suits
  --kid <kid>              the key id in the header

Claims:
  --sub <subject>  --iss <issuer>  --aud <audience> (repeatable)  --scope "<scope> <scope>"
  --claim <name>=<value>   any claim; the value is JSON if it parses ({"a":1}, 42, true, ["x"]), else
                           a string. Repeatable; applied last, so it may override the above
  --expires-in <seconds>   lifetime, default 3600; negative for an expired token: --expires-in=-60

Output:
  --print-jwks             also print the public key set (fresh key or --key), on the next line
  --json                   { token, header, claims, jwks } as JSON
  -h, --help               this help

Examples:
  grpc-jwt-auth sign --sub alice --scope "orders:read" --print-jwks
  grpc-jwt-auth sign --secret-file ./dev-secret --iss https://idp.example/ --aud orders-api --expires-in=-60`;

/** The payload from the flags: sub, iss, aud, scope, then every --claim. */
function claimsFromArgs(values: ParsedArgs['values']): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  const sub = stringOption(values, 'sub');
  const iss = stringOption(values, 'iss');
  const scope = stringOption(values, 'scope');
  const audiences = listOption(values, 'aud');
  if (sub !== undefined) claims.sub = sub;
  if (iss !== undefined) claims.iss = iss;
  if (audiences.length > 0) claims.aud = audiences.length === 1 ? audiences[0] : audiences;
  if (scope !== undefined) claims.scope = scope;
  for (const entry of listOption(values, 'claim')) {
    const equals = entry.indexOf('=');
    if (equals <= 0) throw new UsageError(`--claim ${JSON.stringify(entry)}: expected <name>=<value>`);
    const text = entry.slice(equals + 1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    claims[entry.slice(0, equals)] = value;
  }
  return claims;
}

function algorithmOption(values: ParsedArgs['values']): Algorithm | undefined {
  const alg = stringOption(values, 'alg');
  return alg === undefined ? undefined : supportedAlgorithm(alg);
}

/** A key given on the command line, with the algorithm to sign with. */
interface GivenKey {
  readonly key: KeyObject | Uint8Array;
  readonly alg: Algorithm;
  readonly publicJwk: Record<string, unknown> | undefined;
}

function secretKey(secret: string, alg: Algorithm | undefined): GivenKey {
  const bytes = new TextEncoder().encode(secret);
  const chosen = alg ?? 'HS256';
  if (!chosen.startsWith('HS')) throw new UsageError(`--alg ${chosen} needs a private key (--key), not a secret`);
  if (!algorithmsForSecret(bytes.byteLength).has(chosen)) {
    const needed = MIN_SECRET_BYTES[chosen as keyof typeof MIN_SECRET_BYTES];
    throw new UsageError(`the secret has ${bytes.byteLength} bytes; ${chosen} needs at least ${needed} (servers refuse shorter ones)`);
  }
  return { key: bytes, alg: chosen, publicJwk: undefined };
}

function privateKey(pem: string, alg: Algorithm | undefined): GivenKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UsageError('--key must be a private key in PEM (PKCS#8, PKCS#1 or SEC1)');
  }
  const publicKey = createPublicKey(key);
  let suits: Set<string>;
  try {
    suits = algorithmsForPublicKey(publicKey);
  } catch (error) {
    throw new UsageError(`--key: ${(error as Error).message}`);
  }
  const chosen = alg ?? ([...suits][0] as Algorithm);
  if (!suits.has(chosen)) throw new UsageError(`--alg ${chosen} does not fit this key, which signs ${[...suits].join(', ')}`);
  return { key, alg: chosen, publicJwk: { ...publicKey.export({ format: 'jwk' }), alg: chosen, use: 'sig' } };
}

async function signWithKey(given: GivenKey, claims: Record<string, unknown>, expiresIn: number, kid: string | undefined, now: number) {
  const iat = Math.floor(now / 1000);
  const payload = { iat, exp: iat + expiresIn, ...claims };
  const header = { alg: given.alg, typ: 'JWT', ...(kid === undefined ? {} : { kid }) };
  const token = await new SignJWT(payload).setProtectedHeader(header).sign(given.key);
  const jwks = given.publicJwk ? { keys: [{ ...given.publicJwk, ...(kid === undefined ? {} : { kid }) }] } : undefined;
  return { token, header, claims: payload, jwks };
}

async function signWithTestIssuer(alg: Algorithm | undefined, claims: Record<string, unknown>, expiresIn: number, kid: string | undefined) {
  const chosen = alg ?? 'ES256';
  // A fresh secret would vanish with this process, leaving a token nobody can verify.
  if (chosen.startsWith('HS')) throw new UsageError(`${chosen} needs --secret or --secret-file: a fresh secret would be lost when this command ends`);
  const issuer = await createTestIssuer({ alg: chosen, ...(kid === undefined ? {} : { kid }) });
  const token = await issuer.sign(claims, { expiresIn });
  return { token, header: decodeProtectedHeader(token), claims: decodeJwt(token), jwks: issuer.jwks };
}

async function sign({ values }: ParsedArgs, io: CommandIo): Promise<number> {
  const alg = algorithmOption(values);
  const kid = stringOption(values, 'kid');
  const claims = claimsFromArgs(values);
  const tenYears = 10 * 365 * 86_400;
  const expiresIn = numberOption(values, 'expires-in', { min: -tenYears, max: tenYears, integer: true }) ?? 3600;
  const keyFlags = (['secret', 'secret-file', 'key'] as const).filter((flag) => values[flag] !== undefined);
  if (keyFlags.length > 1) throw new UsageError(`give one key, not ${keyFlags.map((flag) => `--${flag}`).join(' and ')}`);
  const [keyFlag] = keyFlags;
  const keyValue = keyFlag === undefined ? '' : (stringOption(values, keyFlag) ?? '');
  let given: GivenKey | undefined;
  if (keyFlag === 'secret') given = secretKey(keyValue, alg);
  else if (keyFlag === 'secret-file') given = secretKey(readSecretFile(keyValue, keyFlag), alg);
  else if (keyFlag === 'key') given = privateKey(readOptionFile(keyValue, keyFlag), alg);
  if (values['print-jwks'] && given !== undefined && given.publicJwk === undefined) {
    throw new UsageError('--print-jwks: a secret has no public key set; share the secret itself, out of band');
  }
  const signed = given ? await signWithKey(given, claims, expiresIn, kid, io.now()) : await signWithTestIssuer(alg, claims, expiresIn, kid);
  if (values.json) io.out(...ownLines(JSON.stringify(signed, null, 2)));
  else {
    io.out(signed.token);
    if (values['print-jwks']) io.out(JSON.stringify(signed.jwks));
  }
  return EXIT.OK;
}

/**
 * `sign`: prints a token (and with `--print-jwks`, the key set that verifies it), exits 0.
 *
 * @example
 * ```ts
 * import { processIo } from './io.ts';
 * import { runCli } from './run.ts';
 * process.exitCode = await runCli(['sign', '--sub', 'alice', '--print-jwks'], processIo()); // runs signCommand
 * ```
 */
export const signCommand: Command = { options: OPTIONS, maxPositionals: 0, help: SIGN_HELP, run: sign };
