import { getEventListeners } from 'node:events';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { createFetch, runWithDeadline } from '../src/index.js';
import { fakeFetch, tracked } from './helpers/fake-fetch.js';

const URL_ = 'http://api.test/x';
const slowRetry = { retry: { maxAttempts: 3, backoff: { type: 'constant', ms: 1_000 }, budget: false } } as const;

describe('caller abort at every stage', () => {
  it('already aborted: rejects with the reason, fetch is never called', async () => {
    const base = fakeFetch([new Response()]);
    const reason = new Error('gone');
    const f = createFetch({ fetch: base, policy: { timeout: '1s', ...slowRetry, circuitBreaker: true } });
    await expect(f(URL_, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(base.calls).toHaveLength(0);
  });

  it('during the request: rejects with the reason, the request is aborted, nothing is left', async () => {
    const clock = new FakeClock();
    const base = fakeFetch(['hang']);
    const controller = new AbortController();
    const f = createFetch({ fetch: base, clock, policy: { timeout: '10s', ...slowRetry, circuitBreaker: true } });
    const p = f(URL_, { signal: controller.signal }).catch((e: unknown) => e);
    await clock.advance(0);
    const reason = new Error('gone');
    controller.abort(reason);
    expect(await p).toBe(reason);
    expect(base.calls).toHaveLength(1);
    expect(base.calls[0]?.init.signal?.aborted).toBe(true);
    await clock.advance(20_000);
    expect(base.calls).toHaveLength(1); // never retried
    expect(clock.pending).toBe(0);
  });

  it('a long-lived caller signal gathers no listeners across calls: one at most, shared', async () => {
    const clock = new FakeClock();
    const base = fakeFetch([new Response(null, { status: 503 }), new Response()]);
    const controller = new AbortController();
    const f = createFetch({
      fetch: base,
      clock,
      policy: { timeout: '10s', retry: { maxAttempts: 2, backoff: { type: 'constant', ms: 0 } }, circuitBreaker: true },
    });
    for (let i = 0; i < 3; i++) {
      const p = f(URL_, { signal: controller.signal });
      await clock.advance(0);
      await p;
    }
    // The one listener left is that of the attempts' relays (caller-signal.ts), until they are
    // collected: test/signal-relay.test.ts sees it go.
    expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
    await clock.advance(10_000); // the timeout's shared queue timer goes idle
    expect(clock.pending).toBe(0);
  });

  it('a caller signal held by every layer of a hedged call draws no leak warning from Node', async () => {
    // Timeout, retry and hedge, plus the breaker and attempt timeout of each attempt in flight, all
    // listen to the caller's signal: as runtime listeners, past Node's default of 10 they would
    // print a MaxListenersExceededWarning ("possible memory leak") for a call that leaks nothing.
    // They share one (core's onAbort), so the signal carries a single runtime listener.
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const clock = new FakeClock();
      const base = fakeFetch(['hang']);
      const controller = new AbortController();
      const f = createFetch({
        fetch: base,
        clock,
        policy: {
          timeout: '10s',
          retry: { maxAttempts: 2, backoff: { type: 'constant', ms: 0 } },
          hedge: { maxHedges: 4, delayMs: 10, budgetPercent: 100 },
          circuitBreaker: true,
          attemptTimeout: '5s',
        },
      });
      const p = f(URL_, { signal: controller.signal }).catch((e: unknown) => e);
      for (let i = 0; i < 5; i++) await clock.advance(10);
      expect(base.calls).toHaveLength(5);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      controller.abort(new Error('gone'));
      await p;
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('during a retry backoff: rejects at once, cancels the kept response, sends nothing more', async () => {
    const clock = new FakeClock();
    const first = tracked(503);
    const base = fakeFetch([first, new Response()]);
    const controller = new AbortController();
    const f = createFetch({ fetch: base, clock, policy: slowRetry });
    const p = f(URL_, { signal: controller.signal }).catch((e: unknown) => e);
    await clock.advance(500); // mid-backoff
    const reason = new Error('gone');
    controller.abort(reason);
    expect(await p).toBe(reason);
    expect(first.cancelled).toBe(true);
    await clock.advance(5_000);
    expect(base.calls).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('during a hedge: every attempt is aborted', async () => {
    const clock = new FakeClock();
    const base = fakeFetch(['hang', 'hang']);
    const controller = new AbortController();
    const f = createFetch({ fetch: base, clock, policy: { hedge: { delayMs: 10, budgetPercent: 100 } } });
    const p = f(URL_, { signal: controller.signal }).catch((e: unknown) => e);
    await clock.advance(10);
    expect(base.calls).toHaveLength(2);
    controller.abort(new Error('gone'));
    expect(await p).toMatchObject({ message: 'gone' });
    expect(base.calls.every((c) => c.init.signal?.aborted)).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('under an ambient deadline: rejects with the reason and clears the deadline timer', async () => {
    const clock = new FakeClock();
    const base = fakeFetch(['hang']);
    const controller = new AbortController();
    const f = createFetch({ fetch: base, clock });
    const p = runWithDeadline(5_000, () => f(URL_, { signal: controller.signal })).catch((e: unknown) => e);
    await clock.advance(0);
    controller.abort(new Error('gone'));
    expect(await p).toMatchObject({ message: 'gone' });
    expect(clock.pending).toBe(0);
  });

  it('while a Request body is being read for replay: rejects at once', async () => {
    const base = fakeFetch([new Response()]);
    const controller = new AbortController();
    const stalled = new ReadableStream({ start: () => {} }); // never ends
    const request = new Request(URL_, { method: 'PUT', body: stalled, duplex: 'half' } as RequestInit);
    const f = createFetch({ fetch: base, policy: slowRetry });
    const p = f(request, { signal: controller.signal });
    controller.abort(new Error('gone'));
    await expect(p).rejects.toThrow('gone');
    expect(base.calls).toHaveLength(0);
  });

  it("after the response: the caller's signal still reaches the body, as with fetch", async () => {
    const base = fakeFetch([new Response('body')]);
    const controller = new AbortController();
    const f = createFetch({ fetch: base, policy: { timeout: '1s', ...slowRetry } });
    await f(URL_, { signal: controller.signal });
    const signal = base.calls[0]?.init.signal as AbortSignal;
    expect(signal.aborted).toBe(false);
    controller.abort(new Error('stop reading'));
    expect(signal.aborted).toBe(true);
  });
});
