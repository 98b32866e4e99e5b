/**
 * guardedFetch, the one way the library talks to identity providers, against fetch functions that do
 * not play by the rules: the URL rules, the refusal of redirects, the timeout and the size cap must hold
 * whatever the function does, and whatever it throws or returns must end in an OutboundError, never in
 * an unhandled rejection or a timer left behind.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { OutboundError, guardedFetch, type FetchFunction, type OutboundFailure } from '../../src/util/guarded-fetch.ts';
import { bytesOf, liveTimers, recordUnhandledRejections, sleep, trackedBody, type RejectionRecorder } from '../support/hostile-fetch.ts';
import { until } from '../support/remote-keys.ts';

const JWKS_URL = new URL('https://idp.example/jwks.json');
const BOUND = { timeout: 10_000 };

/** The request the key resolvers send, with `fetch` and any field overridden. */
function request(fetch: FetchFunction | undefined, overrides: Partial<Parameters<typeof guardedFetch>[0]> = {}): Parameters<typeof guardedFetch>[0] {
  return {
    url: JWKS_URL,
    method: 'GET',
    headers: { accept: 'application/json' },
    fetch,
    allowInsecureHttp: false,
    timeoutMs: 2000,
    maxBytes: 1024,
    readErrorBody: false,
    ...overrides,
  };
}

/** The failure a request ends with, or `'OK'`. */
async function failureOf(sent: Parameters<typeof guardedFetch>[0]): Promise<OutboundFailure | 'OK'> {
  try {
    await guardedFetch(sent);
    return 'OK';
  } catch (error) {
    assert.ok(error instanceof OutboundError, `not an OutboundError: ${String(error)}`);
    return error.failure;
  }
}

/** A fetch function that answers with `response` and records its calls. */
function answering(response: () => unknown): FetchFunction & { readonly calls: Array<{ url: URL; init: Parameters<FetchFunction>[1] }> } {
  const calls: Array<{ url: URL; init: Parameters<FetchFunction>[1] }> = [];
  const fetch = (async (url: URL, init: Parameters<FetchFunction>[1]) => {
    calls.push({ url, init });
    return response();
  }) as FetchFunction;
  return Object.assign(fetch, { calls });
}

const json = (text: string, headers: Record<string, string> = {}): Response =>
  new Response(text, { status: 200, headers: { 'content-type': 'application/json', ...headers } });

let rejections: RejectionRecorder;
beforeEach(() => {
  rejections = recordUnhandledRejections();
});
afterEach(async () => {
  // Late settlements run on later turns: give them one before looking.
  await sleep(20);
  rejections.uninstall();
  assert.deepEqual(rejections.reasons, [], 'no unhandled rejection');
});

