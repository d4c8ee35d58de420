import { createContext } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { memoryStore, rateLimit, throttle } from '../src/index.js';
import type { BoundRateLimitStore, RateLimitDecision, RateLimitStore } from '../src/index.js';

/** An asynchronous store whose answers the test releases by hand, recording refunds. */
function manualStore() {
  const pending: ((d: RateLimitDecision) => void)[] = [];
  const refunds: RateLimitDecision[] = [];
  const bound: BoundRateLimitStore = {
    consume: () => new Promise<RateLimitDecision>((resolve) => pending.push(resolve)),
    refund: (_key, _cost, d) => {
      refunds.push(d);
    },
  };
  const store = { kind: 'manual', bind: () => bound } as unknown as RateLimitStore;
  return { store, pending, refunds };
}

const allowed = (retryAfterMs = 0): RateLimitDecision => ({
  allowed: true,
  limit: 1,
  remaining: 0,
  resetMs: 1,
  retryAfterMs,
});

describe('caller abort: rateLimit()', () => {
  it('an already-aborted signal rejects with its reason, takes nothing and never calls fn', async () => {
    const reason = new Error('gone');
    const signal = AbortSignal.abort(reason);
    const clock = new FakeClock();
    const limiter = rateLimit({ limit: 1, windowMs: 1_000, clock });
    const fn = vi.fn();
    await expect(limiter.execute(fn, { signal })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(limiter.consume('*')).toMatchObject({ allowed: true }); // nothing was taken
  });

  it('aborting while an asynchronous store answers rejects at once; the late grant is given back', async () => {
    const { store, pending, refunds } = manualStore();
    const controller = new AbortController();
    const limiter = rateLimit({ store, clock: new FakeClock() });
    const fn = vi.fn();
    const p = limiter.execute(fn, { signal: controller.signal });
    const reason = new Error('user left');
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    const grant = allowed();
    pending[0]?.(grant);
    await new Promise((r) => setImmediate(r));
    expect(fn).not.toHaveBeenCalled();
    expect(refunds).toEqual([grant]);
  });

  it('an outer policy aborting its Context during the round trip stops the call; the grant is given back', async () => {
    const { store, pending, refunds } = manualStore();
    const outer = createContext({});
    const limiter = rateLimit({ store, clock: new FakeClock() });
    const fn = vi.fn();
    const p = limiter.execute(fn, outer);
    const reason = new Error('timed out above');
    outer.abort(reason);
    const grant = allowed();
    pending[0]?.(grant);
    await expect(p).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(refunds).toEqual([grant]);
  });

  it('removes its listener from the caller signal once the store answers', async () => {
    const { store, pending } = manualStore();
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const p = rateLimit({ store, clock: new FakeClock() }).execute(() => 'ok', { signal: controller.signal });
    pending[0]?.(allowed());
    await expect(p).resolves.toBe('ok');
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledTimes(1);
  });
});

describe('caller abort: throttle()', () => {
  it('an already-aborted signal rejects with its reason and takes nothing', async () => {
    const reason = new Error('gone');
    const clock = new FakeClock();
    const paced = throttle({ limit: 1, windowMs: 1_000, clock });
    await expect(paced.execute(() => {}, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(paced.execute(() => clock.now())).resolves.toBe(0);
  });

  it('aborting while waiting rejects at once, clears the timer, leaves the queue, and gives the slot back', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 1, clock });
    await paced.execute(() => {});
    const controller = new AbortController();
    const fn = vi.fn();
    const p = paced.execute(fn, { signal: controller.signal });
    await clock.flush();
    expect(paced.queued).toBe(1);
    expect(clock.pending).toBe(1);
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(paced.queued).toBe(0);
    expect(clock.pending).toBe(0);
    expect(fn).not.toHaveBeenCalled();
    // The slot at 100 ms is free again for the next caller.
    const next = paced.execute(() => clock.now());
    await clock.advance(100);
    await expect(next).resolves.toBe(100);
  });

  it('a waiting call aborted behind later reservations gives nothing back (GCRA only returns the tail)', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 1, clock });
    await paced.execute(() => {});
    const controller = new AbortController();
    const early = paced.execute(() => {}, { signal: controller.signal });
    const late = paced.execute(() => clock.now());
    controller.abort(new Error('x'));
    await expect(early).rejects.toThrow('x');
    const after = paced.execute(() => clock.now());
    await clock.advance(300);
    await expect(late).resolves.toBe(200);
    await expect(after).resolves.toBe(300);
  });

  it('an outer policy aborting its Context wakes the wait too', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 1, clock });
    await paced.execute(() => {});
    const outer = createContext({});
    const p = paced.execute(() => 'ran', outer);
    await clock.flush();
    const reason = new Error('deadline above');
    outer.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(clock.pending).toBe(0);
    outer.dispose();
  });

  it('aborting while an asynchronous reservation is in flight rejects at once and gives back the late grant', async () => {
    const { store, pending, refunds } = manualStore();
    const clock = new FakeClock();
    const controller = new AbortController();
    const paced = throttle({ store, clock });
    const p = paced.execute(() => 'ran', { signal: controller.signal });
    controller.abort(new Error('bye'));
    await expect(p).rejects.toThrow('bye');
    const grant = allowed(500);
    pending[0]?.(grant);
    await new Promise((r) => setImmediate(r));
    expect(refunds).toEqual([grant]);
    expect(clock.pending).toBe(0);
  });

  it('aborting an asynchronous reservation while it waits gives it back through the store', async () => {
    const { store, pending, refunds } = manualStore();
    const clock = new FakeClock();
    const controller = new AbortController();
    const paced = throttle({ store, clock });
    const p = paced.execute(() => 'ran', { signal: controller.signal });
    const grant = allowed(500);
    pending[0]?.(grant);
    await clock.advance(100);
    expect(paced.queued).toBe(1);
    controller.abort(new Error('bye'));
    await expect(p).rejects.toThrow('bye');
    expect(refunds).toEqual([grant]);
    expect(paced.queued).toBe(0);
  });

  it('a signal that is never aborted leaves no listener behind after the wait', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 1, clock, store: memoryStore() });
    await paced.execute(() => {});
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const p = paced.execute(() => 'ran', { signal: controller.signal });
    await clock.advance(100);
    await expect(p).resolves.toBe('ran');
    expect(remove).toHaveBeenCalledTimes(add.mock.calls.length);
  });
});
