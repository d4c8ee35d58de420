import {
  BrokenCircuitError,
  DeadlineExceededError,
  type ResilienceEvent,
  TimeoutError,
  pipeline,
} from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { timeout } from '@palisade/timeout';
import { describe, expect, it } from 'vitest';
import { HttpStatusError, createFetch, runWithDeadline } from '../src/index.js';
import { counting, fakeFetch, testRetry, tracked } from './helpers/fake-fetch.js';

const URL_ = 'http://api.test/items/1';

describe('createFetch() — HTTP semantics', () => {
  it('with no policy and no route, calls fetch with the very same arguments', async () => {
    const response = new Response('ok');
    const base = fakeFetch([response]);
    const init = { method: 'GET' };
    await expect(createFetch({ fetch: base })(URL_, init)).resolves.toBe(response);
    expect(base.calls[0]).toEqual({ input: URL_, init });
  });

  it('returns a non-retryable response unchanged, and hands fetch an abortable signal', async () => {
    const response = new Response('nope', { status: 404 });
    const base = fakeFetch([response]);
    const retry = testRetry(3);
    await expect(createFetch({ fetch: base, policy: retry })(URL_)).resolves.toBe(response);
    expect(base.calls).toHaveLength(1);
    expect(base.calls[0]?.init.signal).toBeInstanceOf(AbortSignal);
    expect(retry.seen).toEqual([]);
  });

  it('gives fetch no signal of its own when nothing in the pipeline can abort an attempt', async () => {
    const base = fakeFetch([new Response(), new Response(), new Response()]);
    const f = createFetch({ fetch: base, policy: { retry: true, circuitBreaker: true } });
    const init = { headers: { a: '1' } };
    await f(URL_, init);
    expect(base.calls[0]?.init).toBe(init); // the caller's own init, untouched
    const signal = new AbortController().signal;
    await f(URL_, { signal });
    expect(base.calls[1]?.init.signal).toBe(signal); // the caller's signal, as it is
    await createFetch({ fetch: base, policy: { retry: true, timeout: '1s' } })(URL_, init);
    expect(base.calls[2]?.init.signal).toBeInstanceOf(AbortSignal); // a timeout needs one
  });

  it('turns a retryable status into an HttpStatusError inside the pipeline, with Retry-After', async () => {
    const clock = new FakeClock({ now: Date.UTC(2025, 0, 1) });
    const first = tracked(503, { 'retry-after': '2' });
    const second = tracked(429, { 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' });
    const ok = new Response('ok');
    const base = fakeFetch([first, second, ok]);
    const retry = testRetry(3);
    const res = await createFetch({ fetch: base, policy: retry, clock })(URL_);
    expect(res).toBe(ok);
    expect(retry.seen).toHaveLength(2);
    expect(retry.seen[0]).toBeInstanceOf(HttpStatusError);
    expect(retry.seen[0]).toMatchObject({ status: 503, retryAfterMs: 2_000, method: 'GET' });
    expect(retry.seen[1]).toMatchObject({ status: 429, retryAfterMs: 5_000 });
    // Both discarded responses had their bodies cancelled.
    expect(first.cancelled).toBe(true);
    expect(second.cancelled).toBe(true);
  });

  it('when the pipeline ends on a retryable status, returns that last Response, body intact', async () => {
    const a = tracked(503);
    const b = tracked(502);
    const base = fakeFetch([a, b]);
    const res = await createFetch({ fetch: base, policy: testRetry(2) })(URL_);
    expect(res).toBe(b.response);
    expect(res.status).toBe(502);
    const { value } = await (res.body as ReadableStream<Uint8Array>).getReader().read();
    expect(new TextDecoder().decode(value)).toBe('status 502');
    expect(a.cancelled).toBe(true);
    expect(b.cancelled).toBe(false);
  });

  it('only the statuses in retryOnStatus fail inside the pipeline', async () => {
    const base = fakeFetch([new Response(null, { status: 500 }), new Response(null, { status: 418 })]);
    const retry = testRetry(3);
    const res = await createFetch({ fetch: base, policy: retry, retryOnStatus: [418] })(URL_);
    expect(res.status).toBe(500);
    expect(retry.seen).toEqual([]);
    expect((await createFetch({ fetch: base, policy: retry, retryOnStatus: [418] })(URL_)).status).toBe(418);
  });

  it('throws network errors and policy rejections as they are, cancelling any kept response', async () => {
    const network = new TypeError('fetch failed');
    const kept = tracked(503);
    const base = fakeFetch([kept, network]);
    await expect(createFetch({ fetch: base, policy: testRetry(2) })(URL_)).rejects.toBe(network);
    expect(kept.cancelled).toBe(true);

    const rejection = new BrokenCircuitError('open', { retryAfterMs: 1_000 });
    const refusing = { name: 'open', execute: () => Promise.reject(rejection) };
    await expect(createFetch({ fetch: fakeFetch([]), policy: refusing })(URL_)).rejects.toBe(rejection);
  });

  it('a URL it cannot parse goes to fetch, which rejects with its own error', async () => {
    const policy = counting('p');
    await expect(createFetch({ policy })('/relative')).rejects.toThrow(TypeError);
    expect(policy.calls).toHaveLength(0);
  });

  it('tells the policy the host as key', async () => {
    const policy = counting('p');
    await createFetch({ fetch: fakeFetch([new Response()]), policy })('http://API.test:81/x');
    expect(policy.calls[0]).toMatchObject({ key: 'api.test:81' });
  });

  it('a fetch of your own that throws at once still makes a rejected promise, never a throw', async () => {
    const boom = new TypeError('boom');
    for (const policy of [{ circuitBreaker: true }, { timeout: '1s', circuitBreaker: true }] as const) {
      const f = createFetch({
        fetch: () => {
          throw boom;
        },
        policy,
      });
      let returned: Promise<Response> | undefined;
      expect(() => {
        returned = f('http://a.test/');
      }).not.toThrow();
      await expect(returned).rejects.toBe(boom);
    }
  });

  it('a fetch of your own may answer with a thenable', async () => {
    // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test is about
    const thenable = { then: (ok: (r: Response) => void) => ok(new Response('from a thenable')) };
    const f = createFetch({ fetch: () => thenable as unknown as Promise<Response>, policy: { timeout: '1s' } });
    expect(await (await f('http://a.test/')).text()).toBe('from a thenable');
  });
});

describe('createFetch() — routes', () => {
  it('picks the most specific route, else the default policy', async () => {
    const byRoute = {
      'GET api.test/items/:id': counting('method+host+path'),
      'api.test': counting('host'),
      '*.test': counting('wildcard'),
      'POST /orders': counting('method+path'),
    };
    const fallback = counting('default');
    const f = createFetch({ fetch: fakeFetch([new Response()]), policy: fallback, routes: byRoute });
    await f('http://api.test/items/1');
    await f('http://api.test/items/1', { method: 'DELETE' });
    await f('http://www.test/items/1');
    await f('http://other.example/orders', { method: 'POST' });
    await f('http://other.example/orders');
    expect(Object.values(byRoute).map((p) => p.calls.length)).toEqual([1, 1, 1, 1]);
    expect(fallback.calls).toHaveLength(1);
  });

  it('a request that matches no route and has no default goes straight to fetch', async () => {
    const route = counting('r');
    const base = fakeFetch([new Response()]);
    const init = {};
    await createFetch({ fetch: base, routes: { 'api.test': route } })('http://other.test/', init);
    expect(route.calls).toHaveLength(0);
    expect(base.calls[0]?.init).toBe(init);
  });
});

describe('createFetch() — idempotency and bodies', () => {
  const spec = { retry: { maxAttempts: 3, backoff: { type: 'constant', ms: 0 }, budget: false } } as const;

  it.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])('retries %s', async (method) => {
    const base = fakeFetch([new Response(null, { status: 503 }), new Response(null, { status: 503 }), new Response()]);
    const res = await createFetch({ fetch: base, policy: spec })(URL_, { method });
    expect(res.status).toBe(200);
    expect(base.calls).toHaveLength(3);
  });

  it.each(['POST', 'PATCH'])('sends %s once, through the rest of the spec', async (method) => {
    const events: ResilienceEvent[] = [];
    const base = fakeFetch([new Response(null, { status: 503 }), new Response()]);
    const f = createFetch({ fetch: base, policy: { ...spec, circuitBreaker: true }, onEvent: (e) => events.push(e) });
    const res = await f(URL_, { method, body: 'x' });
    expect(res.status).toBe(503);
    expect(base.calls).toHaveLength(1);
    // The breaker still saw the failure.
    expect(events.filter((e) => e.policy === 'circuit-breaker' && e.type === 'failure')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(0);
  });

  it('retries a POST that carries an Idempotency-Key, or any request with retryNonIdempotent', async () => {
    const replies = () => [new Response(null, { status: 503 }), new Response()];
    const keyed = fakeFetch(replies());
    await createFetch({ fetch: keyed, policy: spec })(URL_, {
      method: 'POST',
      body: 'x',
      headers: { 'Idempotency-Key': 'k-1' },
    });
    expect(keyed.calls).toHaveLength(2);
    const asked = fakeFetch(replies());
    await createFetch({ fetch: asked, policy: spec, retryNonIdempotent: true })(URL_, { method: 'POST', body: 'x' });
    expect(asked.calls).toHaveLength(2);
  });

  it('a ready-made Policy is used as given for every method', async () => {
    const base = fakeFetch([new Response(null, { status: 503 }), new Response()]);
    await createFetch({ fetch: base, policy: testRetry(2) })(URL_, { method: 'POST', body: 'x' });
    expect(base.calls).toHaveLength(2);
  });

  it('replays the body of a Request on every attempt (read once)', async () => {
    const bodies: string[] = [];
    const reply = (status: number) => async () => new Response(null, { status });
    const base = fakeFetch([reply(503), reply(503), reply(200)]);
    const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(await new Request(input, init).text());
      return base(input, init);
    }) as typeof fetch;
    const request = new Request(URL_, { method: 'PUT', body: 'payload' });
    const res = await createFetch({ fetch: recording, policy: spec })(request);
    expect(res.status).toBe(200);
    expect(bodies).toEqual(['payload', 'payload', 'payload']);
  });

  it('refuses a one-shot stream body when the request may be sent twice, before sending anything', async () => {
    const base = fakeFetch([new Response()]);
    const stream = new ReadableStream({ start: (c) => c.close() });
    const init = { method: 'PUT', body: stream, duplex: 'half' } as RequestInit;
    await expect(createFetch({ fetch: base, policy: spec })(URL_, init)).rejects.toThrow(
      /@palisade\/fetch: the request body is a one-shot stream, but PUT api\.test may be sent more than once/,
    );
    await expect(createFetch({ fetch: base, policy: testRetry(2) })(URL_, init)).rejects.toThrow(TypeError);
    expect(base.calls).toHaveLength(0);
  });

  it('streams a one-shot body when the request is sent once (non-idempotent, or no retry/hedge)', async () => {
    const base = fakeFetch([new Response()]);
    const stream = () => new ReadableStream({ start: (c) => c.close() });
    await createFetch({ fetch: base, policy: spec })(URL_, {
      method: 'POST',
      body: stream(),
      duplex: 'half',
    } as RequestInit);
    await createFetch({ fetch: base, policy: { circuitBreaker: true } })(URL_, {
      method: 'PUT',
      body: stream(),
      duplex: 'half',
    } as RequestInit);
    expect(base.calls).toHaveLength(2);
  });
});

