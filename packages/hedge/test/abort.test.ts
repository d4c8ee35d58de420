import { type Context, type ExecuteOptions, type Policy, createContext, pipeline } from '@palisade/core';
import { FakeClock, countAbortListeners } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { hedge } from '../src/index.js';

/** An attempt that settles only when its signal aborts (like fetch). */
const untilAborted = (seen: Context[]) => (ctx: Context) => {
  seen.push(ctx);
  return new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
};

const delays = [
  ['a fixed delay', 100],
  ['an adaptive delay', { percentile: 95, maxMs: 100 }],
] as const;

describe.each(delays)('caller abort with %s', (_, delayMs) => {
  it('an already-aborted signal rejects with its reason without calling fn', async () => {
    const controller = new AbortController();
    controller.abort('gone');
    let called = false;
    const p = hedge({ delayMs, clock: new FakeClock() }).execute(
      () => {
        called = true;
      },
      { signal: controller.signal },
    );
    await expect(p).rejects.toBe('gone');
    expect(called).toBe(false);
  });

  it('before the delay: rejects at once, aborts the attempt and never hedges', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    let attempts = 0;
    const p = hedge({ delayMs, clock }).execute(
      () => {
        attempts++;
        return new Promise(() => {}); // ignores its signal entirely
      },
      { signal: controller.signal },
    );
    await clock.advance(50);
    const reason = new Error('user cancelled');
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    await clock.advance(1_000);
    expect(attempts).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('after hedging: aborts every attempt with the reason and rejects with it', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const seen: Context[] = [];
    const p = hedge({ delayMs, maxHedges: 2, clock, budgetPercent: 100 }).execute(untilAborted(seen), {
      signal: controller.signal,
    });
    await clock.advance(150);
    expect(seen.map((c) => c.attempt)).toEqual([1, 2]);
    controller.abort('stop');
    await expect(p).rejects.toBe('stop');
    expect(seen.map((c) => [c.signal.aborted, c.signal.reason])).toEqual([
      [true, 'stop'],
      [true, 'stop'],
    ]);
    await clock.advance(1_000);
    expect(seen).toHaveLength(2); // the third attempt is never started
    expect(clock.pending).toBe(0);
  });

  it('removes its listener from the caller signal whatever the outcome', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const counts = countAbortListeners(controller.signal);
    const h = hedge({ delayMs, clock, budgetPercent: 100 });
    const signal = controller.signal;
    await h.execute(() => 'fast', { signal });
    const hedged = h.execute(
      async (ctx) => {
        await clock.sleep(ctx.attempt === 1 ? 500 : 10, ctx.signal);
        return ctx.attempt;
      },
      { signal },
    );
    await clock.advance(200);
    await expect(hedged).resolves.toBe(2);
    await expect(h.execute(() => Promise.reject(new Error('x')), { signal })).rejects.toThrow('x');
    expect(counts.added).toBeGreaterThan(0);
    expect(counts.removed).toBe(counts.added);
  });
});

/** An outer policy that aborts its Context after `ms` (what a timeout does). */
function abortAfter(clock: FakeClock, ms: number, reason: unknown): Policy {
  return {
    name: 'outer',
    async execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
      const ctx = createContext(options);
      const timer = clock.sleep(ms).then(() => ctx.abort(reason));
      try {
        return await fn(ctx);
      } finally {
        void timer;
        ctx.dispose();
      }
    },
  };
}

describe('abort by an outer policy', () => {
  it('stops hedging; the attempts see the abort through their signal', async () => {
    const clock = new FakeClock();
    const seen: Context[] = [];
    const reason = new Error('outer timeout');
    const p = pipeline(abortAfter(clock, 50, reason), hedge({ delayMs: 100, clock })).execute(untilAborted(seen));
    const settled = p.catch((e: unknown) => e);
    await clock.advance(200);
    expect(await settled).toBe(reason);
    expect(seen).toHaveLength(1);
  });

  it('after hedging, aborts every attempt', async () => {
    const clock = new FakeClock();
    const seen: Context[] = [];
    const reason = new Error('outer timeout');
    const p = pipeline(abortAfter(clock, 150, reason), hedge({ delayMs: 100, clock })).execute(untilAborted(seen));
    const settled = p.catch((e: unknown) => e);
    await clock.advance(200);
    expect(await settled).toBe(reason);
    expect(seen.map((c) => c.signal.reason)).toEqual([reason, reason]);
  });
});
