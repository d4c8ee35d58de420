import { type Context, type ExecuteOptions, type Policy, type ResilienceEvent, createContext } from '@palisade/core';
import { FakeClock, countAbortListeners } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { type CircuitBreakerOptions, circuitBreaker } from '../src/index.js';

const boom = () => Promise.reject(new Error('boom'));
/** Ignores its signal: only the breaker's own race can reject promptly. */
const stubborn = () => new Promise<never>(() => {});
/** Rejects with the signal's reason when it aborts, as fetch does. */
const cooperative = (ctx: Context) =>
  new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));

const setup = (options: CircuitBreakerOptions = {}) => {
  const clock = new FakeClock({ now: 5_000 });
  const events: ResilienceEvent[] = [];
  const breaker = circuitBreaker({
    window: { kind: 'count', size: 10 },
    minimumCalls: 2,
    openMs: 1_000,
    halfOpenMaxCalls: 1,
    clock,
    onEvent: (e) => events.push(e),
    ...options,
  });
  const toHalfOpen = async () => {
    await breaker.execute(boom).catch(() => {});
    await breaker.execute(boom).catch(() => {});
    await clock.advance(1_000);
  };
  return { clock, events, breaker, toHalfOpen };
};

/** An outer policy that aborts the Context it hands down (like an outer timeout). */
const outer = (): Policy & { abort(reason: unknown): void } => {
  let current: ReturnType<typeof createContext> | undefined;
  return {
    name: 'outer',
    abort: (reason) => current?.abort(reason),
    async execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
      const ctx = createContext(options);
      current = ctx;
      try {
        return await fn(ctx);
      } finally {
        ctx.dispose();
      }
    },
  };
};

describe('caller abort', () => {
  it('an already-aborted signal rejects with its reason, without calling fn or counting anything', async () => {
    const { breaker, events } = setup();
    const controller = new AbortController();
    const reason = new Error('gone');
    controller.abort(reason);
    let called = false;
    const p = breaker.execute(
      () => {
        called = true;
      },
      { signal: controller.signal },
    );
    await expect(p).rejects.toBe(reason);
    expect(called).toBe(false);
    expect(events).toEqual([]);
    expect(breaker.stats().calls).toBe(0);
  });

  it('an already-aborted caller in half-open takes no probe slot', async () => {
    const { breaker, toHalfOpen } = setup();
    await toHalfOpen();
    const controller = new AbortController();
    controller.abort('stop');
    await expect(breaker.execute(() => 1, { signal: controller.signal })).rejects.toBe('stop');
    await expect(breaker.execute(() => 'probe')).resolves.toBe('probe');
    expect(breaker.state).toBe('closed');
  });

  it('closed: aborting while fn ignores its signal rejects at once; the late outcome counts for nothing', async () => {
    const { breaker, events } = setup({ minimumCalls: 1 });
    const controller = new AbortController();
    let fail!: (e: unknown) => void;
    const p = breaker.execute(() => new Promise((_, reject) => (fail = reject)), { signal: controller.signal });
    controller.abort('user left');
    await expect(p).rejects.toBe('user left');
    fail(new Error('late failure'));
    await new Promise((r) => setImmediate(r));
    expect(breaker.stats()).toMatchObject({ state: 'closed', calls: 0 });
    expect(events.filter((e) => e.type === 'failure' || e.type === 'success')).toEqual([]);
  });

  it('closed: a cooperative fn rejecting with the abort reason counts as neither', async () => {
    const { breaker } = setup({ minimumCalls: 1 });
    const controller = new AbortController();
    const p = breaker.execute(cooperative, { signal: controller.signal });
    controller.abort(new Error('cancel'));
    await expect(p).rejects.toThrow('cancel');
    expect(breaker.stats()).toMatchObject({ state: 'closed', calls: 0 });
  });

  it('an outer policy aborting the Context (an outer timeout) counts as neither', async () => {
    const { breaker } = setup({ minimumCalls: 1 });
    const o = outer();
    const p = o.execute((ctx) => breaker.execute(cooperative, ctx));
    o.abort(new Error('outer timeout'));
    await expect(p).rejects.toThrow('outer timeout');
    expect(breaker.stats()).toMatchObject({ state: 'closed', calls: 0 });
  });

  it('half-open: a probe whose caller aborts frees its slot and counts as neither', async () => {
    const { breaker, toHalfOpen, events } = setup();
    await toHalfOpen();
    const before = events.length;
    const controller = new AbortController();
    const probe = breaker.execute(stubborn, { signal: controller.signal });
    await expect(breaker.execute(() => 1)).rejects.toMatchObject({ state: 'half-open' }); // slot taken
    controller.abort('bye');
    await expect(probe).rejects.toBe('bye');
    expect(breaker.stats()).toMatchObject({ state: 'half-open', calls: 0 });
    await expect(breaker.execute(() => 'second probe')).resolves.toBe('second probe');
    expect(breaker.state).toBe('closed');
    expect(events.slice(before).map((e) => e.type)).not.toContain('failure');
  });

  it('half-open: a cooperative probe aborted through an outer policy frees its slot', async () => {
    const { breaker, toHalfOpen } = setup();
    await toHalfOpen();
    const o = outer();
    const p = o.execute((ctx) => breaker.execute(cooperative, ctx));
    o.abort('outer');
    await expect(p).rejects.toBe('outer');
    await expect(breaker.execute(() => 'next')).resolves.toBe('next');
    expect(breaker.state).toBe('closed');
  });

  it('removes its listener from the caller signal whatever the outcome', async () => {
    const { breaker, clock, toHalfOpen } = setup({ minimumCalls: 100 });
    const controller = new AbortController();
    const signal = controller.signal;
    const counts = countAbortListeners(signal);
    await breaker.execute(() => 'ok', { signal });
    await breaker.execute(boom, { signal }).catch(() => {});
    breaker.isolate();
    await breaker.execute(() => 'rejected', { signal }).catch(() => {});
    breaker.reset();
    await toHalfOpen();
    await breaker.execute(() => 'probe', { signal });
    await clock.advance(10);
    expect(counts.added).toBe(3); // rejected calls add none

    expect(counts.removed).toBe(counts.added);
  });

  it('aborting after the call ended changes nothing', async () => {
    const { breaker } = setup({ minimumCalls: 1 });
    const controller = new AbortController();
    await breaker.execute(() => 'ok', { signal: controller.signal });
    controller.abort('late');
    expect(breaker.stats()).toMatchObject({ calls: 1, failures: 0 });
  });
});
