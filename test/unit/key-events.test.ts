/**
 * KeyEvents, the hub behind `keys.subscribe()`: what a listener that subscribes or unsubscribes while an
 * event is being told changes, and what it does not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyEvents } from '../../src/keys/key-events.ts';
import type { RemoteKeysEvent } from '../../src/keys/remote-events.ts';

const fetched = (url: string): RemoteKeysEvent => ({ type: 'fetched', document: 'jwks', url, trigger: 'initial', keyCount: 1, maxAge: 60 });

describe('key events: subscribing and unsubscribing while an event is told', () => {
  it('a listener unsubscribed by an earlier one during an event → not called for it, nor after', () => {
    const events = new KeyEvents(undefined);
    const heard: string[] = [];
    let unsubscribeLate = (): void => undefined;
    events.subscribe((event) => {
      heard.push(`first ${event.url}`);
      unsubscribeLate();
    });
    unsubscribeLate = events.subscribe((event) => heard.push(`late ${event.url}`));
    events.emit(fetched('https://idp.example/1'));
    events.emit(fetched('https://idp.example/2'));
    assert.deepEqual(heard, ['first https://idp.example/1', 'first https://idp.example/2']);
  });

  it('a listener subscribed during an event → hears the next one, not this one; one that subscribes on every event adds one per event', () => {
    const events = new KeyEvents(undefined);
    let added = 0;
    events.subscribe(() => {
      added += 1;
      events.subscribe(() => undefined);
    });
    const heard: string[] = [];
    events.subscribe((event) => {
      heard.push(event.url);
      if (event.url.endsWith('/1')) events.subscribe((next) => heard.push(`new ${next.url}`));
    });
    events.emit(fetched('https://idp.example/1'));
    events.emit(fetched('https://idp.example/2'));
    assert.deepEqual(heard, ['https://idp.example/1', 'https://idp.example/2', 'new https://idp.example/2']);
    assert.equal(added, 2);
  });
});
