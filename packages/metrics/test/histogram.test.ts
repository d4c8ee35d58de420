import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram, bucketFinder, bucketIndex, quantile } from '../src/histogram.js';

const bounds = Float64Array.from([1, 2, 5, 10, 20, 50, 100]);

describe('histogram', () => {
  it.each([
    [0, 0],
    [1, 0],
    [1.0001, 1],
    [2, 1],
    [4.9, 2],
    [100, 6],
    [100.5, 7],
    [1e9, 7],
  ])('puts %s ms in bucket %i (le semantics, +Inf last)', (ms, index) => {
    expect(bucketIndex(bounds, ms)).toBe(index);
  });

  it('bucketFinder answers what bucketIndex does, from its table or past it', () => {
    const finder = bucketFinder(bounds);
    for (let ms = 0; ms <= 200; ms++) expect(finder(ms)).toBe(bucketIndex(bounds, ms));
    for (const ms of [0.5, 1.0001, 99.9, 100.5, 5_000, 1e9]) expect(finder(ms)).toBe(bucketIndex(bounds, ms));
    const fine = Float64Array.from([0.25, 0.5, 1.5, 3, 8_000]); // fractional bounds, a table capped at 4_096 ms
    const fineFinder = bucketFinder(fine);
    fc.assert(
      fc.property(fc.oneof(fc.nat(10_000), fc.double({ min: 0, max: 10_000, noNaN: true })), (ms) => {
        expect(fineFinder(ms)).toBe(bucketIndex(fine, ms));
      }),
    );
  });

  it('keeps count, sum, min and max and reports empty percentiles as undefined', () => {
    const h = new Histogram(bounds);
    expect(h.snapshot()).toMatchObject({ count: 0, sum: 0, min: undefined, max: undefined, p50: undefined });
    for (const ms of [3, 4, 7, 12, 250]) h.record(ms);
    const s = h.snapshot();
    expect(s).toMatchObject({ count: 5, sum: 276, min: 3, max: 250 });
    expect(s.buckets.map((b) => b.count)).toEqual([0, 0, 2, 1, 1, 0, 0, 1]);
    expect(s.buckets.at(-1)?.le).toBe(Number.POSITIVE_INFINITY);
    h.reset();
    expect(h.count).toBe(0);
  });

  it('interpolates inside the bucket like histogram_quantile', () => {
    const counts = [0, 0, 0, 10, 0, 0, 0, 0]; // ten observations in (5, 10]
    expect(quantile(bounds, counts, 0.5)).toBeCloseTo(7.5);
    expect(quantile(bounds, counts, 0.1)).toBeCloseTo(5.5);
    expect(quantile(bounds, counts, 1)).toBeCloseTo(10);
    expect(quantile(bounds, [0, 0, 0, 0, 0, 0, 0, 0], 0.5)).toBeUndefined();
    // In +Inf with no max known, the last finite bound is the best we can say.
    expect(quantile(bounds, [0, 0, 0, 0, 0, 0, 0, 4], 0.99)).toBe(100);
  });

  it('estimates always fall inside the bucket of the true quantile, and within [min, max]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 500, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.constantFrom(0.5, 0.9, 0.99),
        (values, q) => {
          const h = new Histogram(bounds);
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
          const estimate = h.quantile(q) as number;
          const i = bucketIndex(bounds, exact);
          const lower = i === 0 ? 0 : (bounds[i - 1] as number);
          const upper = i < bounds.length ? (bounds[i] as number) : Number.POSITIVE_INFINITY;
          expect(estimate).toBeGreaterThanOrEqual(Math.min(lower, h.min));
          expect(estimate).toBeLessThanOrEqual(Math.max(upper === Number.POSITIVE_INFINITY ? h.max : upper, h.min));
          expect(estimate).toBeGreaterThanOrEqual(h.min);
          expect(estimate).toBeLessThanOrEqual(h.max);
        },
      ),
    );
  });
});
