import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/testing/fake-clock.js';
import { timerQueue } from '../src/timer-queue.js';

describe('timerQueue', () => {
  it('fires each timer after its delay, sharing one clock timer', async () => {
    const clock = new FakeClock();
    const q = timerQueue(clock, 100);
    const fired: [string, number][] = [];
    const on = (name: string) => fired.push([name, clock.now()]);
    q.add(on, 'a', clock.now());
    await clock.advance(30);
    q.add(on, 'b', clock.now());
    await clock.advance(30);
    q.add(on, 'c', clock.now());
    expect(q.size).toBe(3);
    expect(clock.pending).toBe(1);
    await clock.advance(200);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 130],
      ['c', 160],
    ]);
    expect(q.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('cancels in O(1) without touching the clock, and goes idle', async () => {
    const clock = new FakeClock();
    const q = timerQueue(clock, 50);
    const fired: string[] = [];
    const a = q.add((x: string) => fired.push(x), 'a', clock.now());
    const b = q.add((x: string) => fired.push(x), 'b', clock.now());
    const c = q.add((x: string) => fired.push(x), 'c', clock.now());
    q.cancel(b);
    q.cancel(b);
    q.cancel(a);
    expect(q.size).toBe(1);
    await clock.advance(50);
    expect(fired).toEqual(['c']);
    q.cancel(c);
    expect(clock.pending).toBe(0);
  });

  it('re-arms for a timer added after all earlier ones were cancelled', async () => {
    const clock = new FakeClock();
    const q = timerQueue(clock, 100);
    const fired: number[] = [];
    const first = q.add(() => fired.push(clock.now()), undefined, clock.now());
    q.cancel(first);
    await clock.advance(60);
    q.add(() => fired.push(clock.now()), undefined, clock.now());
    await clock.advance(100);
    expect(fired).toEqual([160]);
  });
});
