import { BulkheadRejectedError, type ResilienceEvent, createContext, isRejection, pipeline } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { bulkhead } from '../src/index.js';

/** A call the test finishes by hand. */
function deferred<T = string>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('bulkhead', () => {
  it('runs up to maxConcurrent at once and rejects the next with reason "full" when there is no queue', async () => {
    const events: ResilienceEvent[] = [];
    const b = bulkhead({ maxConcurrent: 2, clock: new FakeClock(), onEvent: (e) => events.push(e) });
    const d1 = deferred();
    const d2 = deferred();
    const p1 = b.execute(() => d1.promise);
    const p2 = b.execute(() => d2.promise);
    expect(b).toMatchObject({ executing: 2, queued: 0, available: 0 });
    let called = false;
    const error = await b
      .execute(() => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(error).toMatchObject({ reason: 'full', code: 'PALISADE_BULKHEAD_REJECTED', policy: 'bulkhead' });
    expect(isRejection(error)).toBe(true);
    expect(events).toEqual([
      expect.objectContaining({ type: 'bulkhead.rejected', reason: 'full', policy: 'bulkhead' }),
    ]);
    d1.resolve('a');
    d2.resolve('b');
    await expect(Promise.all([p1, p2])).resolves.toEqual(['a', 'b']);
    expect(b).toMatchObject({ executing: 0, queued: 0, available: 2 });
  });

  it('serves waiters in FIFO order, passing each freed slot to the first in line', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 10, queueTimeoutMs: Number.POSITIVE_INFINITY });
    const order: number[] = [];
    const gates = Array.from({ length: 6 }, () => deferred<void>());
    const calls = gates.map((g, i) =>
      b.execute(async () => {
        order.push(i);
        await g.promise;
        return i;
      }),
    );
    expect(b).toMatchObject({ executing: 1, queued: 5 });
    // Finish them out of order: each start still follows arrival order.
    for (const i of [0, 1, 2, 3, 4, 5]) {
      gates[i]?.resolve();
      await calls[i];
    }
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(b).toMatchObject({ executing: 0, queued: 0 });
  });

  it('a new call never overtakes a waiter when a slot frees', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: Number.POSITIVE_INFINITY });
    const order: string[] = [];
    const first = deferred();
    const p1 = b.execute(() => first.promise);
    const p2 = b.execute(() => {
      order.push('waiter');
      return 'w';
    });
    first.resolve('x');
    await p1;
    const p3 = b.execute(() => {
      order.push('newcomer');
      return 'n';
    });
    await Promise.all([p2, p3]);
    expect(order).toEqual(['waiter', 'newcomer']);
  });

  it('emits bulkhead.queued with the queue length and rejects "full" when the queue is full', async () => {
    const events: ResilienceEvent[] = [];
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 2, clock: new FakeClock(), onEvent: (e) => events.push(e) });
    const d = deferred();
    const running = b.execute(() => d.promise);
    const w1 = b.execute(() => 1, { key: 'k1' });
    const w2 = b.execute(() => 2);
    await expect(b.execute(() => 3)).rejects.toMatchObject({ reason: 'full' });
    expect(events.map((e) => [e.type, 'queued' in e ? e.queued : e.type === 'bulkhead.rejected' && e.reason])).toEqual([
      ['bulkhead.queued', 1],
      ['bulkhead.queued', 2],
      ['bulkhead.rejected', 'full'],
    ]);
    expect(events[0]?.key).toBe('k1');
    d.resolve('r');
    await expect(Promise.all([running, w1, w2])).resolves.toEqual(['r', 1, 2]);
  });

  it('rejects a waiter after queueTimeoutMs with reason "queue-timeout", leaving the others in line', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const b = bulkhead({
      maxConcurrent: 1,
      maxQueue: 5,
      queueTimeoutMs: '100ms',
      clock,
      onEvent: (e) => events.push(e),
    });
    const d = deferred();
    const running = b.execute(() => d.promise);
    const early = settle(b.execute(() => 'early'));
    await clock.advance(60);
    const late = settle(b.execute(() => 'late'));
    await clock.advance(40); // `early` has waited 100 ms
    const result = await early;
    expect(result).toMatchObject({ ok: false, error: { reason: 'queue-timeout' } });
    expect(!result.ok && result.error).toBeInstanceOf(BulkheadRejectedError);
    expect(b).toMatchObject({ executing: 1, queued: 1 });
    expect(events.filter((e) => e.type === 'bulkhead.rejected')).toEqual([
      expect.objectContaining({ reason: 'queue-timeout', time: 100 }),
    ]);
    d.resolve('r');
    await running;
    expect(await late).toEqual({ ok: true, value: 'late' });
    await clock.advance(1_000);
    expect(clock.pending).toBe(0);
  });

  it('shares one runtime timer between all waiters (no timer per waiter)', async () => {
    const clock = new FakeClock();
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 100, queueTimeoutMs: 1_000, clock });
    const d = deferred();
    const running = b.execute(() => d.promise);
    const waiters = Array.from({ length: 100 }, (_, i) => settle(b.execute(() => i)));
    expect(clock.pending).toBe(1);
    d.resolve('r');
    await running;
    const results = await Promise.all(waiters);
    expect(results.every((r) => r.ok)).toBe(true);
    await clock.advance(1_000); // the idle timer fires once and is not re-armed
    expect(clock.pending).toBe(0);
  });

  it('creates no timer at all when waiters never time out or cannot queue', async () => {
    const clock = new FakeClock();
    const unbounded = bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: Number.POSITIVE_INFINITY, clock });
    const d = deferred();
    const running = unbounded.execute(() => d.promise);
    const waiter = unbounded.execute(() => 'w');
    expect(clock.pending).toBe(0);
    d.resolve('r');
    await expect(Promise.all([running, waiter])).resolves.toEqual(['r', 'w']);
    const noQueue = bulkhead({ maxConcurrent: 1, clock });
    await noQueue.execute(() => 1);
    expect(clock.pending).toBe(0);
  });

  it('releases the slot however fn ends: value, resolve, reject, synchronous throw', async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    const boom = new Error('boom');
    await expect(b.execute(() => 42)).resolves.toBe(42);
    await expect(b.execute(async () => 'x')).resolves.toBe('x');
    await expect(b.execute(() => Promise.reject(boom))).rejects.toBe(boom);
    await expect(
      b.execute(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    // biome-ignore lint/suspicious/noThenProperty: a non-native thenable is the point of this case
    const thenable = { then: (resolve: (v: string) => void) => resolve('thenable') };
    await expect(b.execute(() => thenable as unknown as Promise<string>)).resolves.toBe('thenable');
    expect(b).toMatchObject({ executing: 0, available: 1 });
  });

  it('passes the errors of fn through unchanged', async () => {
    const b = bulkhead();
    const error = Object.assign(new Error('mine'), { status: 500 });
    await expect(b.execute(() => Promise.reject(error))).rejects.toBe(error);
  });

  it('hands fn a Context carrying key and deadline, and reuses an outer policy Context as is', async () => {
    const b = bulkhead();
    const ctx = await b.execute((c) => c, { key: 'users', deadline: 123 });
    expect(ctx).toMatchObject({ key: 'users', deadline: 123, attempt: 1 });
    const outer = createContext({ key: 'k' }, 2);
    await expect(b.execute((c) => c, outer)).resolves.toBe(outer);
  });

  it('survives a long queue of waiters whose fn throws synchronously (no recursion per waiter)', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 20_000, queueTimeoutMs: Number.POSITIVE_INFINITY });
    const d = deferred();
    const running = b.execute(() => d.promise);
    const waiters = Array.from({ length: 20_000 }, () =>
      b
        .execute(() => {
          throw new Error('sync');
        })
        .catch(() => 'caught'),
    );
    d.resolve('r');
    await running;
    expect(new Set(await Promise.all(waiters))).toEqual(new Set(['caught']));
    expect(b).toMatchObject({ executing: 0, queued: 0 });
  });

  it('lets fn call the same bulkhead again (the nested call queues or is rejected like any other)', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const inner = await b.execute(() => b.execute(() => 'inner').catch((e: unknown) => e));
    expect(inner).toMatchObject({ reason: 'full' });
    expect(b.executing).toBe(0);
  });

  it('works as a pipeline stage and exposes its configuration', async () => {
    const b = bulkhead({ maxConcurrent: 3, maxQueue: 4, queueTimeoutMs: '2s', name: 'db' });
    expect(b).toMatchObject({ name: 'db', maxConcurrent: 3, maxQueue: 4, queueTimeoutMs: 2_000 });
    await expect(pipeline(b).execute(() => 'ok')).resolves.toBe('ok');
  });
});
