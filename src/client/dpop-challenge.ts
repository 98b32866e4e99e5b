/**
 * Recognising a DPoP nonce refusal by its `WWW-Authenticate` challenge (RFC 9449 §8, §9), as
 * oauth4webapi's `isDPoPNonceError` does: any resource server or token endpoint that asks for a nonce,
 * not only one whose refusal carries this library's ErrorInfo reason `DPOP_NONCE_REQUIRED`.
 */

/** RFC 9110 `token`: an auth-scheme or an auth-param name. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** One `name=value` auth-param (RFC 9110 §11.2), the value a token or a quoted string. */
const PARAM = new RegExp(`^(${TOKEN})[ \\t]*=[ \\t]*(?:(${TOKEN})|"((?:[^"\\\\]|\\\\[\\t\\x20-\\x7e])*)")`);
/** An auth-scheme starting a challenge. */
const SCHEME = new RegExp(`^(${TOKEN})(?=[ \\t]|,|$)`);
/** Longer challenge text is not parsed: a hostile server must not make us scan megabytes per call. */
const MAX_CHALLENGE_LENGTH = 8192;

/** One challenge: its scheme (lower case) and its auth-params (names lower case). */
interface Challenge {
  readonly scheme: string;
  readonly params: Map<string, string>;
}

/** The challenges of one `WWW-Authenticate` value, or undefined when it does not parse (then nothing is retried). */
function parseChallenges(value: string): Challenge[] | undefined {
  const challenges: Challenge[] = [];
  let rest = value.trim();
  while (rest !== '') {
    const scheme = SCHEME.exec(rest);
    if (scheme === null) return undefined;
    const challenge: Challenge = { scheme: scheme[1]!.toLowerCase(), params: new Map() };
    challenges.push(challenge);
    rest = rest.slice(scheme[0].length).replace(/^[ \t]+/, '');
    // auth-params, comma separated; a token that is not followed by `=` starts the next challenge.
    for (;;) {
      const param = PARAM.exec(rest);
      if (param === null) break;
      challenge.params.set(param[1]!.toLowerCase(), param[2] ?? param[3]!.replace(/\\(.)/g, '$1'));
      rest = rest.slice(param[0].length).replace(/^[ \t]*/, '');
      if (rest === '') break;
      if (!rest.startsWith(',')) return undefined;
      rest = rest.slice(1).replace(/^[ \t,]*/, '');
    }
    rest = rest.replace(/^[ \t,]*/, '');
  }
  return challenges;
}

/**
 * True when `values` (every `WWW-Authenticate` value of one refusal) hold exactly one challenge, and it is
 * `DPoP` with `error="use_dpop_nonce"`. Anything else, or text that does not parse, is not a nonce
 * refusal: retrying it would not help.
 *
 * @example
 * ```ts
 * isDpopNonceChallenge(['DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"']); // true
 * isDpopNonceChallenge(['Bearer realm="api", DPoP error="use_dpop_nonce"']); // false: two challenges
 * ```
 */
export function isDpopNonceChallenge(values: readonly unknown[]): boolean {
  if (!values.every((value): value is string => typeof value === 'string')) return false;
  if (values.reduce((length, value) => length + value.length, 0) > MAX_CHALLENGE_LENGTH) return false;
  const challenges: Challenge[] = [];
  for (const value of values) {
    const parsed = parseChallenges(value);
    if (parsed === undefined) return false;
    challenges.push(...parsed);
  }
  const [challenge] = challenges;
  return challenges.length === 1 && challenge!.scheme === 'dpop' && challenge!.params.get('error') === 'use_dpop_nonce';
}
