/**
 * The rate-limited warning of UNAVAILABLE refusals (interceptor-log.ts): the count held back during the
 * minute is written when the minute ends, by a timer (here node:test's mock timers, so no test waits a
 * minute), and that timer never keeps a process alive.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { AuthError } from '../../src/index.ts';
import type { RejectedEvent } from '../../src/server/events.ts';
import { UNAVAILABLE_WARNING_INTERVAL, observeRejections } from '../../src/server/interceptor-log.ts';

function busy(): RejectedEvent {
  return { method: '/p.S/M', peer: 'ipv4:127.0.0.1:1', metadata: new Metadata(), error: new AuthError('ERR_AUTH_VERIFIER_BUSY') } as RejectedEvent;
}

describe('UNAVAILABLE warnings: the count held back is written when the minute ends', () => {
  afterEach(() => mock.timers.reset());

  it('first refusal at once; the next ones, held back, in one warning when the interval ends; nothing more while quiet', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    let now = 1_000_000;
    const warnings: Array<Record<string, unknown>> = [];
    const { onRejected } = observeRejections(undefined, { warn: (fields) => warnings.push(fields) }, () => now);
    for (let i = 0; i < 5; i++) {
      onRejected?.(busy());
      now += 1000;
    }
    assert.deepEqual(
      warnings.map((fields) => fields.refused),
      [1],
    );
    now = 1_000_000 + UNAVAILABLE_WARNING_INTERVAL * 1000;
    mock.timers.tick(UNAVAILABLE_WARNING_INTERVAL * 1000);
    assert.deepEqual(
      warnings.map((fields) => fields.refused),
      [1, 4],
    );
    mock.timers.tick(10 * UNAVAILABLE_WARNING_INTERVAL * 1000);
    assert.equal(warnings.length, 2, 'no warning without refusals');
  });
});
