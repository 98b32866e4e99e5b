/**
 * Removing the secrets of a request (a client secret, a refresh token) from text about it, before that
 * text reaches an error message or a log: what an endpoint or a custom fetch function echoes. Core: no
 * grpc import.
 */

/** Shorter values are not replaced: they would blank out ordinary words, and protect nothing. */
const SHORTEST_REDACTED = 4;

/**
 * Every form in which `value` crosses the wire in a token request: as is (a decoded echo), form-encoded
 * (`client_secret=a%2Bb` in the body, and inside Basic credentials), and URI-encoded (what
 * `encodeURIComponent` gives). An echo in any of them must be removed.
 *
 * @example
 * ```ts
 * wireForms('p+ss w0rd'); // ['p+ss w0rd', 'p%2Bss+w0rd', 'p%2Bss%20w0rd']
 * wireForms('s3cr3t'); // ['s3cr3t']
 * ```
 */
export function wireForms(value: string): string[] {
  return [...new Set([value, new URLSearchParams({ v: value }).toString().slice(2), encodeURIComponent(value)])];
}

/**
 * `text` with every occurrence of each of `secrets` replaced by `[redacted]`. Run it on the whole text,
 * before cutting or escaping it: a secret cut in two, or with a character escaped, no longer matches.
 *
 * @example
 * ```ts
 * redact('could not send client_secret=s3cr3t-value', ['s3cr3t-value']); // 'could not send client_secret=[redacted]'
 * ```
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let redacted = text;
  // Longest first: a secret that contains another is removed whole, not around a shorter one.
  const ordered = secrets.filter((secret): secret is string => secret !== undefined && secret.length >= SHORTEST_REDACTED).sort((a, b) => b.length - a.length);
  for (const secret of ordered) redacted = redacted.split(secret).join('[redacted]');
  return redacted;
}
