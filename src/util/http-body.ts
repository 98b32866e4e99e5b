/**
 * Reading an HTTP response body with a size cap, shared by every client of an identity provider (JWKS
 * and discovery fetches, the token endpoint). Core: no grpc import.
 */

/**
 * Reads `body` up to `maxBytes`, or gives undefined when it is longer. Past the cap the stream is
 * cancelled at once, so a huge or endless body from a broken or hostile endpoint (or whoever answers for
 * it) never sits in memory. A failing `cancel()` is ignored: the answer is already refused for its size,
 * and that is what the caller must report, not the clean-up's error.
 *
 * @example
 * ```ts
 * const response = await fetch('https://idp.example/.well-known/jwks.json');
 * const bytes = await readCappedBody(response.body, 256 * 1024);
 * if (bytes === undefined) throw new Error('response body exceeds 256 KiB');
 * ```
 */
export async function readCappedBody(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array | undefined> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
