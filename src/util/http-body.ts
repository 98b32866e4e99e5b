/**
 * Reading an HTTP response body with a size cap, shared by every client of an identity provider (JWKS
 * and discovery fetches, the token endpoint). Core: no grpc import.
 */
import { types } from 'node:util';

/** The part of a web `ReadableStream` reader the cap uses; anything else a custom fetch returns is refused. */
interface BodyReader {
  read(): unknown;
  cancel(): unknown;
}

/** Waits for `work`, unless something (a deadline) ends the wait first; see `guardedFetch`. */
export type Race = <T>(work: Promise<T>) => Promise<T>;

/**
 * A body that is not a stream of bytes: what a custom `fetch` (or a broken one) may hand us instead of a
 * `Response` body. Thrown by {@link readCappedBody}.
 *
 * @example
 * ```ts
 * declare const body: ReadableStream<Uint8Array>; // from a custom fetch: may hand out strings
 * try {
 *   await readCappedBody(body, 1024);
 * } catch (error) {
 *   if (error instanceof BodyShapeError) console.warn('the fetch function returned a body that is not bytes');
 * }
 * ```
 */
export class BodyShapeError extends Error {
  override readonly name = 'BodyShapeError';
}

const waitFor: Race = (work) => work;

// The engine's own getter: it reads the array's internal length, which no own property or prototype can fake.
const typedArrayByteLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, 'byteLength')?.get as (
  this: Uint8Array,
) => number;

/**
 * The true size of a chunk, or undefined when it is not bytes. `instanceof Uint8Array` and `.byteLength`
 * would believe an object with the Uint8Array prototype, or real bytes with a `byteLength` of their own:
 * a negative one winds the cap back, and the body is then read without limit.
 */
function chunkSize(value: unknown): number | undefined {
  return types.isUint8Array(value) ? typedArrayByteLength.call(value) : undefined;
}

/** Calls `action`, turning a synchronous throw into a rejection: a hostile reader may do either. */
function attempt(action: () => unknown): Promise<unknown> {
  try {
    return Promise.resolve(action());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Cancels a reader without waiting and without letting its failure escape: the body is already refused,
 * and a `cancel()` that throws, rejects or never settles must not change why, nor leave a rejection
 * unhandled.
 */
function cancelQuietly(reader: BodyReader): void {
  attempt(() => reader.cancel()).catch(() => undefined);
}

/**
 * Reads `body` up to `maxBytes`, or gives undefined when it is longer. Past the cap the stream is
 * cancelled at once, so a huge or endless body from a broken or hostile endpoint (or whoever answers for
 * it) never sits in memory, whatever its `content-length` said. Every read goes through `race`, so a
 * deadline ends a body that stalls even when the stream ignores the request's abort signal; on any
 * failure the stream is cancelled. A chunk that is not bytes (a custom fetch returning strings) throws a
 * {@link BodyShapeError}; a failing read rethrows its error.
 *
 * @example
 * ```ts
 * const response = await fetch('https://idp.example/.well-known/jwks.json');
 * const bytes = await readCappedBody(response.body, 256 * 1024);
 * if (bytes === undefined) throw new Error('response body exceeds 256 KiB');
 * ```
 */
export async function readCappedBody(body: ReadableStream<Uint8Array> | null, maxBytes: number, race: Race = waitFor): Promise<Uint8Array | undefined> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader() as unknown as BodyReader | null | undefined;
  if (typeof reader?.read !== 'function' || typeof reader.cancel !== 'function') throw new BodyShapeError('the body is not a readable stream');
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const result = (await race(attempt(() => reader.read()))) as { done?: unknown; value?: unknown } | null | undefined;
      if (typeof result !== 'object' || result === null) throw new BodyShapeError('a body read gave no result');
      if (result.done === true) break;
      const { value } = result;
      const size = chunkSize(value);
      if (size === undefined) throw new BodyShapeError('a body chunk is not bytes');
      total += size;
      if (total > maxBytes) {
        cancelQuietly(reader);
        return undefined;
      }
      // A copy made from the internal slots: an own `length` or `buffer` cannot skew what is joined.
      chunks.push(new Uint8Array(value as Uint8Array));
    }
  } catch (error) {
    cancelQuietly(reader);
    throw error;
  }
  return Buffer.concat(chunks, total);
}
