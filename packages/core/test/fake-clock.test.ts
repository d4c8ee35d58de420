import { describe, expect, it } from 'vitest';
import { startTimer } from '../src/clock.js';
import { FakeClock } from '../src/testing/fake-clock.js';

describe('FakeClock', () => {
  it('runs due sleeps and timers in time order, ties in order set', async () => {
    const clock = new FakeClock({ now: 1_000 });
    const log: string[] = [];
    void clock.sleep(30).then(() => log.push(`a@${clock.now()}`));
    void clock.sleep(10).then(() => log.push(`b@${clock.now()}`));
    clock.setTimer(10, () => log.push(`c@${clock.now()}`));
    void clock.sleep(50).then(() => log.push(`d@${clock.now()}`));
    expect(clock.pending).toBe(4);
    await clock.advance(30);
    expect(log).toEqual(['b@1010', 'c@1010', 'a@1030']);
    expect(clock.now()).toBe(1_030);
    await clock.advance(100);
    expect(log).toEqual(['b@1010', 'c@1010', 'a@1030', 'd@1050']);
    expect(clock.now()).toBe(1_130);
    expect(clock.pending).toBe(0);
  });

  it('runs timers set by callbacks within the same advance', async () => {
    const clock = new FakeClock();
    const log: number[] = [];
    const loop = async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        log.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(35);
    await done;
    expect(log).toEqual([10, 20, 30]);
  });

  it('rejects a sleep at once when its signal aborts, and drops its timer', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
    await expect(clock.sleep(5, controller.signal)).rejects.toThrow('stop');
  });

  it('cancels timers', async () => {
    const clock = new FakeClock();
    let fired = false;
    const cancel = startTimer(clock, 10, () => {
      fired = true;
    });
    cancel();
    cancel();
    await clock.advance(20);
    expect(fired).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('runAll drains every timer and stops runaway loops', async () => {
    const clock = new FakeClock();
    let n = 0;
    clock.setTimer(5, () => n++);
    clock.setTimer(500, () => n++);
    await clock.runAll();
    expect(n).toBe(2);
    expect(clock.now()).toBe(500);
    const again = () => clock.setTimer(1, again);
    again();
    await expect(clock.runAll(50)).rejects.toThrow(/runAll\(\) stopped after 50 timers/);
  });
});
