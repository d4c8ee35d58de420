import { describe, expect, it } from 'vitest';
import { aimd } from '../src/aimd.js';
import type { LimitSettings } from '../src/limit-algorithm.js';

const settings = (over: Partial<LimitSettings> = {}): LimitSettings => ({
  initial: 10,
  min: 2,
  max: 50,
  backoffRatio: 0.9,
  tolerance: 2,
  probeIntervalMs: 60_000,
  ...over,
});

describe('aimd', () => {
  it('starts at initial and grows by one per round trip (1/limit per success) while the limit is in use', () => {
    const a = aimd(settings());
    expect(a.limit).toBe(10);
    let now = 0;
    for (let i = 0; i < 10; i++) a.update(10, 10, false, (now += 1));
    expect(a.limit).toBe(10); // each step is 1/limit of a growing limit: just short of 11
    a.update(10, 10, false, (now += 1));
    expect(a.limit).toBe(11);
  });

  it('does not grow while less than half of the limit is used', () => {
    const a = aimd(settings());
    for (let i = 0; i < 1_000; i++) a.update(10, 4, false, i);
    expect(a.limit).toBe(10);
  });

  it('multiplies the limit by backoffRatio on a drop, never below min', () => {
    const a = aimd(settings({ initial: 20, backoffRatio: 0.5 }));
    expect(a.update(100, 20, true, 1_000)).toBe(10);
    expect(a.update(100, 10, true, 2_000)).toBe(5);
    expect(a.update(100, 5, true, 3_000)).toBe(2);
    expect(a.update(100, 2, true, 4_000)).toBe(2);
  });

  it('cuts once per round trip: drops of calls that started before the last cut do not cut again', () => {
    const a = aimd(settings({ initial: 20, backoffRatio: 0.5 }));
    expect(a.update(100, 20, true, 1_000)).toBe(10); // cut at t=1000
    expect(a.update(100, 20, true, 1_050)).toBe(10); // started at 950: the old limit's drop
    expect(a.update(40, 20, true, 1_050)).toBe(5); // started at 1010, after the cut
  });

  it('never grows past max', () => {
    const a = aimd(settings({ initial: 49, max: 50 }));
    for (let i = 0; i < 10_000; i++) a.update(1, 50, false, i);
    expect(a.limit).toBe(50);
  });
});
