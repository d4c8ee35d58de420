import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { HEDGE_DEFAULTS, hedge, normalizeHedgeOptions } from '../src/index.js';

describe('hedge options', () => {
  it('normalizes {} to the documented defaults', () => {
    const { maxHedges, delayMs, budgetPercent, maxKeys, name, shouldHedge } = normalizeHedgeOptions({});
    expect({ maxHedges, delayMs, budgetPercent, maxKeys }).toEqual(HEDGE_DEFAULTS);
    expect(name).toBe('hedge');
    expect(shouldHedge).toBeUndefined();
    expect(Object.isFrozen(HEDGE_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(HEDGE_DEFAULTS.delayMs)).toBe(true);
  });

  it('accepts durations and partial adaptive delays', () => {
    expect(normalizeHedgeOptions({ delayMs: '20ms' }).delayMs).toBe(20);
    expect(normalizeHedgeOptions({ delayMs: 0 }).delayMs).toBe(0);
    expect(normalizeHedgeOptions({ delayMs: { percentile: 99 } }).delayMs).toEqual({
      percentile: 99,
      minMs: 1,
      maxMs: 1_000,
    });
    expect(normalizeHedgeOptions({ delayMs: { minMs: '5ms', maxMs: '2s' } }).delayMs).toEqual({
      percentile: 95,
      minMs: 5,
      maxMs: 2_000,
    });
    expect(normalizeHedgeOptions({ delayMs: { minMs: 3_000 } }).delayMs).toMatchObject({ maxMs: 3_000 });
    const h = hedge({ maxHedges: 3, budgetPercent: 5 });
    expect([h.maxHedges, h.budgetPercent, h.currentDelayMs()]).toEqual([3, 5, 1_000]);
  });

  it.each([
    [{ maxHedges: 0 }, /"maxHedges" must be an integer between 1 and 16 \(got 0\)/],
    [{ maxHedges: 1.5 }, /"maxHedges" must be an integer/],
    [{ maxHedges: 17 }, /"maxHedges" must be an integer between 1 and 16/],
    [{ delayMs: -1 }, /"delayMs" must be a duration/],
    [{ delayMs: '1 second' }, /"delayMs" must be a duration .*got "1 second"/],
    [{ delayMs: null }, /"delayMs" must be a duration or \{ percentile, minMs, maxMs \} \(got null\)/],
    [{ delayMs: [] }, /"delayMs" must be a duration or/],
    [{ delayMs: { percentile: 100 } }, /"delayMs.percentile" must be a finite number between 1 and 99.99/],
    [{ delayMs: { percentile: '95' } }, /"delayMs.percentile" must be a finite number/],
    [{ delayMs: { minMs: -2 } }, /"delayMs.minMs" must be a duration/],
    [{ delayMs: { minMs: 50, maxMs: 10 } }, /"delayMs.maxMs" must be a duration ≥ 50 ms/],
    [{ delayMs: { p: 95 } }, /unknown option "delayMs.p"/],
    [{ budgetPercent: 120 }, /"budgetPercent" must be a percentage between 0 and 100 \(got 120\)/],
    [{ budgetPercent: -1 }, /"budgetPercent" must be a percentage/],
    [{ shouldHedge: true }, /"shouldHedge" must be a function \(got true\)/],
    [{ maxKeys: 0 }, /"maxKeys" must be an integer ≥ 1/],
    [{ name: '' }, /"name" must be a non-empty string/],
    [{ clock: {} }, /"clock" must be a Clock/],
    [{ onEvent: 'log' }, /"onEvent" must be a function/],
    [{ maxHedge: 2 }, /unknown option "maxHedge"/],
  ])('rejects %j at construction with a TypeError naming it', (options, message) => {
    expect(() => hedge(options as never)).toThrow(TypeError);
    expect(() => hedge(options as never)).toThrow(message);
    expect(() => hedge(options as never)).toThrow(/^@palisade\/hedge: /);
  });

  it('rejects a non-object', () => {
    expect(() => hedge(5 as never)).toThrow(/hedge\(\) takes an options object/);
  });

  it('never validates at call time', async () => {
    const h = hedge({ delayMs: 10, clock: new FakeClock() });
    await expect(h.execute(() => 1)).resolves.toBe(1);
  });
});
