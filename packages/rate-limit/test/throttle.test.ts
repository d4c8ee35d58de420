import { type ResilienceEvent, RateLimitedError } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { type RateLimitDecision, type RateLimitStore, memoryStore, throttle } from '../src/index.js';

describe('throttle()', () => {
  it('runs calls under the limit at once, with no timer', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, clock });
    const runs: number[] = [];
    await Promise.all(Array.from({ length: 10 }, () => paced.execute(() => runs.push(clock.now()))));
    expect(runs).toEqual(Array(10).fill(0));
    expect(clock.pending).toBe(0);
  });

  it('makes calls over the limit wait for their slot, in order, one every windowMs / limit', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 2, clock });
    const runs: [number, number][] = [];
    const all = Promise.all(Array.from({ length: 6 }, (_, i) => paced.execute(() => runs.push([i, clock.now()]))));
    await clock.flush();
    expect(paced.queued).toBe(4);
    await clock.advance(400);
    await all;
    expect(runs).toEqual([
      [0, 0],
      [1, 0],
      [2, 100],
      [3, 200],
      [4, 300],
      [5, 400],
    ]);
    expect(paced.queued).toBe(0);
  });

  it('keeps the pace under a steady flood: 10 s at 10 per second runs burst + 100 calls', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 1, maxQueue: 10_000, maxWaitMs: '1h', clock });
    const runs: number[] = [];
    const calls = Array.from({ length: 300 }, () => paced.execute(() => runs.push(clock.now())));
    await clock.advance(10_000);
    expect(runs).toHaveLength(101);
    for (let i = 1; i < runs.length; i++) expect((runs[i] as number) - (runs[i - 1] as number)).toBe(100);
    await clock.runAll();
    await Promise.all(calls);
  });

  it('refuses a call that would wait past maxWaitMs, taking nothing', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const paced = throttle({
      limit: 10,
      windowMs: 1_000,
      burst: 1,
      maxWaitMs: 250,
      clock,
      onEvent: (e) => events.push(e),
    });
    const ran: number[] = [];
    const ok = [0, 1, 2].map((i) => paced.execute(() => ran.push(i)));
    const refused = paced.execute(() => ran.push(3));
    await expect(refused).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refused).rejects.toMatchObject({ policy: 'throttle', retryAfterMs: 300 });
    // Nothing was taken: 50 ms later, the next call gets the slot right after the third (at 300).
    await clock.advance(50);
    const next = paced.execute(() => ran.push(4));
    await clock.advance(250);
    await Promise.all([...ok, next]);
    expect(ran).toEqual([0, 1, 2, 4]);
    expect(events.map((e) => e.type)).toEqual([
      'ratelimit.queued',
      'ratelimit.queued',
      'ratelimit.rejected',
      'ratelimit.queued',
    ]);
    expect(events[0]).toMatchObject({ policy: 'throttle', waitMs: 100 });
  });

  it('refuses a call that would wait past its deadline', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 1, clock });
    await paced.execute(() => {});
    await expect(paced.execute(() => {}, { deadline: 50 })).rejects.toBeInstanceOf(RateLimitedError);
    const inTime = paced.execute(() => clock.now(), { deadline: 100 });
    await clock.advance(100);
    await expect(inTime).resolves.toBe(100);
  });

  it('with maxQueue calls waiting, refuses any call that cannot run now, taking nothing', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 1, maxQueue: 2, clock });
    const keyed = throttle({ limit: 10, windowMs: 1_000, burst: 1, maxQueue: 1, clock });
    const first = paced.execute(() => 'first');
    const waiting = [paced.execute(() => 'w1'), paced.execute(() => 'w2')];
    await clock.flush();
    expect(paced.queued).toBe(2);
    await expect(paced.execute(() => 'x')).rejects.toMatchObject({ retryAfterMs: 300 });
    // Another key that is under its limit still runs at once, full queue or not.
    await keyed.execute(() => {}, { key: 'a' });
    const queuedA = keyed.execute(() => {}, { key: 'a' });
    await clock.flush();
    await expect(keyed.execute(() => 'b', { key: 'b' })).resolves.toBe('b');
    await clock.advance(200);
    await expect(Promise.all([first, ...waiting, queuedA])).resolves.toEqual(['first', 'w1', 'w2', undefined]);
    expect(paced.queued).toBe(0);
    const after = paced.execute(() => clock.now());
    await clock.advance(100);
    await expect(after).resolves.toBe(300);
  });

  it('maxQueue 0: never waits, behaves like rateLimit', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 1, maxQueue: 0, clock });
    await paced.execute(() => {});
    await expect(paced.execute(() => {})).rejects.toMatchObject({ retryAfterMs: 100 });
  });

  it('costs: a call of cost 3 waits for 3 units', async () => {
    const clock = new FakeClock();
    const paced = throttle({ limit: 10, windowMs: 1_000, burst: 3, cost: 3, clock });
    await paced.execute(() => {});
    const p = paced.execute(() => clock.now());
    await clock.advance(300);
    await expect(p).resolves.toBe(300);
  });

  it('shares one pace between policies bound to a shared store only by key and name', async () => {
    const clock = new FakeClock();
    const store = memoryStore();
    const a = throttle({ limit: 1, windowMs: 1_000, store, clock, name: 'a' });
    const b = throttle({ limit: 1, windowMs: 1_000, store, clock, name: 'b' });
    await a.execute(() => {});
    await expect(Promise.race([b.execute(() => 'b'), clock.flush().then(() => 'waiting')])).resolves.toBe('b');
  });

  describe('with an asynchronous store', () => {
    it('waits for the reservation the store made', async () => {
      const clock = new FakeClock();
      const decision: RateLimitDecision = { allowed: true, limit: 1, remaining: 0, resetMs: 500, retryAfterMs: 250 };
      const store: RateLimitStore = { kind: 'async', bind: () => ({ consume: async () => decision }) };
      const paced = throttle({ store, clock });
      const p = paced.execute(() => clock.now());
      await clock.advance(250);
      await expect(p).resolves.toBe(250);
      await expect(
        throttle({
          store: { kind: 'x', bind: () => ({ consume: async () => ({ ...decision, retryAfterMs: 0 }) }) },
          clock,
        }).execute(() => 'now'),
      ).resolves.toBe('now');
    });

    it('fail-closed (the default for throttle): a failing store rejects with its error as cause', async () => {
      const failure = new Error('down');
      const events: ResilienceEvent[] = [];
      const store: RateLimitStore = { kind: 'x', bind: () => ({ consume: () => Promise.reject(failure) }) };
      const paced = throttle({ store, clock: new FakeClock(), onEvent: (e) => events.push(e) });
      expect(paced.onStoreError).toBe('fail-closed');
      await expect(paced.execute(() => 'x')).rejects.toMatchObject({ code: 'PALISADE_RATE_LIMITED', cause: failure });
      expect(events.map((e) => e.type)).toEqual(['ratelimit.store-error', 'ratelimit.rejected']);
      const open = throttle({ store, onStoreError: 'fail-open', clock: new FakeClock() });
      await expect(open.execute(() => 'ran')).resolves.toBe('ran');
    });

    it('counts reservations in flight against maxQueue', async () => {
      const clock = new FakeClock();
      const seen: number[] = [];
      const store: RateLimitStore = {
        kind: 'x',
        bind: () => ({
          consume: async (_key, _cost, maxWaitMs = 0) => {
            seen.push(maxWaitMs);
            return { allowed: true, limit: 1, remaining: 0, resetMs: 0, retryAfterMs: 0 };
          },
        }),
      };
      const paced = throttle({ store, clock, maxQueue: 1, maxWaitMs: 500 });
      await Promise.all([paced.execute(() => {}), paced.execute(() => {})]);
      expect(seen).toEqual([500, 0]);
    });
  });
});
