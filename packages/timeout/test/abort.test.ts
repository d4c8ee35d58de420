import type { Context } from '@palisade/core';
import { pipeline } from '@palisade/core';
import { FakeClock, countAbortListeners } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { timeout } from '../src/index.js';

const never = (ctx: Context) =>
  new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));

describe('caller abort', () => {
  it.each(['cooperative', 'aggressive'] as const)(
    '%s: an already-aborted signal rejects with its reason without calling fn',
    async (strategy) => {
      const controller = new AbortController();
      const reason = new Error('gone');
      controller.abort(reason);
      let called = false;
      const p = timeout({ ms: 100, strategy, clock: new FakeClock() }).execute(
        () => {
          called = true;
        },
        { signal: controller.signal },
      );
      await expect(p).rejects.toBe(reason);
      expect(called).toBe(false);
    },
  );

  it.each(['cooperative', 'aggressive'] as const)(
    '%s: aborting while fn runs rejects at once with the reason, aborts ctx.signal and clears the timer',
    async (strategy) => {
      const clock = new FakeClock();
      const controller = new AbortController();
      const reason = new Error('user cancelled');
      let signal: AbortSignal | undefined;
      const p = timeout({ ms: 100, strategy, clock }).execute(
        (ctx) => {
          signal = ctx.signal;
          return new Promise(() => {}); // ignores the signal entirely
        },
        { signal: controller.signal },
      );
      await clock.advance(10);
      controller.abort(reason);
      await expect(p).rejects.toBe(reason);
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBe(reason);
      await clock.advance(200); // the timeout never fires after the abort
    },
  );

  it('removes its listener from the caller signal when the call ends', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const signal = controller.signal;
    const counts = countAbortListeners(signal);
    const t = timeout({ ms: 100, clock });
    await t.execute(() => 'ok', { signal });
    await t.execute((ctx) => ctx.signal.aborted, { signal });
    await expect(t.execute(() => Promise.reject(new Error('x')), { signal })).rejects.toThrow('x');
    expect(counts.added).toBeGreaterThan(0);
    expect(counts.removed).toBe(counts.added);
  });

  it('through a pipeline, the caller abort reaches fn and rejects promptly', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const p = pipeline(timeout({ ms: 1_000, clock }), timeout({ ms: 500, clock })).execute(never, {
      signal: controller.signal,
    });
    controller.abort('stop');
    await expect(p).rejects.toBe('stop');
  });
});
