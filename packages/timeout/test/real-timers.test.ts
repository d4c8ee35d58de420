import { TimeoutError } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { timeout } from '../src/index.js';

describe('timeout() on the system clock', () => {
  it('aborts a real fetch-like wait', async () => {
    const started = Date.now();
    const error = await timeout({ ms: 50 })
      .execute(
        (ctx) =>
          new Promise((_, reject) => {
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('fires every queued call of one policy, in order', async () => {
    const t = timeout({ ms: 30, strategy: 'aggressive' });
    const order: number[] = [];
    const calls = [0, 1, 2, 3].map(async (i) => {
      await new Promise((r) => setTimeout(r, i * 5));
      await t.execute(() => new Promise(() => {})).catch(() => order.push(i));
    });
    await Promise.all(calls);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('a timeout of 35 days (past what one runtime timer holds) neither fires early nor warns', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const result = await timeout({ ms: 3e9 }).execute(() => new Promise((r) => setTimeout(() => r('done'), 40)));
      expect(result).toBe('done');
      await new Promise((r) => setImmediate(r)); // Node emits its warnings on the next tick
      expect(warnings.map((w) => w.name)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
