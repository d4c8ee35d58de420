import { BulkheadRejectedError, type ResilienceEvent } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { bulkhead, concurrencyLimit } from '../src/index.js';

/** A call the test finishes by hand. */
function deferred<T = string>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** The queue events, as `[type, queued, reason, key, time]`. */
const queueEvents = (events: ResilienceEvent[]) =>
  events
    .filter((e) => e.type === 'bulkhead.queued' || e.type === 'bulkhead.dequeued' || e.type === 'bulkhead.rejected')
    .map((e) => [e.type, 'queued' in e ? e.queued : undefined, 'reason' in e ? e.reason : undefined, e.key, e.time]);

/** The queue length a listener computes from `queued` and `dequeued` alone. */
const depthFromEvents = (events: ResilienceEvent[]) =>
  events.reduce((n, e) => n + (e.type === 'bulkhead.queued' ? 1 : e.type === 'bulkhead.dequeued' ? -1 : 0), 0);

describe('queue events', () => {
  it('every waiter that queues leaves with one bulkhead.dequeued carrying the depth after: admitted, aborted, queue-timeout', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 3, queueTimeoutMs: 100, clock, onEvent: (e) => events.push(e) });
    const running = deferred();
    const first = b.execute(() => running.promise);
    const caller = new AbortController();
    const aborted = b.execute(() => 'never', { key: 'a', signal: caller.signal });
    const admitted = deferred();
    const second = b.execute(() => admitted.promise, { key: 'b' });
    await clock.advance(50);
    const expired = b.execute(() => 'late', { key: 'c' });
    expect(b).toMatchObject({ queued: 3, executing: 1 });

    caller.abort(new Error('caller gone'));
    await expect(aborted).rejects.toThrow('caller gone');
    expect(b.queued).toBe(2);

    running.resolve('first');
    await expect(first).resolves.toBe('first');
    expect(b).toMatchObject({ queued: 1, executing: 1 });

    const timedOut = expect(expired).rejects.toBeInstanceOf(BulkheadRejectedError);
    await clock.advance(100);
    await timedOut;
    expect(b).toMatchObject({ queued: 0, executing: 1 });

    expect(queueEvents(events)).toEqual([
      ['bulkhead.queued', 1, undefined, 'a', 0],
      ['bulkhead.queued', 2, undefined, 'b', 0],
      ['bulkhead.queued', 3, undefined, 'c', 50],
      ['bulkhead.dequeued', 2, 'aborted', 'a', 50],
      ['bulkhead.dequeued', 1, 'admitted', 'b', 50],
      ['bulkhead.dequeued', 0, 'queue-timeout', 'c', 150],
      ['bulkhead.rejected', undefined, 'queue-timeout', 'c', 150],
    ]);
    expect(events.every((e) => e.policy === 'bulkhead' && e.name === 'bulkhead')).toBe(true);
    expect(depthFromEvents(events)).toBe(b.queued);

    admitted.resolve('second');
    await expect(second).resolves.toBe('second');
    expect(events).toHaveLength(7);
  });

  it('announces each waiter let in while slots free up in one go, with the depth falling one by one', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 3, clock, onEvent: (e) => events.push(e) });
    const running = deferred();
    const first = b.execute(() => running.promise);
    // Waiters whose fn throws at once free their slot inside the drain loop that let them in.
    const waiters = [1, 2, 3].map((i) =>
      b.execute(() => {
        throw new Error(`w${i}`);
      }),
    );
    running.resolve('done');
    await first;
    for (const [i, waiter] of waiters.entries()) await expect(waiter).rejects.toThrow(`w${i + 1}`);
    expect(queueEvents(events).map(([type, queued, reason]) => [type, queued, reason])).toEqual([
      ['bulkhead.queued', 1, undefined],
      ['bulkhead.queued', 2, undefined],
      ['bulkhead.queued', 3, undefined],
      ['bulkhead.dequeued', 2, 'admitted'],
      ['bulkhead.dequeued', 1, 'admitted'],
      ['bulkhead.dequeued', 0, 'admitted'],
    ]);
    expect(b).toMatchObject({ queued: 0, executing: 0 });
  });

  it('a caller that aborts a running call (not queued) causes no bulkhead.dequeued', async () => {
    const events: ResilienceEvent[] = [];
    const b = bulkhead({ maxConcurrent: 1, clock: new FakeClock(), onEvent: (e) => events.push(e) });
    const caller = new AbortController();
    const running = deferred();
    const call = b.execute(() => running.promise, { signal: caller.signal });
    caller.abort(new Error('gone'));
    await expect(call).rejects.toThrow('gone');
    running.resolve('late');
    await running.promise;
    expect(events).toEqual([]);
  });

  it('concurrencyLimit() shares the queue and announces the same exits', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const limiter = concurrencyLimit({
      name: 'api',
      algorithm: 'aimd',
      initial: 1,
      min: 1,
      max: 1,
      maxQueue: 3,
      queueTimeoutMs: 100,
      clock,
      onEvent: (e) => events.push(e),
    });
    const running = deferred();
    const first = limiter.execute(() => running.promise);
    const caller = new AbortController();
    const aborted = limiter.execute(() => 'never', { signal: caller.signal });
    const expired = limiter.execute(() => 'late');
    await clock.advance(50);
    const second = limiter.execute(() => 'second');
    caller.abort(new Error('gone'));
    await expect(aborted).rejects.toThrow('gone');
    // The earlier waiter runs out of time first; the later one is let in when the slot frees.
    const timedOut = expect(expired).rejects.toMatchObject({ reason: 'queue-timeout' });
    await clock.advance(50);
    await timedOut;
    running.resolve('first');
    await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second']);
    expect(queueEvents(events).map(([type, queued, reason]) => [type, queued, reason])).toEqual([
      ['bulkhead.queued', 1, undefined],
      ['bulkhead.queued', 2, undefined],
      ['bulkhead.queued', 3, undefined],
      ['bulkhead.dequeued', 2, 'aborted'],
      ['bulkhead.dequeued', 1, 'queue-timeout'],
      ['bulkhead.rejected', undefined, 'queue-timeout'],
      ['bulkhead.dequeued', 0, 'admitted'],
    ]);
    expect(events.filter((e) => e.type.startsWith('bulkhead.')).every((e) => e.policy === 'concurrency-limit')).toBe(
      true,
    );
  });
});
