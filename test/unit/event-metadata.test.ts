/**
 * The metadata copy events carry (eventMetadata): what is left out (credential keys, the presented
 * token, anything shaped like a compact JWT, also in binary values), what stays (request IDs, trace
 * headers, version strings), and that hostile values cost one pass.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { eventMetadata } from '../../src/server/events.ts';

const JWS = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const JWE = 'eyJhbGciOiJSU0EtT0FFUCJ9.ZW5jcnlwdGVkLWtleQ.aXY.Y2lwaGVydGV4dA.dGFn';

function metadataOf(entries: Record<string, string | Buffer>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

describe('event metadata: what a copy for logs leaves out', () => {
  it('a compact JWS or JWE anywhere (plain, after a scheme, in a -bin value, in a cookie-like list) → the entry is left out', () => {
    const metadata = metadataOf({
      'x-forwarded-token': JWS,
      'x-original-authorization': `Bearer ${JWS}`,
      'x-token-bin': Buffer.from(JWS),
      'x-session': `theme=dark; id=${JWS}; lang=en`,
      'x-id-token': JWE,
      'x-request-id': 'req-1',
    });
    assert.deepEqual(eventMetadata(metadata, ['authorization', 'cookie'], undefined).getMap(), { 'x-request-id': 'req-1' });
  });

  it('request IDs, traceparent, user-agent versions, base64 and a lone eyJ with fewer than two dots → kept', () => {
    const kept = {
      'x-request-id': 'c0ffee-1234',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'user-agent': 'grpc-node-js/1.12.0 my-app/2.3.4',
      'x-payload': 'eyJzdWIiOiJhbGljZSJ9',
      'x-one-dot': 'eyJhIjoxfQ.eyJiIjoyfQ',
      'x-dots-elsewhere': 'eyJhIjoxfQ v1.2.3',
    };
    assert.deepEqual(eventMetadata(metadataOf(kept), ['authorization', 'cookie'], undefined).getMap(), kept);
  });

  it('the original metadata is unchanged, and the copy shares no Buffer with it', () => {
    const original = metadataOf({ authorization: `Bearer ${JWS}`, 'x-trace-bin': Buffer.from('trace'), 'x-request-id': 'r' });
    const copy = eventMetadata(original, ['authorization'], JWS);
    (copy.get('x-trace-bin')[0] as Buffer).fill(0);
    assert.deepEqual(original.get('authorization'), [`Bearer ${JWS}`]);
    assert.equal((original.get('x-trace-bin')[0] as Buffer).toString(), 'trace');
  });

  it('a hostile value (eyJ repeated, long runs without dots) costs one pass', { timeout: 10_000 }, () => {
    const hostile = metadataOf({ 'x-a': 'eyJ'.repeat(200_000), 'x-b': `${'eyJa'.repeat(100_000)}.`, 'x-c': `${'eyJ.'.repeat(1)}${'a'.repeat(400_000)}` });
    assert.deepEqual(Object.keys(eventMetadata(hostile, [], undefined).getMap()).sort(), ['x-a', 'x-b', 'x-c']);
  });
});
