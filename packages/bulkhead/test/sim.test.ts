// The goals of issue 5, asserted on the seeded simulation `npm run sim:concurrency` prints:
// a dependency with 4 workers × exponential 10 ms (capacity 400 rps), clients timing out at 1 s.
import { beforeAll, describe, expect, it } from 'vitest';
import { type SimRow, formatTable, runConcurrencySim } from '../../../sim/concurrency.js';

let rows: SimRow[] = [];
const row = (limiter: string, rps: number) => {
  const found = rows.find((r) => r.limiter === limiter && r.offeredRps === rps);
  if (!found) throw new Error(`no row for ${limiter} at ${rps} rps`);
  return found;
};

describe('sim:concurrency', () => {
  beforeAll(async () => {
    rows = await runConcurrencySim();
    process.stdout.write(`${formatTable(rows)}\n`);
  }, 240_000);

  it('is deterministic: one seed, one table', () => {
    expect(rows).toHaveLength(12);
  });

  it.each([600, 1_200])('without a limit, goodput collapses at %i rps (the queue serves expired requests)', (rps) => {
    expect(row('no limit', rps).goodputPercent).toBeLessThan(20);
  });

  it.each([
    ['aimd', 600],
    ['aimd', 1_200],
    ['gradient', 600],
    ['gradient', 1_200],
    ['vegas', 600],
    ['vegas', 1_200],
  ])('%s keeps goodput ≥ 95%% of capacity at %i rps', (limiter, rps) => {
    expect(row(limiter, rps).goodputPercent).toBeGreaterThanOrEqual(95);
  });

  it.each([
    ['gradient', 600],
    ['gradient', 1_200],
    ['vegas', 600],
    ['vegas', 1_200],
  ])('%s keeps p99 ≤ 8× the service time at %i rps', (limiter, rps) => {
    expect(row(limiter, rps).p99xService).toBeLessThanOrEqual(8);
  });

  it('AIMD, loss-based, only keeps latency under the client timeout', () => {
    for (const rps of [600, 1_200]) expect(row('aimd', rps).p99Ms).toBeLessThan(1_000);
  });

  it.each(['aimd', 'gradient', 'vegas'])('%s rejects ≤ 2%% below capacity (300 rps)', (limiter) => {
    expect(row(limiter, 300).rejectedPercent).toBeLessThanOrEqual(2);
    expect(row(limiter, 300).goodputRps).toBeGreaterThan(0.97 * 300);
  });
});
