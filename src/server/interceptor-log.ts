import { REFUSAL_STATUS } from '../errors/codes.ts';
import type { AuthenticatorOptions } from '../verify/authenticator.ts';
import type { RejectedEvent } from './events.ts';
import { writeLog, type Logger } from './logger.ts';

/**
 * Refusals an operator must see, but a flood must not flood the log: at most one warning per code this
 * long (seconds).
 *
 * @example
 * ```ts
 * const quietFor = UNAVAILABLE_WARNING_INTERVAL * 1000; // milliseconds between two warnings of one code
 * ```
 */
export const UNAVAILABLE_WARNING_INTERVAL = 60;

/** Why each UNAVAILABLE code is worth a warning: the server, not the caller, cannot serve. */
const UNAVAILABLE_CAUSES: Readonly<Record<string, string>> = {
  ERR_AUTH_VERIFIER_BUSY: 'maxConcurrentVerifications tokens were already being verified (a flood of new or forged tokens, or a bound too low for this load)',
  ERR_AUTH_KEYS_UNAVAILABLE: 'the verification keys could not be had (the key set cannot be fetched or refreshed)',
};

/**
 * Counts refusals with status UNAVAILABLE (shed by `maxConcurrentVerifications`, keys unavailable) and
 * says so at `warn`: at once for the first of a code, then at most once per
 * {@link UNAVAILABLE_WARNING_INTERVAL} with the number refused since the last warning. These are the
 * server's trouble, not the caller's: at `debug` they would go unseen, and once per call they would
 * drown the log during the very flood they report.
 */
class UnavailableWarnings {
  readonly #refused = new Map<string, { count: number; lastWarning: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number,
  ) {}

  record(code: string, method: string): void {
    let state = this.#refused.get(code);
    if (state === undefined) {
      state = { count: 0, lastWarning: Number.NEGATIVE_INFINITY };
      this.#refused.set(code, state);
    }
    state.count += 1;
    let now: number;
    try {
      now = this.clock();
    } catch {
      now = Number.NaN;
    }
    // A clock that fails (already refusing every call with INTERNAL, logged at error) never silences this.
    if (now - state.lastWarning < UNAVAILABLE_WARNING_INTERVAL * 1000) return;
    const refused = state.count;
    state.count = 0;
    state.lastWarning = now;
    writeLog(this.logger, 'warn', () => [
      { code, refused, method },
      `grpc-jwt-auth: ${refused} call(s) refused with UNAVAILABLE because ${UNAVAILABLE_CAUSES[code] ?? code}`,
    ]);
  }
}

/**
 * The `onRejected` the interceptor runs: the user's hook, and the logger. A refusal with status INTERNAL
 * is a bug or a broken hook (a `validate`, guard, `tokenFrom` or clock that throws): logged at `error`
 * with the error, whose `cause` holds what was thrown. A refusal with status UNAVAILABLE (shed, keys
 * unavailable) is the server's trouble: also at `warn`, rate-limited. Every refusal that is not INTERNAL
 * is logged at `debug`: code, reason, method, peer and the log message, which never holds the token.
 * Without a logger, the user's hook as it is.
 *
 * @example
 * ```ts
 * const onRejected = observeRejections((event) => console.warn(event.error.code), console, Date.now);
 * ```
 */
export function observeRejections(
  hook: ((event: RejectedEvent) => void) | undefined,
  logger: Logger | undefined,
  clock: () => number,
): ((event: RejectedEvent) => unknown) | undefined {
  if (logger === undefined) return hook;
  const unavailable = new UnavailableWarnings(logger, clock);
  return (event) => {
    const { method, peer, error } = event;
    const { code, reason } = error;
    if (error.status === REFUSAL_STATUS.INTERNAL) {
      writeLog(logger, 'error', () => [{ code, reason, method, peer, err: error }, `grpc-jwt-auth: ${method} refused with INTERNAL: ${error.message}`]);
    } else {
      writeLog(logger, 'debug', () => [{ code, reason, method, peer }, `grpc-jwt-auth: ${method} refused (${reason}): ${error.message}`]);
      if (error.status === REFUSAL_STATUS.UNAVAILABLE) unavailable.record(code, method);
    }
    // Returned, so that the caller handles the promise of an async hook.
    return hook?.(event);
  };
}

/** Issuers whose tokens are accepted for any audience: none given for them, nor at the top level. */
function withoutAudience(options: AuthenticatorOptions): string[] {
  if (options.issuers === undefined) return options.audience === undefined ? [String(options.issuer ?? 'the issuer')] : [];
  if (options.audience !== undefined) return [];
  return options.issuers.filter((entry) => entry.audience === undefined).map((entry) => entry.issuer);
}

/**
 * What the interceptor logs once it is created: an `info` line (where tokens are read, the issuers, the
 * bound) and a `warn` for each check left off that a production setup wants. Never a secret: issuers,
 * option names and counts only.
 *
 * @example
 * ```ts
 * logConfiguration(console, { keys, algorithms: ['ES256'], issuer: 'https://idp.example/' }, { tokenFrom: 'authorization metadata', maxConcurrentVerifications: 64 });
 * // warn: no audience configured ...
 * ```
 */
export function logConfiguration(
  logger: Logger | undefined,
  options: AuthenticatorOptions,
  facts: { readonly tokenFrom: string; readonly maxConcurrentVerifications: number },
): void {
  if (logger === undefined) return;
  const issuers = options.issuers?.map((entry) => entry.issuer) ?? (options.issuer === undefined ? [] : [options.issuer].flat());
  const algorithms = [...new Set(options.algorithms ?? options.issuers?.flatMap((entry) => entry.algorithms))];
  writeLog(logger, 'info', () => [{ ...facts, issuers, algorithms }, 'grpc-jwt-auth: interceptor created']);
  for (const issuer of withoutAudience(options)) {
    writeLog(logger, 'warn', () => [
      { option: 'audience', issuer },
      `grpc-jwt-auth: no audience configured for ${issuer}: tokens it issued for any other service are accepted here (set audience)`,
    ]);
  }
  if (options.issuers === undefined && options.issuer === undefined) {
    writeLog(logger, 'warn', () => [{ option: 'issuer' }, 'grpc-jwt-auth: no issuer configured: the iss claim is not checked (set issuer)']);
  }
}
