import {
  BulkheadRejectedError,
  DeadlineExceededError,
  type ResilienceEvent,
  TimeoutError,
  pipeline,
} from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { type ConcurrencyLimitOptions, concurrencyLimit } from '../src/index.js';
import { PROBE_SAMPLES } from '../src/rtt-limit.js';

function deferred<T = string>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** An AIMD limit pinned to `limit` slots unless `max` says otherwise. */
const pinned = (limit: number, over: ConcurrencyLimitOptions = {}) =>
  concurrencyLimit({ algorithm: 'aimd', initial: limit, min: 1, max: limit, clock: new FakeClock(), ...over });

describe('concurrencyLimit', () => {
  it('has the interface of a bulkhead: executing, queued, available, "full" rejections, FIFO queue', async () => {
    const events: ResilienceEvent[] = [];
    const limiter = pinned(1, { maxQueue: 1, onEvent: (e) => events.push(e), name: 'inventory' });
    const running = deferred();
    const first = limiter.execute(() => running.promise);
    const second = limiter.execute(() => 'second');
    expect(limiter).toMatchObject({ executing: 1, queued: 1, available: 0, limit: 1, name: 'inventory' });
    const error = await limiter.execute(() => 'third').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(error).toMatchObject({ reason: 'full', policy: 'concurrency-limit' });
    running.resolve('first');
    await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second']);
    expect(events.map((e) => [e.type, e.policy, e.name])).toContainEqual([
      'bulkhead.rejected',
      'concurrency-limit',
      'inventory',
    ]);
    expect(events.map((e) => e.type)).toContain('bulkhead.queued');
  });

  it('rejects a waiter after queueTimeoutMs', async () => {
    const clock = new FakeClock();
    const limiter = pinned(1, { maxQueue: 1, queueTimeoutMs: 50, clock });
    const running = deferred();
    const first = limiter.execute(() => running.promise);
    const waiter = limiter.execute(() => 'w').catch((e: unknown) => e);
    await clock.advance(50);
    expect(await waiter).toMatchObject({ reason: 'queue-timeout' });
    running.resolve('ok');
    await first;
    expect(limiter).toMatchObject({ executing: 0, queued: 0 });
  });

  it('defaults to gradient, measuring the no-load RTT at min before using initial', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const limiter = concurrencyLimit({ clock, onEvent: (e) => events.push(e) });
    expect(limiter).toMatchObject({ algorithm: 'gradient', limit: 3, min: 3, max: 200 });
    for (let i = 0; i < PROBE_SAMPLES; i++) {
      const call = limiter.execute(() => clock.sleep(10));
      await clock.advance(10);
      await call;
    }
    expect(limiter.limit).toBe(20);
    expect(events).toEqual([expect.objectContaining({ type: 'limit.changed', limit: 20, previous: 3, time: 500 })]);
  });

  it.each([
    ['TimeoutError', new TimeoutError(1_000)],
    ['DeadlineExceededError', new DeadlineExceededError(0)],
    ['BulkheadRejectedError', new BulkheadRejectedError('full')],
  ])('counts a %s from inside as a drop and cuts the limit (passing the error through)', async (_, error) => {
    const events: ResilienceEvent[] = [];
    const limiter = pinned(10, { max: 20, backoffRatio: 0.5, onEvent: (e) => events.push(e) });
    await expect(limiter.execute(() => Promise.reject(error))).rejects.toBe(error);
    await Promise.resolve();
    expect(limiter.limit).toBe(5);
    expect(events).toEqual([expect.objectContaining({ type: 'limit.changed', limit: 5, previous: 10 })]);
  });

  it('a synchronous throw releases the slot and is measured too', async () => {
    const limiter = pinned(4, { max: 8, backoffRatio: 0.5 });
    await expect(
      limiter.execute(() => {
        throw new TimeoutError(5);
      }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(limiter).toMatchObject({ executing: 0, limit: 2 });
  });

  it('takes a custom isDrop instead of the default; a throwing isDrop counts as no drop, reported', async () => {
    await new Promise((resolve) => setImmediate(resolve)); // an earlier test's warning goes by first
    const warnings: string[] = [];
    const listener = (warning: Error) => warnings.push(warning.message);
    process.on('warning', listener);
    class Overloaded extends Error {}
    const limiter = pinned(10, { max: 20, backoffRatio: 0.5, isDrop: ({ error }) => error instanceof Overloaded });
    await expect(limiter.execute(() => Promise.reject(new TimeoutError(1)))).rejects.toBeInstanceOf(TimeoutError);
    await Promise.resolve();
    expect(limiter.limit).toBe(10);
    await expect(limiter.execute(() => Promise.reject(new Overloaded()))).rejects.toBeInstanceOf(Overloaded);
    await Promise.resolve();
    expect(limiter.limit).toBe(5);

    const throwing = pinned(10, {
      max: 20,
      isDrop: () => {
        throw new Error('bad predicate');
      },
    });
    const mine = new Error('mine');
    await expect(throwing.execute(() => Promise.reject(mine))).rejects.toBe(mine);
    await Promise.resolve();
    expect(throwing).toMatchObject({ executing: 0, limit: 10 });
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', listener);
    expect(warnings).toEqual([expect.stringContaining('the isDrop callback threw (Error: bad predicate)')]);
  });

  it('lets waiters in as soon as the limit grows', async () => {
    const limiter = pinned(1, { max: 5, maxQueue: 5, queueTimeoutMs: Number.POSITIVE_INFINITY });
    const gates = [deferred(), deferred(), deferred()];
    const calls = gates.map((g) => limiter.execute(() => g.promise));
    expect(limiter).toMatchObject({ executing: 1, queued: 2 });
    gates[0]?.resolve('a'); // one success in use: AIMD grows 1 → 2
    await calls[0];
    await Promise.resolve();
    expect(limiter.limit).toBe(2);
    expect(limiter).toMatchObject({ executing: 2, queued: 0 });
    gates[1]?.resolve('b');
    gates[2]?.resolve('c');
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c']);
  });

  it('never stops running calls when the limit shrinks; new calls wait for the count to fall', async () => {
    const limiter = pinned(4, { max: 4, backoffRatio: 0.5, maxQueue: 10, queueTimeoutMs: Number.POSITIVE_INFINITY });
    const gates = [deferred(), deferred(), deferred()];
    const calls = gates.map((g) => limiter.execute(() => g.promise));
    await expect(limiter.execute(() => Promise.reject(new TimeoutError(1)))).rejects.toBeInstanceOf(TimeoutError);
    await Promise.resolve();
    expect(limiter).toMatchObject({ limit: 2, executing: 3, available: 0 });
    const late = limiter.execute(() => 'late');
    expect(limiter.queued).toBe(1);
    gates[0]?.resolve('a');
    gates[1]?.resolve('b');
    await Promise.all([calls[0], calls[1]]);
    await expect(late).resolves.toBe('late');
    gates[2]?.resolve('c');
    await calls[2];
  });

  it('composes as the outer stage of a pipeline', async () => {
    const limiter = pinned(2);
    await expect(pipeline(limiter).execute((ctx) => ctx.attempt)).resolves.toBe(1);
  });
});
