import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCappedBody } from '../../src/util/http-body.ts';

/** A real web stream that hands out `chunks` one pull at a time and records whether it was cancelled. */
function streamOf(chunks: readonly Uint8Array[], onCancel: () => void = () => undefined) {
  const state = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[state.pulls++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
      onCancel();
    },
  });
  return { stream, state };
}

const bytes = (length: number, fill = 0x61) => new Uint8Array(length).fill(fill);

describe('readCappedBody: the one capped body reader', () => {
  it('joins the chunks of a body within the cap, up to exactly the cap; no body is empty', async () => {
    const { stream } = streamOf([bytes(3, 0x61), bytes(2, 0x62)]);
    assert.equal(Buffer.from((await readCappedBody(stream, 5)) ?? []).toString(), 'aaabb');
    assert.equal((await readCappedBody(null, 5))?.byteLength, 0);
  });

  it('past the cap: undefined, and the stream is cancelled instead of read to its end', async () => {
    const { stream, state } = streamOf([bytes(4), bytes(4), bytes(4), bytes(4)]);
    assert.equal(await readCappedBody(stream, 6), undefined);
    assert.equal(state.cancelled, true);
    assert.ok(state.pulls < 4, 'the rest of the body was never pulled');
  });

  it('a cancel() that fails does not turn "too large" into a different error', async () => {
    const { stream, state } = streamOf([bytes(8), bytes(8)], () => {
      throw new Error('socket already destroyed');
    });
    assert.equal(await readCappedBody(stream, 6), undefined);
    assert.equal(state.cancelled, true);
  });
});