describe('guardedFetch: the URL rules are checked before the fetch function is called', () => {
  it('http to a non-loopback host, another scheme, credentials in the URL → url, and the function is never called', async () => {
    const fetch = answering(() => json('{}'));
    for (const url of ['http://idp.example/jwks.json', 'ftp://idp.example/jwks.json', 'file:///etc/passwd', 'https://user:pass@idp.example/jwks.json']) {
      assert.equal(await failureOf(request(fetch, { url: new URL(url) })), 'url', url);
    }
    assert.equal(fetch.calls.length, 0);
  });

  it('https, http to loopback, and http elsewhere with allowInsecureHttp → sent', async () => {
    const fetch = answering(() => json('{}'));
    assert.equal(await failureOf(request(fetch)), 'OK');
    assert.equal(await failureOf(request(fetch, { url: new URL('http://127.0.0.1:8080/jwks.json') })), 'OK');
    assert.equal(await failureOf(request(fetch, { url: new URL('http://idp.internal/jwks.json'), allowInsecureHttp: true })), 'OK');
    assert.equal(fetch.calls.length, 3);
  });

  it('the function gets a copy of the URL and an init with redirect: manual, an abort signal, plain headers and the body', async () => {
    const fetch = answering(() => json('{}'));
    await guardedFetch(
      request(fetch, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' }),
    );
    const [call] = fetch.calls;
    assert.ok(call);
    assert.notEqual(call.url, JWKS_URL);
    assert.equal(call.url.href, JWKS_URL.href);
    assert.equal(call.init.method, 'POST');
    assert.equal(call.init.redirect, 'manual');
    assert.ok(call.init.signal instanceof AbortSignal);
    assert.equal(call.init.signal.aborted, false);
    assert.deepEqual(call.init.headers, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(call.init.body, 'grant_type=client_credentials');
  });
});

describe('guardedFetch: redirects are refused even when the fetch function follows them', () => {
  it('an answer marked redirected (the function followed a redirect) → redirect, its body cancelled', async () => {
    const body = trackedBody({ chunks: [bytesOf('{"keys":[]}')] });
    const followed = Object.defineProperty(new Response(body.stream, { status: 200 }), 'redirected', { value: true });
    assert.equal(await failureOf(request(answering(() => followed))), 'redirect');
    assert.equal(body.cancelled(), true);
  });

  it('a 3xx status (301, 302, 303, 307, 308, and 304 which nobody asked for) → redirect', async () => {
    for (const status of [301, 302, 303, 304, 307, 308]) {
      const fetch = answering(() => new Response(null, { status, headers: status === 304 ? {} : { location: 'https://elsewhere.example/jwks.json' } }));
      assert.equal(await failureOf(request(fetch)), 'redirect', String(status));
    }
  });

  it('an answer whose url names another origin (or is not a URL) → redirect; the same origin, or no url at all, is fine', async () => {
    const from = (url: string): Response => Object.defineProperty(json('{}'), 'url', { value: url });
    assert.equal(await failureOf(request(answering(() => from('https://attacker.example/jwks.json')))), 'redirect');
    assert.equal(await failureOf(request(answering(() => from('https://idp.example:8443/jwks.json')))), 'redirect');
    assert.equal(await failureOf(request(answering(() => from('http://idp.example/jwks.json')))), 'redirect');
    assert.equal(await failureOf(request(answering(() => from('not a url')))), 'redirect');
    assert.equal(await failureOf(request(answering(() => from('https://idp.example/other-path')))), 'OK');
    assert.equal(await failureOf(request(answering(() => json('{}')))), 'OK');
  });
});

describe('guardedFetch: the timeout is ours, whatever the fetch function does with its signal', () => {
  it('a function that ignores the signal and never settles → timeout at the deadline, and its signal was aborted', BOUND, async () => {
    let signal: AbortSignal | undefined;
    const never: FetchFunction = (_url, init) => {
      signal = init.signal;
      return new Promise(() => undefined);
    };
    assert.equal(await failureOf(request(never, { timeoutMs: 50 })), 'timeout');
    assert.equal(signal?.aborted, true);
  });

  it('a function that ignores the signal and answers late → timeout; the late body is cancelled, never read', BOUND, async () => {
    const body = trackedBody({ chunks: [bytesOf('{"keys":[]}')] });
    const late: FetchFunction = async () => {
      await sleep(150);
      return new Response(body.stream);
    };
    assert.equal(await failureOf(request(late, { timeoutMs: 30 })), 'timeout');
    await until(() => body.cancelled());
    assert.equal(body.sent(), 0, 'the late body was never read');
  });

  it('a function that answers after the deadline with a Proxy whose every read throws → timeout, nothing unhandled', BOUND, async () => {
    const late: FetchFunction = async () => {
      await sleep(80);
      return new Proxy(json('{}'), {
        get: () => {
          throw new Error('trap');
        },
      });
    };
    assert.equal(await failureOf(request(late, { timeoutMs: 20 })), 'timeout');
    await sleep(120);
  });

  it('a function that rejects after the deadline → timeout, and its late rejection is handled', BOUND, async () => {
    const late: FetchFunction = async () => {
      await sleep(100);
      throw new Error('connection reset, too late');
    };
    assert.equal(await failureOf(request(late, { timeoutMs: 30 })), 'timeout');
    await sleep(150);
  });

  it('headers on time, then a body that stalls and ignores the signal → timeout, the body cancelled', BOUND, async () => {
    const body = trackedBody({ chunks: [bytesOf('{"keys":')], then: 'stall' });
    assert.equal(
      await failureOf(
        request(
          answering(() => new Response(body.stream)),
          { timeoutMs: 50 },
        ),
      ),
      'timeout',
    );
    assert.equal(body.cancelled(), true);
  });

  it('no timer outlives a request: success, failure and timeout all leave the count of timers as it was', BOUND, async () => {
    const before = liveTimers();
    await guardedFetch(request(answering(() => json('{}'))));
    assert.equal(await failureOf(request(answering(() => new Response(null, { status: 302 })))), 'redirect');
    assert.equal(await failureOf(request(() => new Promise(() => undefined), { timeoutMs: 20 })), 'timeout');
    assert.equal(liveTimers(), before);
  });

  it('150 concurrent requests on one caller signal (timeouts, late answers, successes) leave no timer and no abort listener behind', BOUND, async () => {
    const before = liveTimers();
    const resolver = new AbortController();
    const late: FetchFunction = async () => {
      await sleep(60);
      return json('{}');
    };
    const outcomes = await Promise.all(
      Array.from({ length: 150 }, (_, i) => {
        const fetch = [() => new Promise<never>(() => undefined), late, answering(() => json('{}'))][i % 3] as FetchFunction;
        return failureOf(request(fetch, { timeoutMs: 30, signal: resolver.signal }));
      }),
    );
    assert.deepEqual(new Set(outcomes), new Set(['timeout', 'OK']));
    assert.equal(getEventListeners(resolver.signal, 'abort').length, 0, 'every request removed its listener from the shared signal');
    await sleep(80); // the late answers arrive, and are discarded
    assert.equal(liveTimers(), before);
  });

  it("the caller's signal (a resolver closing) → aborted, before or during the request", BOUND, async () => {
    const closed = new AbortController();
    closed.abort();
    const fetch = answering(() => json('{}'));
    assert.equal(await failureOf(request(fetch, { signal: closed.signal })), 'aborted');
    assert.equal(fetch.calls.length, 0);
    const closing = new AbortController();
    setTimeout(() => closing.abort(), 20);
    assert.equal(await failureOf(request(() => new Promise(() => undefined), { signal: closing.signal })), 'aborted');
  });
});

describe('guardedFetch: the body is read and capped by us', () => {
  it('a content-length that understates an endless body → too-large, the stream cancelled after about the cap', BOUND, async () => {
    const body = trackedBody({ chunks: [bytesOf('{"keys":[')], then: 'endless' });
    const lying = answering(() => new Response(body.stream, { headers: { 'content-length': '20' } }));
    assert.equal(await failureOf(request(lying, { maxBytes: 100_000 })), 'too-large');
    assert.equal(body.cancelled(), true);
    assert.ok(body.sent() < 300_000, `read ${body.sent()} bytes`);
  });

  it('a finite body over the cap without content-length → too-large; exactly the cap → OK', async () => {
    assert.equal(await failureOf(request(answering(() => new Response(new Uint8Array(1025))))), 'too-large');
    assert.equal(await failureOf(request(answering(() => new Response(new Uint8Array(1024))))), 'OK');
  });

  it('a content-length over the cap → too-large without reading the body', async () => {
    const body = trackedBody({ chunks: [bytesOf('{}')] });
    assert.equal(await failureOf(request(answering(() => new Response(body.stream, { headers: { 'content-length': '999999' } })))), 'too-large');
    assert.equal(body.sent(), 0);
    assert.equal(body.cancelled(), true);
  });

  it('an error answer is returned with its status; its body is read only when asked (an OAuth error)', async () => {
    const body = trackedBody({ chunks: [bytesOf('{"error":"invalid_client"}')] });
    const unread = await guardedFetch(request(answering(() => new Response(body.stream, { status: 404 }))));
    assert.equal(unread.status, 404);
    assert.equal(unread.bytes.byteLength, 0);
    assert.equal(body.cancelled(), true);
    const read = await guardedFetch(
      request(
        answering(() => new Response('{"error":"invalid_client"}', { status: 401 })),
        { readErrorBody: true },
      ),
    );
    assert.equal(Buffer.from(read.bytes).toString(), '{"error":"invalid_client"}');
  });

  it('a body whose cancel() throws, refused for its size → too-large, nothing unhandled', async () => {
    const body = trackedBody({ then: 'endless', cancel: 'throws' });
    assert.equal(await failureOf(request(answering(() => new Response(body.stream)))), 'too-large');
    assert.equal(body.cancelled(), true);
  });
});

describe('guardedFetch: whatever the fetch function throws or returns ends in an OutboundError', () => {
  const thrown: ReadonlyArray<readonly [string, FetchFunction]> = [
    [
      'throws a string synchronously',
      () => {
        throw 'boom';
      },
    ],
    [
      'throws undefined synchronously',
      () => {
        throw undefined;
      },
    ],
    ['rejects with null', () => Promise.reject(null)],
    ['rejects with a symbol', () => Promise.reject(Symbol('nope'))],
    [
      'rejects with an object whose message getter throws',
      () =>
        Promise.reject({
          get message(): string {
            throw new Error('getter');
          },
        }),
    ],
    [
      'returns a thenable whose then throws',
      () =>
        ({
          then: () => {
            throw new Error('then');
          },
        }) as never,
    ],
  ];
  for (const [name, fetch] of thrown) {
    it(`${name} → network`, async () => {
      assert.equal(await failureOf(request(fetch)), 'network');
    });
  }

  const notResponses: ReadonlyArray<readonly [string, () => unknown]> = [
    ['undefined', () => undefined],
    ['null', () => null],
    ['a string', () => '{"keys":[]}'],
    ['an empty object', () => ({})],
    ['status 0 (an opaque response)', () => ({ status: 0, headers: new Headers(), body: null })],
    ['status 200 as a string', () => ({ status: '200', headers: new Headers(), body: null })],
    ['no headers', () => ({ status: 200, body: null })],
    ['a body that is a string', () => ({ status: 200, headers: new Headers(), body: '{"keys":[]}' })],
    ['a body without a body field', () => ({ status: 200, headers: new Headers() })],
    [
      'a status getter that throws',
      () => ({
        get status(): number {
          throw new Error('getter');
        },
      }),
    ],
    [
      'headers.get that throws',
      () => ({
        status: 200,
        headers: {
          get: () => {
            throw new Error('get');
          },
        },
        body: null,
      }),
    ],
    [
      'a body whose chunks are strings',
      () =>
        new Response(
          new ReadableStream<unknown>({ start: (controller) => (controller.enqueue('{"keys":[]}'), controller.close()) }) as ReadableStream<Uint8Array>,
        ),
    ],
    ['a body whose getReader gives nothing', () => ({ status: 200, headers: new Headers(), body: { getReader: () => undefined } })],
  ];
  for (const [name, value] of notResponses) {
    it(`returns ${name} → not-a-response`, async () => {
      assert.equal(await failureOf(request(answering(value))), 'not-a-response');
    });
  }

  const poses: ReadonlyArray<readonly [string, () => Uint8Array, OutboundFailure]> = [
    [
      'an object with the Uint8Array prototype',
      () => Object.setPrototypeOf({ byteLength: -64 * 1024 * 1024 }, Uint8Array.prototype) as Uint8Array,
      'not-a-response',
    ],
    ['real bytes with a byteLength of their own', () => Object.defineProperty(new Uint8Array(16), 'byteLength', { value: -64 * 1024 * 1024 }), 'too-large'],
  ];
  for (const [name, pose, failure] of poses) {
    it(`a chunk that lies about its size (${name}, a negative byteLength) → ${failure}; the cap is not wound back`, BOUND, async () => {
      const filler = new Uint8Array(64 * 1024);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            // The lie first, then real bytes forever: a cap wound back by it reads 64 MiB of them.
            controller.enqueue(sent === 0 ? pose() : filler);
            sent += sent === 0 ? 1 : filler.byteLength;
          },
        },
        { highWaterMark: 0 },
      );
      assert.equal(await failureOf(request(answering(() => new Response(stream)))), failure);
      assert.ok(sent < 1024 * 1024, `read ${sent} bytes past a 1 KiB cap`);
    });
  }

  it('resolves with a Proxy of a response whose every read throws → network: resolving reads its then, and the promise rejects', async () => {
    const trapped = (): Response =>
      new Proxy(json('{}'), {
        get: () => {
          throw new Error('trap');
        },
      });
    assert.equal(await failureOf(request(answering(trapped))), 'network');
  });

  it('a body that errors half-way → network', async () => {
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytesOf('{"keys":'));
        controller.error(new Error('connection reset'));
      },
    });
    assert.equal(await failureOf(request(answering(() => new Response(failing)))), 'network');
  });

  it('an OutboundError message never quotes more than 200 characters of what was thrown, escaped', async () => {
    try {
      await guardedFetch(request(() => Promise.reject(new Error(`line one\nforged line ${'x'.repeat(500)}`))));
      assert.fail('expected a failure');
    } catch (error) {
      assert.ok(error instanceof OutboundError);
      assert.doesNotMatch(error.message, /\n/);
      assert.ok(error.message.length < 300, error.message);
    }
  });
});
