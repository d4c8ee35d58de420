import { type Context, type ResilienceEvent, createContext } from '@palisade/core';
import { FakeClock, countAbortListeners } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { bulkhead, concurrencyLimit } from '../src/index.js';

type Options = { clock: FakeClock; onEvent?: (e: ResilienceEvent) => void };

/** Both factories with one slot and a queue of 5 (the adaptive one pinned so its limit cannot move). */
const factories = {
  bulkhead: (o: Options) => bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 1_000, ...o }),
  concurrencyLimit: (o: Options) =>
    concurrencyLimit({ algorithm: 'aimd', initial: 1, min: 1, max: 1, maxQueue: 5, queueTimeoutMs: 1_000, ...o }),
};

/** A signal that counts its listeners. */
function countedSignal() {
  const controller = new AbortController();
  const { signal } = controller;
  return { controller, signal, counts: countAbortListeners(signal) };
}

function deferred<T = string>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** A fn that only ends when its signal aborts. */
const cooperative = (ctx: Context) =>
  new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));

describe.each(Object.entries(factories))('%s: caller abort', (_, make) => {
  it('an already-aborted signal rejects with its reason without calling fn or taking a slot', async () => {
    const b = make({ clock: new FakeClock() });
    const { controller, signal, counts } = countedSignal();
    const reason = new Error('gone');
    controller.abort(reason);
    let called = false;
    await expect(
      b.execute(
        () => {
          called = true;
        },
        { signal },
      ),
    ).rejects.toBe(reason);
    expect(called).toBe(false);
    expect(b).toMatchObject({ executing: 0, queued: 0 });
    expect(counts.added).toBe(0);
  });

  it('aborting while queued leaves the queue at once with the reason; the line moves on without it', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const b = make({ clock, onEvent: (e) => events.push(e) });
    const running = deferred();
    const first = b.execute(() => running.promise);
    const { controller, signal, counts } = countedSignal();
    let abortedCalled = false;
    const aborted = b.execute(
      () => {
        abortedCalled = true;
      },
      { signal },
    );
    const next = b.execute(() => 'next');
    expect(b.queued).toBe(2);
    const reason = new Error('user left');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(b).toMatchObject({ executing: 1, queued: 1 });
    expect(counts.removed).toBe(counts.added);
    running.resolve('done');
    await expect(Promise.all([first, next])).resolves.toEqual(['done', 'next']);
    expect(abortedCalled).toBe(false);
    await clock.advance(5_000); // its queue timeout never fires
    expect(events.filter((e) => e.type === 'bulkhead.rejected')).toEqual([]);
    expect(clock.pending).toBe(0);
    expect(b).toMatchObject({ executing: 0, queued: 0 });
  });

  it('an outer policy aborting its Context while the call waits rejects it too (lazy signal, slow path only)', async () => {
    const b = make({ clock: new FakeClock() });
    const running = deferred();
    const first = b.execute(() => running.promise);
    const outer = createContext(undefined);
    const waiting = b.execute(() => 'never', outer);
    outer.abort('outer timeout');
    await expect(waiting).rejects.toBe('outer timeout');
    expect(b.queued).toBe(0);
    running.resolve('ok');
    await first;
    expect(b.executing).toBe(0);
  });

  it('aborting while fn runs rejects at once; the slot stays taken until fn really ends', async () => {
    const b = make({ clock: new FakeClock() });
    const { controller, signal, counts } = countedSignal();
    const stubborn = deferred();
    let seen: AbortSignal | undefined;
    const call = b.execute(
      (ctx) => {
        seen = ctx.signal;
        return stubborn.promise; // ignores the signal
      },
      { signal },
    );
    const waiter = b.execute(() => 'waiter');
    controller.abort('stop');
    await expect(call).rejects.toBe('stop');
    expect(seen?.aborted).toBe(true);
    expect(b).toMatchObject({ executing: 1, queued: 1 }); // fn is still running: isolation holds
    stubborn.resolve('late');
    await expect(waiter).resolves.toBe('waiter');
    expect(b).toMatchObject({ executing: 0, queued: 0 });
    expect(counts.removed).toBe(counts.added);
  });

  it('a cooperative fn sees the abort through ctx.signal and frees its slot at once', async () => {
    const b = make({ clock: new FakeClock() });
    const controller = new AbortController();
    const call = b.execute(cooperative, { signal: controller.signal });
    expect(b.executing).toBe(1);
    controller.abort('bye');
    await expect(call).rejects.toBe('bye');
    await Promise.resolve();
    expect(b.executing).toBe(0);
  });

  it('a call that waited, then ran, is still answered at once on abort', async () => {
    const b = make({ clock: new FakeClock() });
    const running = deferred();
    const first = b.execute(() => running.promise);
    const controller = new AbortController();
    const stubborn = deferred();
    const second = b.execute(() => stubborn.promise, { signal: controller.signal });
    running.resolve('a');
    await first;
    expect(b).toMatchObject({ executing: 1, queued: 0 });
    controller.abort('stop');
    await expect(second).rejects.toBe('stop');
    expect(b.executing).toBe(1);
    stubborn.resolve('b');
    await stubborn.promise;
    await Promise.resolve();
    expect(b.executing).toBe(0);
  });

  it('removes every listener from the caller signal when calls end normally', async () => {
    const b = make({ clock: new FakeClock() });
    const { signal, counts } = countedSignal();
    await b.execute(() => 'ok', { signal });
    await b.execute((ctx) => ctx.signal.aborted, { signal });
    await expect(b.execute(() => Promise.reject(new Error('x')), { signal })).rejects.toThrow('x');
    const running = deferred();
    const first = b.execute(() => running.promise, { signal });
    const queued = b.execute((ctx) => ctx.signal.aborted, { signal });
    running.resolve('r');
    await Promise.all([first, queued]);
    expect(counts.added).toBeGreaterThan(0);
    expect(counts.removed).toBe(counts.added);
  });

  it('an abort after the call settled changes nothing', async () => {
    const b = make({ clock: new FakeClock() });
    const controller = new AbortController();
    await expect(b.execute(() => 'ok', { signal: controller.signal })).resolves.toBe('ok');
    controller.abort('late');
    expect(b).toMatchObject({ executing: 0, queued: 0 });
  });
});

describe('concurrencyLimit: what an abort teaches the algorithm', () => {
  it('a call its caller aborted is no sample; an ordinary failure is one', async () => {
    const events: ResilienceEvent[] = [];
    const limiter = concurrencyLimit({
      algorithm: 'aimd',
      initial: 1,
      min: 1,
      max: 5,
      clock: new FakeClock(),
      onEvent: (e) => events.push(e),
    });
    const controller = new AbortController();
    const call = limiter.execute(cooperative, { signal: controller.signal });
    controller.abort(new DOMException('The user aborted', 'AbortError'));
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    await Promise.resolve();
    expect(limiter.limit).toBe(1);
    expect(events).toEqual([]);
    // An ordinary failure is a latency sample like a success: AIMD grows by 1/limit per sample.
    await expect(limiter.execute(() => Promise.reject(new Error('404')))).rejects.toThrow('404');
    await Promise.resolve();
    expect(limiter.limit).toBe(2);
    expect(events).toEqual([expect.objectContaining({ type: 'limit.changed', limit: 2, previous: 1 })]);
  });
});
