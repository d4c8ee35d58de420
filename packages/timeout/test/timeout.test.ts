import {
  type Context,
  DeadlineExceededError,
  type ResilienceEvent,
  TimeoutError,
  isResilienceError,
  pipeline,
} from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { timeout } from '../src/index.js';

/** A call that settles only when its signal aborts (like fetch), or after `ms` if given. */
const signalAware = (clock: FakeClock, ms?: number) => (ctx: Context) =>
  new Promise<string>((resolve, reject) => {
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    if (ms !== undefined) void clock.sleep(ms).then(() => resolve('done'));
  });

describe('timeout() cooperative', () => {
  it('returns the value of a call that ends in time', async () => {
    const clock = new FakeClock();
    const p = timeout({ ms: 100, clock }).execute(signalAware(clock, 50));
    await clock.advance(50);
    await expect(p).resolves.toBe('done');
    expect(clock.pending).toBe(1); // the shared, unref'd queue timer; it goes idle when it fires
    await clock.advance(100);
    expect(clock.pending).toBe(0);
  });

  it('aborts ctx.signal with a TimeoutError and rejects with it when fn settles', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    let seen: AbortSignal | undefined;
    const p = timeout({ ms: 100, clock, onEvent: (e) => events.push(e) }).execute((ctx) => {
      seen = ctx.signal;
      return signalAware(clock)(ctx);
    });
    const settled = p.catch((e: unknown) => e);
    await clock.advance(99);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    const error = await settled;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(seen?.reason).toBe(error);
    expect((error as TimeoutError).code).toBe('PALISADE_TIMEOUT');
    expect((error as TimeoutError).timeoutMs).toBe(100);
    expect(events).toMatchObject([{ type: 'timeout', policy: 'timeout', name: 'timeout', timeoutMs: 100, time: 100 }]);
  });

  it('waits for a call that ignores the signal, then rejects with the TimeoutError if it fails', async () => {
    const clock = new FakeClock();
    let settledAt = -1;
    const p = timeout({ ms: 100, clock })
      .execute(async () => {
        await clock.sleep(300);
        throw new Error('late failure');
      })
      .catch((e: unknown) => {
        settledAt = clock.now();
        return e;
      });
    await clock.advance(200);
    expect(settledAt).toBe(-1);
    await clock.advance(100);
    expect(await p).toBeInstanceOf(TimeoutError);
    expect(settledAt).toBe(300);
  });

  it('returns the value of a call that ignored the signal but still succeeded', async () => {
    const clock = new FakeClock();
    const p = timeout({ ms: 10, clock }).execute(async () => {
      await clock.sleep(20);
      return 'slow but fine';
    });
    await clock.advance(20);
    await expect(p).resolves.toBe('slow but fine');
  });

  it('passes errors of fn through unchanged, sync or async', async () => {
    const clock = new FakeClock();
    const mine = new Error('mine');
    const t = timeout({ ms: 100, clock });
    await expect(
      t.execute(() => {
        throw mine;
      }),
    ).rejects.toBe(mine);
    await expect(t.execute(() => Promise.reject(mine))).rejects.toBe(mine);
    await expect(t.execute(() => 7)).resolves.toBe(7);
  });
});

describe('timeout() aggressive', () => {
  it('rejects at once and leaves fn running with its signal aborted', async () => {
    const clock = new FakeClock();
    let signal: AbortSignal | undefined;
    let finished = false;
    const p = timeout({ ms: 100, strategy: 'aggressive', clock }).execute(async (ctx) => {
      signal = ctx.signal;
      await clock.sleep(1_000);
      finished = true;
      return 'ignored';
    });
    const settled = p.catch((e: unknown) => e);
    await clock.advance(100);
    const error = await settled;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(signal?.aborted).toBe(true);
    expect(finished).toBe(false);
    await clock.advance(900);
    expect(finished).toBe(true);
  });

  it('passes through values and errors that come in time', async () => {
    const clock = new FakeClock();
    const t = timeout({ ms: 100, strategy: 'aggressive', clock });
    await expect(t.execute(() => 'fast')).resolves.toBe('fast');
    const mine = new Error('mine');
    await expect(t.execute(() => Promise.reject(mine))).rejects.toBe(mine);
  });
});

describe('deadlines', () => {
  it('an earlier incoming deadline shortens the timeout and fails with DeadlineExceededError', async () => {
    const clock = new FakeClock({ now: 10_000 });
    const events: ResilienceEvent[] = [];
    const p = timeout({ ms: 1_000, clock, onEvent: (e) => events.push(e) })
      .execute(signalAware(clock), { deadline: 10_250 })
      .catch((e: unknown) => e);
    await clock.advance(250);
    const error = await p;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).code).toBe('PALISADE_DEADLINE_EXCEEDED');
    expect((error as DeadlineExceededError).deadline).toBe(10_250);
    expect(events).toMatchObject([{ type: 'timeout', deadline: true, timeoutMs: 250 }]);
  });

  it('a later deadline does not lengthen it', async () => {
    const clock = new FakeClock();
    const p = timeout({ ms: 100, clock })
      .execute(signalAware(clock), { deadline: 5_000 })
      .catch((e: unknown) => e);
    await clock.advance(100);
    expect(await p).toBeInstanceOf(TimeoutError);
  });

  it('a deadline already past rejects without calling fn', async () => {
    const clock = new FakeClock({ now: 500 });
    let called = false;
    const p = timeout({ ms: 100, clock }).execute(
      () => {
        called = true;
      },
      { deadline: 500 },
    );
    await expect(p).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(called).toBe(false);
  });

  it('tells inner policies and fn the deadline it sets', async () => {
    const clock = new FakeClock({ now: 1_000 });
    let inner: number | undefined;
    await timeout({ ms: 300, clock }).execute((ctx) => {
      inner = ctx.deadline;
    });
    expect(inner).toBe(1_300);
    await timeout({ ms: 300, clock }).execute(
      (ctx) => {
        inner = ctx.deadline;
      },
      { deadline: 1_100 },
    );
    expect(inner).toBe(1_100);
  });

  it('nested in a pipeline, the outer (shorter) timeout wins', async () => {
    const clock = new FakeClock();
    const p = pipeline(timeout({ ms: 100, clock, name: 'total' }), timeout({ ms: 1_000, clock, name: 'attempt' }))
      .execute(signalAware(clock))
      .catch((e: unknown) => e);
    await clock.advance(100);
    const error = await p;
    expect(isResilienceError(error)).toBe(true);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(100);
  });
});
