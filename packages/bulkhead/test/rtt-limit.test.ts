import { describe, expect, it } from 'vitest';
import { gradient } from '../src/gradient.js';
import type { LimitSettings } from '../src/limit-algorithm.js';
import { MIN_NO_LOAD_RTT_MS, MIN_WINDOW, PROBE_SAMPLES, type RttLimit } from '../src/rtt-limit.js';
import { vegas } from '../src/vegas.js';

const settings: LimitSettings = {
  initial: 20,
  min: 3,
  max: 200,
  backoffRatio: 0.9,
  tolerance: 2,
  probeIntervalMs: 60_000,
};

describe.each([
  ['gradient', gradient],
  ['vegas', vegas],
])('%s: measuring the no-load RTT', (_, create) => {
  it('holds the limit at min until PROBE_SAMPLES calls started at ≤ min in flight, then uses their mean', () => {
    const a = create(settings) as RttLimit;
    expect(a.limit).toBe(3);
    expect(a.probing).toBe(true);
    for (let i = 0; i < 100; i++) a.update(500, 10, false, i); // started above min: queued, ignored
    for (let i = 0; i < 20; i++) a.update(999, 2, true, i); // drops are not no-load samples
    expect(a.limit).toBe(3);
    for (let i = 0; i < PROBE_SAMPLES - 1; i++) a.update(i % 2 === 0 ? 5 : 15, 3, false, 100 + i);
    expect(a.probing).toBe(true);
    expect(a.update(15, 1, false, 200)).toBe(20);
    expect(a.probing).toBe(false);
    expect(a.noLoadRttMs).toBeCloseTo(10, 5);
  });

  it('floors the no-load RTT at MIN_NO_LOAD_RTT_MS (a millisecond clock reads sub-ms calls as 0)', () => {
    const a = create(settings) as RttLimit;
    for (let i = 0; i < PROBE_SAMPLES; i++) a.update(0, 1, false, i);
    expect(a.noLoadRttMs).toBe(MIN_NO_LOAD_RTT_MS);
  });

  it('measures again every probeIntervalMs, then goes back to the limit it had', () => {
    const a = create({ ...settings, probeIntervalMs: 1_000 }) as RttLimit;
    for (let i = 0; i < PROBE_SAMPLES; i++) a.update(10, 1, false, 0);
    expect(a.limit).toBe(20);
    a.update(10, 1, false, 999);
    expect(a.probing).toBe(false);
    expect(a.update(10, 1, false, 1_000)).toBe(3);
    expect(a.probing).toBe(true);
    for (let i = 0; i < PROBE_SAMPLES; i++) a.update(30, 2, false, 1_100);
    expect(a.noLoadRttMs).toBe(30); // the dependency got slower for good: re-learned
    expect(a.limit).toBe(20);
  });

  it('multiplies the limit by backoffRatio after a window with a drop', () => {
    const a = create({ ...settings, backoffRatio: 0.5 }) as RttLimit;
    for (let i = 0; i < PROBE_SAMPLES; i++) a.update(10, 1, false, 0);
    a.update(1_000, 20, true, 1);
    for (let i = 1; i < MIN_WINDOW; i++) a.update(10, 10, false, 1);
    expect(a.limit).toBe(10);
  });
});
