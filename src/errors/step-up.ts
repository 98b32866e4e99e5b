/**
 * Step-up authentication (RFC 9470): what a refused caller must do to get access, namely log in again
 * with a stronger method (`acrValues`) or more recently (`maxAge`). Shared by the server (guards, the
 * `www-authenticate` trailer, ErrorInfo) and the client (`stepUpChallenge`), so it lives here, without grpc-js.
 */

/**
 * What a step-up refusal asks of the user's next login (RFC 9470 §3): one of `acrValues` as its
 * authentication context class (`acr`), and an authentication no older than `maxAge` seconds.
 *
 * @example
 * ```ts
 * import type { StepUpChallenge } from 'grpc-jwt-auth';
 * const challenge: StepUpChallenge = { acrValues: ['mfa', 'phr'], maxAge: 300 };
 * ```
 */
export interface StepUpChallenge {
  /** Acceptable `acr` values, any one of which would do; sent as `acr_values="mfa phr"`. */
  readonly acrValues?: readonly string[];
  /** The longest time since the user authenticated that is accepted, in seconds; sent as `max_age="300"`. */
  readonly maxAge?: number;
}

/** The ErrorInfo metadata keys of a step-up refusal: `acrValues` (space-separated) and `maxAge` (decimal seconds). */
export const STEP_UP_METADATA = { acrValues: 'acrValues', maxAge: 'maxAge' } as const;

/** The most characters of one acr value: real ones are short names or URIs; this bounds the trailer. */
export const MAX_ACR_VALUE_LENGTH = 256;
/** The most acr values in one challenge (after `anyOf` merges them); more are dropped, never sent. */
export const MAX_ACR_VALUES = 32;
/** The largest `maxAge`, in seconds: the .proto's uint32. */
export const MAX_STEP_UP_MAX_AGE = 4_294_967_295;

// Printable ASCII except space, `"` and `\` (RFC 6749 scope-token, the form RFC 9470 gives acr values):
// space separates values in `acr_values`, a quote or backslash would break out of the quoted parameter.
const ACR_VALUE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * True for a string that can go into `acr_values="..."`: printable ASCII without spaces, quotes or
 * backslashes, at most {@link MAX_ACR_VALUE_LENGTH} characters.
 *
 * @example
 * ```ts
 * isAcrValue('urn:acme:loa:2'); // true
 * isAcrValue('mfa"'); // false
 * ```
 */
export function isAcrValue(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ACR_VALUE_LENGTH && ACR_VALUE.test(value);
}

/**
 * True for a `maxAge` that can be sent: a whole number of seconds from 1 to {@link MAX_STEP_UP_MAX_AGE}.
 *
 * @example
 * ```ts
 * isStepUpMaxAge(300); // true
 * isStepUpMaxAge(0); // false
 * ```
 */
export function isStepUpMaxAge(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_STEP_UP_MAX_AGE;
}

/**
 * The header-safe acr values of a list, deduplicated, at most {@link MAX_ACR_VALUES}, as a plain array.
 * Read by index, never through the list's own `filter` or iterator: an Array subclass may override them
 * to hand back anything.
 */
function safeAcrValues(list: readonly unknown[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < list.length && kept.length < MAX_ACR_VALUES; index++) {
    const value = list[index];
    if (isAcrValue(value) && !kept.includes(value)) kept.push(value);
  }
  return kept;
}

/**
 * A plain, frozen copy of a step-up challenge keeping only what may reach a header: acr values that
 * pass {@link isAcrValue} (deduplicated, at most {@link MAX_ACR_VALUES}), a `maxAge` that passes
 * {@link isStepUpMaxAge}. Undefined when `value` is not an object. A custom guard may build a challenge
 * from token content: this is what stops a claim from injecting text into the `www-authenticate`
 * trailer. Reads each member once; a throwing getter throws (the caller decides what that means).
 *
 * @example
 * ```ts
 * copyStepUpChallenge({ acrValues: ['mfa', 'a"b', 'mfa'], maxAge: 0 }); // { acrValues: ['mfa'] }
 * copyStepUpChallenge('mfa'); // undefined
 * ```
 */
export function copyStepUpChallenge(value: unknown): StepUpChallenge | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { acrValues, maxAge } = value as { acrValues?: unknown; maxAge?: unknown };
  const values = Array.isArray(acrValues) ? safeAcrValues(acrValues as readonly unknown[]) : [];
  return Object.freeze({
    ...(values.length > 0 ? { acrValues: Object.freeze(values) } : {}),
    ...(isStepUpMaxAge(maxAge) ? { maxAge } : {}),
  });
}

/**
 * One challenge asking for everything several do (`anyOf` refusing with more than one step-up): the
 * acr values of all, in order, and the smallest `maxAge`. A login meeting it meets each of them.
 *
 * @example
 * ```ts
 * mergeStepUpChallenges([{ acrValues: ['mfa'], maxAge: 600 }, { acrValues: ['hwk'], maxAge: 300 }]); // { acrValues: ['mfa', 'hwk'], maxAge: 300 }
 * ```
 */
export function mergeStepUpChallenges(challenges: readonly StepUpChallenge[]): StepUpChallenge {
  const acrValues = challenges.flatMap((challenge) => challenge.acrValues ?? []);
  const maxAges = challenges.flatMap((challenge) => (challenge.maxAge === undefined ? [] : [challenge.maxAge]));
  return copyStepUpChallenge({ acrValues, ...(maxAges.length > 0 ? { maxAge: Math.min(...maxAges) } : {}) }) as StepUpChallenge;
}

/**
 * One challenge asking for what several challenges of `allOf` each demand: the acr values every one
 * that names acr values accepts (in the first one's order), and the smallest `maxAge`. When no acr
 * value is accepted by all of them (two `requireAcr` with nothing in common: no login can pass), the
 * first one's values are kept, as `allOf` would have sent them alone.
 *
 * @example
 * ```ts
 * combineStepUpChallenges([{ acrValues: ['mfa', 'hwk'] }, { acrValues: ['hwk'] }, { maxAge: 300 }]); // { acrValues: ['hwk'], maxAge: 300 }
 * ```
 */
export function combineStepUpChallenges(challenges: readonly StepUpChallenge[]): StepUpChallenge {
  const lists = challenges.flatMap((challenge) => (challenge.acrValues ? [challenge.acrValues] : []));
  const [first = [], ...others] = lists;
  const common = first.filter((value) => others.every((list) => list.includes(value)));
  const maxAges = challenges.flatMap((challenge) => (challenge.maxAge === undefined ? [] : [challenge.maxAge]));
  return copyStepUpChallenge({
    acrValues: common.length > 0 ? common : first,
    ...(maxAges.length > 0 ? { maxAge: Math.min(...maxAges) } : {}),
  }) as StepUpChallenge;
}
