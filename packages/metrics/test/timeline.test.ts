import { describe, expect, it } from 'vitest';
import { LATENCY_OFFSET, Timeline } from '../src/timeline.js';

describe('timeline', () => {
  it('counts per slot and sums a range of slots', () => {
    const t = new Timeline(10, 1_000, 3);
    t.add(0, 0, -1);
    t.add(999, 0, 1);
    t.add(1_000, 1, 2);
    t.add(5_500, 3, -1);
    const sum = t.sum(0, 9, new Float64Array(t.width));
    expect([...sum.slice(0, LATENCY_OFFSET)]).toEqual([2, 1, 0, 1, 0]);
    expect([...sum.slice(LATENCY_OFFSET)]).toEqual([0, 1, 1]);
    expect(t.sum(1, 1, new Float64Array(t.width))[1]).toBe(1);
  });

  it('reuses a slot once the ring wraps, and drops what it no longer holds', () => {
    const t = new Timeline(4, 1_000, 1);
    t.add(0, 0, -1);
    t.add(4_000, 0, -1); // the same ring entry as slot 0: slot 0 is gone
    expect(t.sum(0, 0, new Float64Array(t.width))[0]).toBe(0);
    expect(t.sum(4, 4, new Float64Array(t.width))[0]).toBe(1);
    t.add(100, 0, -1); // older than what the entry holds now: dropped
    expect(t.sum(0, 4, new Float64Array(t.width))[0]).toBe(1);
    // A range longer than the ring reads only the slots the ring can hold, each once.
    t.add(5_000, 0, -1);
    expect(t.sum(-100, 5, new Float64Array(t.width))[0]).toBe(2);
    expect(t.sum(-100, 100, new Float64Array(t.width))[0]).toBe(0);
    t.reset();
    expect(t.sum(0, 10, new Float64Array(t.width))[0]).toBe(0);
  });
});
