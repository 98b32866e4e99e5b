/**
 * What `inspect` finds out about a token, as data: printed for people by inspect-output.ts, or as JSON.
 */
import { isAuthError, type AuthError } from '../errors/auth-error.ts';
import { REFUSAL_STATUS } from '../errors/codes.ts';
import { parseCompactToken } from '../verify/compact.ts';
import { PROBLEM_KINDS, diagnose, type Diagnosis, type ProblemKind } from './diagnose.ts';
import { duration, isoTime, relative } from './format.ts';
import { escapeForTerminal } from '../util/unsafe-text.ts';
import { verifyToken, type VerifySettings } from './verification.ts';

/**
 * A time claim in human form.
 *
 * @example
 * ```ts
 * const exp: TimeFact = { epoch: 1767225600, iso: '2026-01-01T00:00:00.000Z', relative: 'in 57 minutes', summary: 'expires in 57 minutes' };
 * ```
 */
export interface TimeFact {
  /** The NumericDate, seconds since the epoch. */
  readonly epoch: number;
  readonly iso: string;
  /** `in 57 minutes`, `3 minutes ago`. */
  readonly relative: string;
  /** What it means for the token, e.g. `expired 3 minutes ago`. */
  readonly summary: string;
}

/**
 * Why a token is refused, with the fix: the `failure` of an {@link InspectReport}.
 *
 * @example
 * ```ts
 * declare const report: InspectReport;
 * const failure: Failure | null = report.failure;
 * if (failure) console.log(`${failure.check}: ${failure.problem}. Fix: ${failure.fix}`);
 * ```
 */
export interface Failure {
  readonly kind: ProblemKind;
  readonly kindDescription: string;
  readonly check: string;
  readonly problem: string;
  readonly fix: string;
  /** The library's error code, e.g. `ERR_AUTH_TOKEN_EXPIRED`. */
  readonly code: string;
  /** The `ErrorInfo` reason a server sends, e.g. `TOKEN_EXPIRED`. */
  readonly reason: string;
  /** The gRPC status a server answers with, e.g. `UNAUTHENTICATED`. */
  readonly grpcStatus: string;
  /** The library's log message (what `onRejected` would log). */
  readonly logMessage: string;
}

/**
 * Everything `inspect` reports; also its `--json` output.
 *
 * @example
 * ```ts
 * const report: InspectReport = await inspectToken(token, undefined, Date.now);
 * console.log(JSON.stringify(report, null, 2)); // what `inspect --json` prints
 * ```
 */
export interface InspectReport {
  /** The decoded header and claims; null when the token cannot be decoded. */
  readonly header: Readonly<Record<string, unknown>> | null;
  readonly claims: Readonly<Record<string, unknown>> | null;
  /** `exp`, `nbf` and `iat`, when present as numbers. */
  readonly times: Readonly<Record<string, TimeFact>>;
  /** True or false after verification; null when no keys were given (decoded only). */
  readonly verified: boolean | null;
  /** What it was verified against, when it was. */
  readonly verifiedWith: {
    readonly keys: string;
    readonly kid: string | null;
    readonly algorithms: readonly string[];
    readonly issuers: readonly string[];
    readonly audiences: readonly string[];
  } | null;
  readonly failure: Failure | null;
}

/** A size cap for decoding only, far above any token; verification applies the library's own (8 KiB). */
const DECODE_MAX_BYTES = 1024 * 1024;

const STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(REFUSAL_STATUS).map(([name, code]) => [code, name]));

function summarize(name: string, epoch: number, now: number): string {
  const delta = epoch - now / 1000;
  if (Math.abs(delta) < 1) return name === 'exp' ? 'expires now' : name === 'nbf' ? 'valid from now' : 'issued just now';
  const future = delta > 0;
  const span = duration(delta);
  switch (name) {
    case 'exp':
      return future ? `expires in ${span}` : `expired ${span} ago`;
    case 'nbf':
      return future ? `not valid yet: valid in ${span}` : `valid since ${span} ago`;
    default:
      return future ? `issued in the future (in ${span}): clocks disagree` : `issued ${span} ago`;
  }
}

function timesOf(claims: Readonly<Record<string, unknown>>, now: number): Record<string, TimeFact> {
  const times: Record<string, TimeFact> = {};
  for (const name of ['iat', 'nbf', 'exp']) {
    const epoch = claims[name];
    const iso = isoTime(epoch);
    if (typeof epoch === 'number' && iso !== undefined) times[name] = { epoch, iso, relative: relative(epoch, now), summary: summarize(name, epoch, now) };
  }
  return times;
}

/**
 * The texts of a failure quote the token (its kid, iss, alg; the library's message quotes claims with
 * `JSON.stringify`, which leaves C1 and bidi controls raw). They are prose to be shown, also when read
 * from `--json` (`jq -r .failure.problem`), so they are escaped here, where they are made.
 */
function failureOf(error: AuthError, diagnosis: Diagnosis): Failure {
  return {
    kind: diagnosis.kind,
    kindDescription: PROBLEM_KINDS[diagnosis.kind],
    check: escapeForTerminal(diagnosis.check),
    problem: escapeForTerminal(diagnosis.problem),
    fix: escapeForTerminal(diagnosis.fix),
    code: error.code,
    reason: error.reason,
    grpcStatus: STATUS_NAMES[error.status] ?? String(error.status),
    logMessage: escapeForTerminal(error.message),
  };
}

/** A token that cannot even be decoded: no settings matter, so the diagnosis needs none. */
function undecodable(error: AuthError, now: number): InspectReport {
  const expected = { algorithms: [], issuers: [], audiences: [], clockTolerance: 0 };
  const diagnosis = diagnose({
    error,
    header: {},
    claims: {},
    expected,
    keysOrigin: '',
    keysFlag: '',
    keysRemote: false,
    listing: undefined,
    fetchFailure: undefined,
    now,
  });
  return { header: null, claims: null, times: {}, verified: false, verifiedWith: null, failure: failureOf(error, diagnosis) };
}

/**
 * Decodes the token and, with settings, verifies it as a server would.
 *
 * @example
 * ```ts
 * import type { VerifySettings } from './verification.ts';
 * declare const settings: VerifySettings; // from the flags; undefined to decode only
 * const report = await inspectToken(token, settings, Date.now);
 * if (report.failure) console.log(report.failure.problem);
 * ```
 */
export async function inspectToken(token: string, settings: VerifySettings | undefined, clock: () => number): Promise<InspectReport> {
  let parsed;
  try {
    parsed = parseCompactToken(token, DECODE_MAX_BYTES);
  } catch (error) {
    settings?.source.close();
    if (!isAuthError(error)) throw error;
    return undecodable(error, clock());
  }
  const { header, claims } = parsed;
  const decoded = { header, claims, times: timesOf(claims, clock()) };
  if (settings === undefined) return { ...decoded, verified: null, verifiedWith: null, failure: null };
  const result = await verifyToken(token, parsed, settings, clock);
  const verifiedWith = {
    keys: settings.source.origin,
    kid: result.ok ? (result.kid ?? null) : null,
    algorithms: settings.algorithms,
    issuers: settings.issuers,
    audiences: settings.audiences,
  };
  return { ...decoded, verified: result.ok, verifiedWith, failure: result.ok ? null : failureOf(result.error, result.diagnosis) };
}
