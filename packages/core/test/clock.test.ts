// systemClock and runtimeTimer on the runtime's real timers: delays past what one timer holds.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS, runtimeTimer, systemClock } from '../src/clock.js';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Warnings the process emits during a test (Node's TimeoutOverflowWarning among them). */
let warnings: string[] = [];
const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

describe('delays longer than one runtime timer holds', () => {
  it('runtimeTimer chains timers of at most maxDelay and fires once, at the total', async () => {
    const started = performance.now();
    let firedAt = 0;
    let fired = 0;
    runtimeTimer(
      60,
      () => {
        fired++;
        firedAt = performance.now() - started;
      },
      25,
    ).keepAlive?.(true);
    await wait(120);
    expect(fired).toBe(1);
    expect(firedAt).toBeGreaterThanOrEqual(59);
  });

  it('cancelling a chain between two of its timers stops it', async () => {
    let fired = 0;
    const cancel = runtimeTimer(60, () => fired++, 25);
    await wait(35); // past the first link
    cancel();
    await wait(60);
    expect(fired).toBe(0);
  });

  it('systemClock.setTimer past 2^31-1 ms does not fire after 1 ms, and Node has nothing to warn of', async () => {
    let fired = 0;
    const cancel = systemClock.setTimer?.(MAX_TIMER_DELAY_MS + 1_000, () => fired++) as () => void;
    const forever = systemClock.setTimer?.(Number.POSITIVE_INFINITY, () => fired++) as () => void;
    await wait(30);
    cancel();
    forever();
    expect(fired).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('systemClock.sleep of 35 days waits, and an abort still ends it at once', async () => {
    const controller = new AbortController();
    let resolved = false;
    const sleeping = systemClock.sleep(3e9, controller.signal).then(() => {
      resolved = true;
    });
    await wait(30);
    expect(resolved).toBe(false);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(warnings).toEqual([]);
  });
});
