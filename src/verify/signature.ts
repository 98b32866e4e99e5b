import { compactVerify, errors as joseErrors, type VerifyOptions as JoseVerifyOptions } from 'jose';
import { AuthError, toAuthError } from '../errors/auth-error.ts';
import type { KeyResolver, VerificationKey } from '../keys/resolver.ts';
import { isThenable } from '../util/thenable.ts';
import { checkHeader, type HeaderPolicy } from './header.ts';

/** Maps a jose error to ours; the jose error stays attached as `cause` for logs. */
function fromJoseError(error: unknown): AuthError {
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return new AuthError('ERR_AUTH_SIGNATURE_INVALID', 'token signature does not verify', { cause: error });
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new AuthError('ERR_AUTH_ALG_NOT_ALLOWED', error.message, { cause: error });
  if (error instanceof joseErrors.JWSInvalid) return new AuthError('ERR_AUTH_TOKEN_MALFORMED', error.message, { cause: error });
  if (error instanceof joseErrors.JOSENotSupported) return new AuthError('ERR_AUTH_TOKEN_HEADER_INVALID', error.message, { cause: error });
  return toAuthError(error, 'unexpected error while verifying');
}

const rethrowFromJose = (error: unknown): never => {
  throw fromJoseError(error);
};

/** jose's options per algorithm, made once: the allowlist handed to jose is the one algorithm already checked (jose re-checks it). */
const onlyAlgorithm = new Map<string, JoseVerifyOptions>();

function allowOnly(alg: string): JoseVerifyOptions {
  let options = onlyAlgorithm.get(alg);
  if (options === undefined) {
    options = Object.freeze({ algorithms: Object.freeze([alg]) as string[] });
    onlyAlgorithm.set(alg, options);
  }
  return options;
}

/**
 * The signature layer: header policy, key lookup, then jose's check of the compact JWS. Resolves with
 * what `verified` makes of the key that verified it (in the same promise step as jose's answer; what
 * `verified` throws is not taken for a jose error). The token must already have passed the strict format check. Not async, so a
 * verification with one synchronous key (a static resolver, an imported key) waits on jose alone: a
 * refusal found before jose is called (header policy, a resolver that throws) is thrown synchronously,
 * and the caller turns it into a rejection. The resolver is asked once per call, whatever it answers
 * with (a promise answer is passed on, never asked for again).
 */
export function verifySignature<T>(
  token: string,
  header: Readonly<Record<string, unknown>>,
  policy: HeaderPolicy,
  keys: KeyResolver,
  verified: (key: VerificationKey) => T,
): Promise<T> {
  const lookup = checkHeader(header, policy);
  const { alg } = lookup;
  let candidates: readonly VerificationKey[] | Promise<readonly VerificationKey[]>;
  let pending: Promise<readonly VerificationKey[]> | undefined;
  try {
    candidates = keys.getKeys(lookup);
    // Inside the try: reading `then` (a getter of a resolver's answer) is the resolver's code too.
    if (isThenable(candidates)) pending = Promise.resolve(candidates);
  } catch (error) {
    throw fromJoseError(error);
  }
  if (pending !== undefined) return pending.then((found) => verifyWithAny(token, found, alg, verified), rethrowFromJose);
  const found = candidates as readonly VerificationKey[];
  // One key that fits (a token with a kid, or a single configured key): the common case.
  if (Array.isArray(found) && found.length === 1) return verifyWithOne(token, found[0] as VerificationKey, alg, verified);
  return verifyWithAny(token, found, alg, verified);
}

/** One candidate: jose's promise and one reaction, no suspended async frame. */
function verifyWithOne<T>(token: string, key: VerificationKey, alg: string, verified: (key: VerificationKey) => T): Promise<T> {
  let checked: Promise<unknown>;
  try {
    const material = key.material(alg);
    checked = isThenable(material)
      ? Promise.resolve(material).then((resolved) => compactVerify(token, resolved, allowOnly(alg)))
      : compactVerify(token, material, allowOnly(alg));
  } catch (error) {
    return Promise.reject(fromJoseError(error));
  }
  return checked.then(() => verified(key), rethrowFromJose);
}

/** Several keys only for a token without kid (bounded by the resolver); the first that verifies wins. */
async function verifyWithAny<T>(token: string, candidates: readonly VerificationKey[], alg: string, verified: (key: VerificationKey) => T): Promise<T> {
  return verified(await firstVerifying(token, candidates, alg));
}

async function firstVerifying(token: string, candidates: readonly VerificationKey[], alg: string): Promise<VerificationKey> {
  let failure: unknown;
  for (const key of candidates) {
    try {
      await compactVerify(token, await key.material(alg), allowOnly(alg));
      return key;
    } catch (error) {
      failure = error;
    }
  }
  throw fromJoseError(failure ?? new AuthError('ERR_AUTH_KEY_NOT_FOUND'));
}
