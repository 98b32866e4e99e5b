import { AuthConfigError, AuthError } from '../errors.ts';
import { importJwks } from './jwk.ts';
import { KeySet, checkAlgorithmsServed, keyNotFound } from './key-set.ts';
import { SUPPORTED_ALGORITHMS } from './key-algorithms.ts';
import type { KeyLookup, KeyResolver, VerificationKey } from './resolver.ts';

/** Options of a remote {@link fromJwks}. */
export interface RemoteJwksOptions {
  /** Milliseconds a fetch may take. Default 5000. */
  readonly timeoutMs?: number;
  /** Milliseconds fetched keys are used before a refetch. Default 10 minutes. */
  readonly cacheMaxAgeMs?: number;
  /** Minimum milliseconds between refetches caused by unknown `kid`s. Default 30 s. */
  readonly cooldownMs?: number;
  /** Allows `http:` URLs that are not loopback. Default false: keys over plaintext can be swapped. */
  readonly allowInsecureHttp?: boolean;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Checks a JWKS URL at construction; plaintext is only allowed to loopback unless opted in. */
export function parseKeyUrl(source: string | URL, option: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new AuthConfigError(option, `not a valid URL: ${JSON.stringify(String(source))}`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol !== 'http:') throw new AuthConfigError(option, `protocol ${url.protocol} is not supported; use https:`);
  if (!allowInsecureHttp && !LOOPBACK_HOSTS.has(url.hostname) && !url.hostname.startsWith('127.')) {
    throw new AuthConfigError(option, 'http: is only allowed for loopback hosts; use https: or set allowInsecureHttp');
  }
  return url;
}

/** Fetches and caches a remote JWKS, refetching on unknown kids at most once per cooldown. */
export class RemoteJwksResolver implements KeyResolver {
  readonly kind = 'public';
  readonly description: string;
  readonly #url: URL;
  readonly #timeoutMs: number;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  #set: KeySet | undefined;
  #fetchedAt = 0;
  #inFlight: Promise<KeySet> | undefined;

  constructor(source: string | URL, options: RemoteJwksOptions) {
    this.#url = parseKeyUrl(source, 'jwksUri', options.allowInsecureHttp ?? false);
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#maxAgeMs = options.cacheMaxAgeMs ?? 600_000;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.description = `fromJwks(${this.#url.href})`;
  }

  checkAlgorithms(algorithms: readonly string[], option: string): void {
    // The keys are not known before the first fetch; refuse what no public key can ever verify.
    const publicAlgorithms = SUPPORTED_ALGORITHMS.filter((alg) => !alg.startsWith('HS'));
    checkAlgorithmsServed([{ kid: undefined, algorithms: new Set(publicAlgorithms), material: () => { throw new Error('unreachable'); } }], algorithms, option, this.description);
  }

  async getKeys(lookup: KeyLookup): Promise<readonly VerificationKey[]> {
    let set = this.#set;
    const now = Date.now();
    if (set === undefined || now - this.#fetchedAt > this.#maxAgeMs) set = await this.#refresh();
    let found = set.find(lookup, 3);
    if (found.length === 0 && lookup.kid !== undefined && !set.hasKid(lookup.kid) && now - this.#fetchedAt > this.#cooldownMs) {
      set = await this.#refresh();
      found = set.find(lookup, 3);
    }
    if (found.length === 0) throw keyNotFound(lookup, this.description);
    return found;
  }

  holds(key: VerificationKey): boolean {
    return this.#set?.has(key) ?? false;
  }

  async ready(): Promise<void> {
    await this.#refresh();
  }

  #refresh(): Promise<KeySet> {
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #fetch(): Promise<KeySet> {
    let keys: VerificationKey[];
    try {
      const response = await fetch(this.#url, { redirect: 'error', signal: AbortSignal.timeout(this.#timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      keys = importJwks(await response.json()).keys;
    } catch (cause) {
      if (this.#set) return this.#set;
      throw new AuthError('ERR_AUTH_KEYS_UNAVAILABLE', `${this.description}: fetch failed: ${(cause as Error).message}`, { cause });
    }
    this.#set = new KeySet(keys);
    this.#fetchedAt = Date.now();
    return this.#set;
  }
}
