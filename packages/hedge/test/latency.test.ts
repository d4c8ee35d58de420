import { describe, expect, it } from 'vitest';
import { HALF_WINDOW, LatencyHistogram, LatencyTrackers, MIN_SAMPLES } from '../src/latency.js';

const settings = { percentile: 95, minMs: 1, maxMs: 1_000 };

describe('LatencyHistogram', () => {
  it('has no percentile before MIN_SAMPLES latencies', () => {
    const h = new LatencyHistogram(settings);
    for (let i = 0; i < MIN_SAMPLES - 1; i++) h.record(10);
    expect(h.percentile(50)).toBeUndefined();
    expect(h.delayMs(0)).toBe(1_000);
    h.record(10);
    expect(h.percentile(50)).toBeGreaterThanOrEqual(10);
  });

  it.each([
    [0.3, 50],
    [7, 95],
    [123, 99],
    [4_000, 90],
  ])('rounds %d ms up by less than 4.5%% (p%d of a constant)', (ms, p) => {
    const h = new LatencyHistogram(settings);
    for (let i = 0; i < 100; i++) h.record(ms);
    const value = h.percentile(p) as number;
    expect(value).toBeGreaterThanOrEqual(ms);
    expect(value).toBeLessThan(ms * 1.045);
  });

  it('estimates percentiles of a spread distribution within a bucket', () => {
    const h = new LatencyHistogram(settings);
    for (let i = 1; i <= 1_000; i++) h.record(i); // uniform 1..1000
    for (const p of [50, 90, 95, 99]) {
      const value = h.percentile(p) as number;
      expect(value).toBeGreaterThanOrEqual(p * 10);
      expect(value).toBeLessThan(p * 10 * 1.045 + 1);
    }
  });

  it('clamps latencies outside 0.125 ms .. 131 s into the end buckets', () => {
    const h = new LatencyHistogram(settings);
    for (let i = 0; i < 50; i++) h.record(0);
    for (let i = 0; i < 50; i++) h.record(1e9);
    expect(h.percentile(10)).toBeLessThan(0.14);
    expect(h.percentile(99)).toBeGreaterThan(130_000);
    expect(h.count).toBe(100);
  });

  it('holds between HALF_WINDOW and 2 × HALF_WINDOW latencies (fixed memory)', () => {
    const h = new LatencyHistogram(settings);
    for (let i = 0; i < 10 * HALF_WINDOW + 7; i++) h.record(5);
    expect(h.count).toBe(HALF_WINDOW + 7);
  });

  it('clamps the delay to [minMs, maxMs]', () => {
    const low = new LatencyHistogram({ percentile: 95, minMs: 20, maxMs: 50 });
    for (let i = 0; i < 100; i++) low.record(3);
    expect(low.delayMs(0)).toBe(20);
    const high = new LatencyHistogram({ percentile: 95, minMs: 20, maxMs: 50 });
    for (let i = 0; i < 100; i++) high.record(300);
    expect(high.delayMs(0)).toBe(50);
  });

  it.each([30, 50, 95])('a refresh gives p%d as the delay and judges queueing by the median', (p) => {
    /** A history whose median floor is ~500 ms, then a whole window uniform in [from, to]. */
    const judged = (from: number, to: number): LatencyHistogram => {
      const h = new LatencyHistogram({ percentile: p, minMs: 0.1, maxMs: 10_000 });
      for (let i = 1; i <= 1_000; i++) h.record(i);
      expect(h.delayMs(0)).toBe(h.percentile(p));
      expect(h.queueing).toBe(false);
      for (let i = 0; i < 2 * HALF_WINDOW; i++) h.record(from + ((to - from) * i) / (2 * HALF_WINDOW));
      expect(h.delayMs(1)).toBe(h.percentile(p)); // a refresh: 2,048 latencies since the last
      return h;
    };
    // Median ~950, under twice the floor; p95 ~1,355 is over it.
    expect(judged(500, 1_400).queueing).toBe(false);
    // Median ~1,100, over twice the floor; p30 ~940 is under it.
    expect(judged(700, 1_500).queueing).toBe(true);
  });

  it('follows a distribution that changes', () => {
    const h = new LatencyHistogram(settings);
    for (let i = 0; i < 3_000; i++) h.record(10);
    expect(h.delayMs(0)).toBeLessThan(10.5);
    for (let i = 0; i < 150; i++) h.record(100); // 5% of the window is enough to move p95
    expect(h.delayMs(0)).toBeGreaterThanOrEqual(100);
    for (let i = 0; i < 2 * HALF_WINDOW; i++) h.record(2);
    expect(h.delayMs(0)).toBeLessThan(2.1);
  });
});

describe('LatencyTrackers', () => {
  it('keeps one history per key, and one shared by calls without a key', () => {
    const trackers = new LatencyTrackers(settings, 10);
    expect(trackers.get('a')).toBe(trackers.get('a'));
    expect(trackers.get('a')).not.toBe(trackers.get('b'));
    expect(trackers.get(undefined)).toBe(trackers.get(undefined));
    expect(trackers.peek('c')).toBeUndefined();
    expect(trackers.size).toBe(2);
  });

  it('is bounded by maxKeys: a flood of keys forgets the least recently used', () => {
    const trackers = new LatencyTrackers(settings, 100);
    const hot = trackers.get('hot');
    for (let i = 0; i < 100_000; i++) {
      trackers.get(`k${i}`).record(1);
      if (i % 50 === 0) trackers.get('hot');
    }
    expect(trackers.size).toBe(100);
    expect(trackers.peek('hot')).toBe(hot);
    expect(trackers.peek('k0')).toBeUndefined();
  });
});