describe('createFetch() — deadlines', () => {
  it('sends the time left before the pipeline deadline on each attempt', async () => {
    const clock = new FakeClock();
    const base = fakeFetch([new Response(null, { status: 503 }), new Response()]);
    const policy = pipeline(timeout({ ms: 1_500, clock }), testRetry(2));
    await createFetch({ fetch: base, policy, clock })(URL_, { headers: { a: '1' } });
    expect(base.calls.map((c) => c.init.headers)).toEqual([
      { a: '1', 'palisade-deadline-ms': '1500' },
      { a: '1', 'palisade-deadline-ms': '1500' },
    ]);
  });

  it('leaves a deadline header the caller set alone', async () => {
    const clock = new FakeClock();
    const base = fakeFetch([new Response()]);
    const headers = { 'Palisade-Deadline-Ms': '10' };
    await createFetch({ fetch: base, policy: timeout({ ms: 1_500, clock }), clock })(URL_, { headers });
    expect(base.calls[0]?.init.headers).toBe(headers);
  });

  it('sends no header without a deadline, or with propagateDeadline: false', async () => {
    const clock = new FakeClock();
    const base = fakeFetch([new Response()]);
    await createFetch({ fetch: base, policy: testRetry(1), clock })(URL_);
    await createFetch({ fetch: base, policy: timeout({ ms: 100, clock }), clock, propagateDeadline: false })(URL_);
    expect(base.calls.map((c) => c.init.headers)).toEqual([undefined, undefined]);
  });

  it('the ambient deadline bounds the call even without a timeout policy, and is sent on', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const base = fakeFetch(['hang']);
    const f = createFetch({ fetch: base, clock, onEvent: (e) => events.push(e) });
    const p = runWithDeadline(clock.now() + 250, () => f(URL_)).catch((e: unknown) => e);
    await clock.advance(0);
    expect(base.calls[0]?.init.headers).toEqual({ 'palisade-deadline-ms': '250' });
    await clock.advance(250);
    const error = await p;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(base.calls[0]?.init.signal?.aborted).toBe(true);
    expect(events).toMatchObject([{ type: 'timeout', name: 'deadline', deadline: true, key: 'api.test' }]);
  });

  it('the ambient deadline caps a longer timeout policy', async () => {
    const clock = new FakeClock();
    const base = fakeFetch(['hang']);
    const f = createFetch({ fetch: base, clock, policy: { timeout: '10s' } });
    const p = runWithDeadline(clock.now() + 300, () => f(URL_)).catch((e: unknown) => e);
    await clock.advance(0);
    expect(base.calls[0]?.init.headers).toEqual({ 'palisade-deadline-ms': '300' });
    await clock.advance(300);
    expect(await p).toBeInstanceOf(DeadlineExceededError);
  });

  it('a timeout aborts the request it bounds', async () => {
    const clock = new FakeClock();
    const base = fakeFetch(['hang']);
    const p = createFetch({ fetch: base, clock, policy: { timeout: 100 } })(URL_).catch((e: unknown) => e);
    await clock.advance(100);
    expect(await p).toBeInstanceOf(TimeoutError);
    expect(base.calls[0]?.init.signal?.reason).toBeInstanceOf(TimeoutError);
  });

  it('an ambient deadline already past rejects without calling fetch', async () => {
    const clock = new FakeClock({ now: 1_000 });
    const base = fakeFetch([new Response()]);
    const f = createFetch({ fetch: base, clock });
    await expect(runWithDeadline(999, () => f(URL_))).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(base.calls).toHaveLength(0);
  });
});

describe('createFetch() — hedging', () => {
  it('cancels the body of a hedge that loses and settles after the call ended', async () => {
    const clock = new FakeClock();
    const late = tracked(200);
    let release: (r: Response) => void = () => {};
    const slow = () =>
      new Promise<Response>((resolve) => {
        release = resolve;
      });
    const winner = new Response('fast');
    const base = fakeFetch([slow, winner]);
    const f = createFetch({ fetch: base, clock, policy: { hedge: { delayMs: 50, budgetPercent: 100 } } });
    const p = f(URL_);
    await clock.advance(50);
    await expect(p).resolves.toBe(winner);
    expect(base.calls).toHaveLength(2);
    expect(base.calls[0]?.init.signal?.aborted).toBe(true); // the loser was told to stop
    release(late.response); // a fetch that ignored its signal
    await clock.advance(0);
    expect(late.cancelled).toBe(true);
  });
});
