import {
  BrokenCircuitError,
  BulkheadRejectedError,
  type Context,
  RateLimitedError,
  type ResilienceEvent,
  createContext,
  fromSpec,
  pipeline,
} from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { timeout } from '@palisade/timeout';
import { describe, expect, it } from 'vitest';
import { RETRY_DEFAULTS, constant, exponential, retry } from '../src/index.js';

class Transient extends Error {
  override name = 'Transient';
}

/** A function that fails `failures` times with a fresh error, then returns `value`. */
function flaky<T>(failures: number, value: T) {
  const calls: Context[] = [];
  const errors: Error[] = [];
  const fn = async (ctx: Context): Promise<T> => {
    calls.push(ctx);
    if (calls.length <= failures) {
      const error = new Transient(`failure ${calls.length}`);
      errors.push(error);
      throw error;
    }
    return value;
  };
  return { fn, calls, errors };
}

/** The rejection of `p`, once it settles (it must reject). */
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );

const events = () => {
  const list: ResilienceEvent[] = [];
  return { list, onEvent: (e: ResilienceEvent) => list.push(e) };
};

describe('retry()', () => {
  it('calls fn once when it succeeds, with attempt 1', async () => {
    const { fn, calls } = flaky(0, 'ok');
    await expect(retry({ clock: new FakeClock() }).execute(fn)).resolves.toBe('ok');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.attempt).toBe(1);
  });

  it("runs attempt 1 in an outer policy's Context for attempt 1, later ones in their own, and leaves the outer one working", async () => {
    const clock = new FakeClock();
    const caller = new AbortController();
    // An outer policy's Context, its signal following the caller's.
    const outer = createContext({ signal: caller.signal });
    const outerSignal = outer.signal;
    const { fn, calls } = flaky(1, 'ok');
    const r = retry({ clock, backoff: constant({ ms: 10 }) });
    // Alone, and fused in a pipeline (inside another retry, which borrows the same Context).
    const fused = pipeline(retry({ clock }), r);
    for (const run of [() => r.execute(fn, outer), () => fused.execute(fn, outer)]) {
      calls.length = 0;
      const p = run();
      await clock.advance(10);
      await expect(p).resolves.toBe('ok');
      expect(calls[0]).toBe(outer);
      expect(calls[1]).not.toBe(outer);
      expect(calls.map((c) => c.attempt)).toEqual([1, 2]);
    }
    // Retry is done with it, but did not dispose of it: the caller's abort still reaches it.
    caller.abort(new Error('caller left'));
    expect(outerSignal.aborted).toBe(true);
    // A Context for a later attempt (a hedge's second, say) is not attempt 1's: retry makes its own.
    const second = createContext({}, 2);
    const own = flaky(0, 'ok');
    await r.execute(own.fn, second);
    expect(own.calls[0]).not.toBe(second);
    expect(own.calls[0]?.attempt).toBe(1);
  });

  it('accepts a synchronous fn, returning and throwing', async () => {
    const clock = new FakeClock();
    const r = retry({ clock, backoff: constant({ ms: 10 }) });
    await expect(r.execute(() => 7)).resolves.toBe(7);
    let n = 0;
    const p = r.execute(() => {
      if (++n < 3) throw new Transient('sync');
      return n;
    });
    await clock.advance(20);
    await expect(p).resolves.toBe(3);
  });

  it('retries until fn succeeds, waiting the backoff between attempts', async () => {
    const clock = new FakeClock();
    const { fn, calls } = flaky(2, 'ok');
    const p = retry({ clock, backoff: constant({ ms: 100 }) }).execute(fn);
    await clock.advance(99);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls).toHaveLength(2);
    await clock.advance(100);
    await expect(p).resolves.toBe('ok');
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
  });

  it('gives each attempt its own Context that inherits key and deadline', async () => {
    const clock = new FakeClock();
    const { fn, calls } = flaky(2, 'ok');
    const p = retry({ clock, backoff: constant({ ms: 1 }) }).execute(fn, { key: 'host-a', deadline: 10_000 });
    await clock.advance(10);
    await p;
    expect(new Set(calls).size).toBe(3);
    expect(calls.map((c) => [c.attempt, c.key, c.deadline])).toEqual([
      [1, 'host-a', 10_000],
      [2, 'host-a', 10_000],
      [3, 'host-a', 10_000],
    ]);
  });

  it('throws the last error unchanged once maxAttempts are spent', async () => {
    const clock = new FakeClock();
    const { fn, calls, errors } = flaky(10, 'never');
    const p = retry({ clock, maxAttempts: 4, backoff: constant({ ms: 5 }) }).execute(fn);
    const settled = rejection(p);
    await clock.advance(100);
    expect(await settled).toBe(errors[3]);
    expect(calls).toHaveLength(4);
    expect(errors[3]).toBeInstanceOf(Transient);
  });

  it('maxAttempts: 1 never retries', async () => {
    const { fn, calls, errors } = flaky(1, 'ok');
    await expect(retry({ maxAttempts: 1, clock: new FakeClock() }).execute(fn)).rejects.toBe(errors[0]);
    expect(calls).toHaveLength(1);
  });

  it('follows an exponential backoff (no jitter): 100, 200, 400 ms', async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const p = retry({
      clock,
      maxAttempts: 4,
      backoff: exponential({ initialMs: 100, jitter: 'none' }),
    }).execute(async () => {
      starts.push(clock.now());
      throw new Transient();
    });
    const settled = expect(p).rejects.toBeInstanceOf(Transient);
    await clock.advance(1_000);
    await settled;
    expect(starts).toEqual([0, 100, 300, 700]);
  });

  it('draws jitter from the injected random source', async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const p = retry({
      clock,
      maxAttempts: 3,
      random: () => 0.5,
      backoff: { type: 'exponential', initialMs: '100ms', jitter: 'full' },
    }).execute(async () => {
      starts.push(clock.now());
      throw new Transient();
    });
    const settled = expect(p).rejects.toBeInstanceOf(Transient);
    await clock.runAll();
    await settled;
    expect(starts).toEqual([0, 50, 150]);
  });

  it('calls a user backoff function with the retry number and the error', async () => {
    const clock = new FakeClock();
    const seen: [number, unknown][] = [];
    const { fn, errors } = flaky(2, 'ok');
    const p = retry({
      clock,
      backoff: (n, error) => {
        seen.push([n, error]);
        return n * 10;
      },
    }).execute(fn);
    await clock.advance(30);
    await expect(p).resolves.toBe('ok');
    expect(seen).toEqual([
      [1, errors[0]],
      [2, errors[1]],
    ]);
  });

  it('treats NaN and negative delays of a user backoff as 0', async () => {
    const clock = new FakeClock();
    const { fn } = flaky(2, 'ok');
    const p = retry({ clock, backoff: (n) => (n === 1 ? Number.NaN : -5) }).execute(fn);
    await clock.flush();
    await expect(p).resolves.toBe('ok');
  });

  describe('retryOn', () => {
    it('by default retries errors but not palisade rejections', async () => {
      for (const rejection of [
        new BrokenCircuitError('open', { retryAfterMs: 1_000 }),
        new BulkheadRejectedError('full'),
        new RateLimitedError({ limit: 1, remaining: 0, resetMs: 100, retryAfterMs: 100 }),
      ]) {
        let calls = 0;
        const p = retry({ clock: new FakeClock() }).execute(() => {
          calls++;
          throw rejection;
        });
        await expect(p).rejects.toBe(rejection);
        expect(calls).toBe(1);
      }
    });

    it('never retries a value by default', async () => {
      let calls = 0;
      const p = retry({ clock: new FakeClock() }).execute(() => {
        calls++;
        return { status: 503 };
      });
      await expect(p).resolves.toEqual({ status: 503 });
      expect(calls).toBe(1);
    });

    it('retries a value when retryOn says so, and returns the last value when attempts run out', async () => {
      const clock = new FakeClock();
      const statuses = [503, 503, 200];
      const outcomes: unknown[] = [];
      const r = retry({
        clock,
        backoff: constant({ ms: 10 }),
        retryOn: (o) => {
          outcomes.push('error' in o ? ['error', o.attempt] : ['value', o.attempt, o.value]);
          return 'error' in o ? RETRY_DEFAULTS.retryOn(o) : (o.value as { status: number }).status === 503;
        },
      });
      let i = 0;
      const ok = r.execute(async () => ({ status: statuses[i++] }));
      await clock.advance(20);
      await expect(ok).resolves.toEqual({ status: 200 });
      expect(outcomes).toEqual([
        ['value', 1, { status: 503 }],
        ['value', 2, { status: 503 }],
        ['value', 3, { status: 200 }],
      ]);
      const always = r.execute(async () => ({ status: 503 }));
      await clock.advance(20);
      await expect(always).resolves.toEqual({ status: 503 });
    });

    it('sees the attempt and its Context', async () => {
      const clock = new FakeClock();
      const seen: [number, number][] = [];
      const p = retry({
        clock,
        backoff: constant({ ms: 0 }),
        retryOn: (o) => {
          seen.push([o.attempt, o.context.attempt]);
          return true;
        },
      }).execute(async () => {
        throw new Transient();
      });
      await expect(p).rejects.toBeInstanceOf(Transient);
      expect(seen).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
    });

    it('a retryOn that throws rejects the call with its error, never retried as if fn had failed', async () => {
      const clock = new FakeClock();
      const bug = new Error('bug in retryOn');
      for (const fn of [() => 'value', () => Promise.resolve('value'), () => Promise.reject(new Transient())]) {
        let calls = 0;
        const p = retry({
          clock,
          backoff: constant({ ms: 0 }),
          retryOn: () => {
            throw bug;
          },
        }).execute(() => {
          calls++;
          return fn();
        });
        await expect(p).rejects.toBe(bug);
        expect(calls).toBe(1);
      }
      let calls = 0;
      const later = retry({
        clock,
        backoff: constant({ ms: 0 }),
        retryOn: (o) => {
          if (o.attempt === 2) throw bug;
          return true;
        },
      }).execute(() => ++calls);
      await expect(later).rejects.toBe(bug);
      expect(calls).toBe(2);
    });

    it('stops at the first error it declines', async () => {
      const clock = new FakeClock();
      const { fn, calls, errors } = flaky(5, 'ok');
      const p = retry({ clock, backoff: constant({ ms: 0 }), retryOn: (o) => o.attempt < 2 }).execute(fn);
      expect(await rejection(p)).toBe(errors[1]);
      expect(calls).toHaveLength(2);
    });
  });

  describe('retryAfterMs', () => {
    const limited = (retryAfterMs: number) =>
      new RateLimitedError({ limit: 10, remaining: 0, resetMs: retryAfterMs, retryAfterMs });

    it('is a floor for the next delay', async () => {
      const clock = new FakeClock();
      const starts: number[] = [];
      const p = retry({
        clock,
        backoff: constant({ ms: 100 }),
        retryOn: (o) => 'error' in o,
      }).execute(async () => {
        starts.push(clock.now());
        if (starts.length === 1) throw limited(2_000); // above the backoff: waits 2 s
        if (starts.length === 2) throw limited(30); // below the backoff: waits 100 ms
        return 'ok';
      });
      await clock.advance(3_000);
      await expect(p).resolves.toBe('ok');
      expect(starts).toEqual([0, 2_000, 2_100]);
    });

    it('is honoured on any error that carries it (e.g. one built from a Retry-After header)', async () => {
      const clock = new FakeClock();
      const starts: number[] = [];
      const p = retry({ clock, backoff: constant({ ms: 1 }) }).execute(async () => {
        starts.push(clock.now());
        if (starts.length === 1) throw Object.assign(new Error('503'), { retryAfterMs: 1_500 });
        return 'ok';
      });
      await clock.advance(2_000);
      await expect(p).resolves.toBe('ok');
      expect(starts).toEqual([0, 1_500]);
    });

    it('beyond maxDelayMs, the error is thrown at once instead of waiting', async () => {
      const clock = new FakeClock();
      const error = limited(3_600_000);
      let calls = 0;
      const p = retry({ clock, maxDelayMs: '5s', retryOn: (o) => 'error' in o }).execute(async () => {
        calls++;
        throw error;
      });
      await expect(p).rejects.toBe(error);
      expect(calls).toBe(1);
      expect(clock.pending).toBe(0);
    });

    it('equal to maxDelayMs is still waited for', async () => {
      const clock = new FakeClock();
      const starts: number[] = [];
      const p = retry({ clock, maxDelayMs: 5_000, retryOn: (o) => 'error' in o }).execute(async () => {
        starts.push(clock.now());
        if (starts.length === 1) throw limited(5_000);
        return 'ok';
      });
      await clock.advance(5_000);
      await expect(p).resolves.toBe('ok');
      expect(starts).toEqual([0, 5_000]);
    });
  });

  it('caps every backoff delay at maxDelayMs', async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const p = retry({ clock, maxAttempts: 3, maxDelayMs: 250, backoff: constant({ ms: '1h' }) }).execute(async () => {
      starts.push(clock.now());
      throw new Transient();
    });
    const settled = expect(p).rejects.toBeInstanceOf(Transient);
    await clock.advance(1_000);
    await settled;
    expect(starts).toEqual([0, 250, 500]);
  });

  describe('deadline', () => {
    it('throws the last error at once when the next attempt could not start before the deadline', async () => {
      const clock = new FakeClock({ now: 1_000 });
      const { fn, calls, errors } = flaky(5, 'ok');
      const p = retry({ clock, maxAttempts: 5, backoff: constant({ ms: 100 }) }).execute(fn, { deadline: 1_250 });
      const settled = rejection(p);
      await clock.advance(100); // attempt 2 at 1100; attempt 3 would start at 1200 < 1250
      await clock.advance(100); // attempt 3 at 1200; attempt 4 would start at 1300 ≥ 1250
      expect(await settled).toBe(errors[2]);
      expect(calls).toHaveLength(3);
      expect(clock.pending).toBe(0);
    });

    it('does not retry when the delay would end exactly at the deadline', async () => {
      const clock = new FakeClock();
      const { fn, calls, errors } = flaky(5, 'ok');
      const p = retry({ clock, backoff: constant({ ms: 100 }) }).execute(fn, { deadline: 100 });
      await expect(p).rejects.toBe(errors[0]);
      expect(calls).toHaveLength(1);
    });

    it('reads the deadline an outer timeout sets on the Context', async () => {
      const clock = new FakeClock();
      const { fn, calls, errors } = flaky(10, 'ok');
      const p = pipeline(
        timeout({ ms: 250, clock }),
        retry({ clock, maxAttempts: 10, backoff: constant({ ms: 100 }) }),
      ).execute(fn);
      const settled = rejection(p);
      await clock.advance(300);
      expect(await settled).toBe(errors[2]);
      expect(calls.map((c) => c.deadline)).toEqual([250, 250, 250]);
    });
  });

  describe('events', () => {
    it('emits retry for each retry and success at the end', async () => {
      const clock = new FakeClock();
      const { list, onEvent } = events();
      const { fn, errors } = flaky(2, 'ok');
      const p = retry({ clock, onEvent, name: 'users', backoff: constant({ ms: 10 }) }).execute(fn, { key: 'k' });
      await clock.advance(20);
      await p;
      expect(list).toEqual([
        { policy: 'retry', name: 'users', type: 'retry', key: 'k', time: 0, attempt: 2, delayMs: 10, error: errors[0] },
        {
          policy: 'retry',
          name: 'users',
          type: 'retry',
          key: 'k',
          time: 10,
          attempt: 3,
          delayMs: 10,
          error: errors[1],
        },
        { policy: 'retry', name: 'users', type: 'success', key: 'k', time: 20, attempt: 3, durationMs: 20 },
      ]);
    });

    it('emits success after a first-time success, and failure when it gives up', async () => {
      const clock = new FakeClock();
      const { list, onEvent } = events();
      const r = retry({ clock, onEvent, maxAttempts: 2, backoff: constant({ ms: 10 }) });
      await r.execute(() => 1);
      const { fn, errors } = flaky(5, 'ok');
      const p = r.execute(fn);
      const settled = rejection(p);
      await clock.advance(10);
      expect(await settled).toBe(errors[1]);
      expect(list.map((e) => [e.type, 'attempt' in e ? e.attempt : undefined])).toEqual([
        ['success', 1],
        ['retry', 2],
        ['failure', 2],
      ]);
      expect(list[2]).toMatchObject({ type: 'failure', error: errors[1], durationMs: 10 });
    });

    it('emits a retry with the value when a value is retried', async () => {
      const clock = new FakeClock();
      const { list, onEvent } = events();
      const p = retry({
        clock,
        onEvent,
        maxAttempts: 2,
        backoff: constant({ ms: 5 }),
        retryOn: (o) => 'value' in o && o.value === 503,
      }).execute(() => 503);
      await clock.advance(5);
      await expect(p).resolves.toBe(503);
      expect(list.map((e) => e.type)).toEqual(['retry', 'failure']);
      expect(list[0]).toMatchObject({ attempt: 2, delayMs: 5, value: 503 });
    });

    it('a throwing listener never changes the outcome', async () => {
      const clock = new FakeClock();
      const { fn } = flaky(1, 'ok');
      const p = retry({
        clock,
        backoff: constant({ ms: 1 }),
        onEvent: () => {
          throw new Error('listener');
        },
      }).execute(fn);
      await clock.advance(1);
      await expect(p).resolves.toBe('ok');
    });
  });

  describe('budget', () => {
    it('when the budget refuses, throws the last error unwrapped and emits retry.budget-exhausted', async () => {
      const clock = new FakeClock();
      const { list, onEvent } = events();
      const r = retry({ clock, onEvent, budget: { ratio: 0, minPerSecond: 0 } });
      const { fn, calls, errors } = flaky(5, 'ok');
      await expect(r.execute(fn)).rejects.toBe(errors[0]);
      expect(calls).toHaveLength(1);
      expect(list.map((e) => e.type)).toEqual(['retry.budget-exhausted', 'failure']);
      expect(list[0]).toMatchObject({ attempt: 2, error: errors[0] });
    });

    it('is its own per policy by default, and can be shared or turned off', () => {
      const a = retry();
      const b = retry();
      expect(a.budget).toBeDefined();
      expect(a.budget).not.toBe(b.budget);
      expect(a.budget).toMatchObject(RETRY_DEFAULTS.budget);
      expect(retry({ budget: false }).budget).toBeUndefined();
      const shared = a.budget;
      expect(retry({ budget: shared }).budget).toBe(shared);
    });

    it('counts first attempts, failures and retries', async () => {
      const clock = new FakeClock();
      const r = retry({ clock, backoff: constant({ ms: 1 }) });
      const { fn } = flaky(2, 'ok');
      const p = r.execute(fn);
      await clock.advance(2);
      await p;
      await r.execute(() => 1);
      const { budget } = r;
      expect([budget?.firstAttempts, budget?.retries, budget?.failures]).toEqual([2, 2, 2]);
    });
  });

  it('is built from a declarative spec (plain data, durations as strings)', async () => {
    const clock = new FakeClock();
    const { list, onEvent } = events();
    const policy = fromSpec(
      {
        retry: {
          maxAttempts: 3,
          maxDelayMs: '1s',
          backoff: { type: 'exponential', initialMs: '100ms', jitter: 'none' },
          budget: { ratio: 0.5, windowMs: '30s' },
        },
      },
      { factories: { retry }, clock, onEvent, name: 'users' },
    );
    const { fn, calls } = flaky(2, 'ok');
    const p = policy.execute(fn);
    await clock.advance(300);
    await expect(p).resolves.toBe('ok');
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(list.filter((e) => e.type === 'retry').map((e) => [e.name, 'delayMs' in e && e.delayMs])).toEqual([
      ['users.retry', 100],
      ['users.retry', 200],
    ]);
    expect(() => fromSpec({ retry: { backoff: { type: 'linear' } } }, { factories: { retry } })).toThrow(
      /retry: @palisade\/retry: "backoff.type" must be one of/,
    );
    expect(() => fromSpec({ retry: { budget: false, maxAttempts: 0 } }, { factories: { retry } })).toThrow(
      /"maxAttempts" must be an integer ≥ 1/,
    );
  });
});
