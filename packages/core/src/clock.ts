/**
 * Cancels a timer started with {@link Clock.setTimer}. Calling it twice is harmless. A runtime
 * timer also carries `keepAlive(true | false)` to let it hold the process open while the work it
 * guards is still running (and release it as soon as that work ends).
 */
export type CancelTimer = (() => void) & { keepAlive?: (alive: boolean) => void };

/**
 * The one source of time. Every wait and timestamp in palisade goes through a `Clock`, so that
 * `FakeClock` (from `@palisade/core/testing`) drives every policy deterministically in tests.
 */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /**
   * Resolves after `ms`; rejects at once with `signal.reason` if `signal` aborts first (and clears
   * its timer). The timer keeps the process alive: the sleep is part of a call still in progress.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `callback` after `ms` unless cancelled. The timer never keeps the process alive (it is
   * unref'd), so it suits timers that may outlive the work they guard. Optional: a clock without
   * it gets one built from `sleep` by {@link startTimer}.
   */
  setTimer?(ms: number, callback: () => void): CancelTimer;
}

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
type RuntimeTimer = ReturnType<typeof realSetTimeout> & { ref?: () => void; unref?: () => void };

/**
 * The longest delay a runtime timer holds: Node and browsers keep it in a signed 32-bit integer
 * and fire a longer one after 1 ms (Node also warns each time), so a 30-day timeout would fire at
 * once, and a timer queue re-arming for it would wake every millisecond.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * A runtime timer for any delay: one over `maxDelay` runs as a chain of timers of at most
 * `maxDelay` each, and `Infinity` never fires (it holds no timer). Starts unref'd.
 * @internal exported for tests, which shorten `maxDelay`
 */
export function runtimeTimer(ms: number, callback: () => void, maxDelay = MAX_TIMER_DELAY_MS): CancelTimer {
  if (!(ms > maxDelay)) {
    const timer = realSetTimeout(callback, ms) as RuntimeTimer;
    timer.unref?.();
    const cancel: CancelTimer = () => realClearTimeout(timer);
    cancel.keepAlive = (alive) => (alive ? timer.ref?.() : timer.unref?.());
    return cancel;
  }
  let remaining = ms;
  let alive = false;
  let timer: RuntimeTimer | undefined;
  const arm = (): void => {
    const step = Math.min(remaining, maxDelay);
    remaining -= step;
    timer = realSetTimeout(remaining > 0 ? arm : callback, step) as RuntimeTimer;
    if (!alive) timer.unref?.();
  };
  if (remaining < Number.POSITIVE_INFINITY) arm();
  const cancel: CancelTimer = () => {
    remaining = 0;
    if (timer !== undefined) realClearTimeout(timer);
    timer = undefined;
  };
  cancel.keepAlive = (keep) => {
    alive = keep;
    if (keep) timer?.ref?.();
    else timer?.unref?.();
  };
  return cancel;
}

/**
 * The timer of one `systemClock.sleep`, which holds the process as `setTimeout` does: a plain
 * runtime timer, or past {@link MAX_TIMER_DELAY_MS} a chain of them (forever: no timer, so nothing
 * holds the process). Returns how to cancel it.
 */
function sleepTimer(ms: number, fire: () => void): () => void {
  if (ms > MAX_TIMER_DELAY_MS) {
    const cancel = runtimeTimer(ms, fire);
    cancel.keepAlive?.(true);
    return cancel;
  }
  const timer = realSetTimeout(fire, ms);
  return () => realClearTimeout(timer);
}

/**
 * The real clock: `Date.now()` and the runtime's timers. The default of every policy. A delay past
 * 2^31−1 ms (~24.8 days), which one runtime timer would fire after 1 ms, runs as a chain of timers;
 * `Infinity` never fires.
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      if (!signal) {
        sleepTimer(ms, resolve);
        return;
      }
      const onAbort = () => {
        cancel();
        reject(signal.reason);
      };
      const cancel = sleepTimer(ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  },
  setTimer: (ms: number, callback: () => void): CancelTimer => runtimeTimer(ms, callback),
});

/**
 * Starts a timer on any clock: `clock.setTimer` when it has one, otherwise an abortable `sleep`.
 * With `keepAlive`, the timer holds the process open until it fires or is cancelled: use it for a
 * timer that guards a call in progress and is cancelled when the call ends.
 */
export function startTimer(clock: Clock, ms: number, callback: () => void, keepAlive = false): CancelTimer {
  if (clock.setTimer) {
    const cancel = clock.setTimer(ms, callback);
    if (keepAlive) cancel.keepAlive?.(true);
    return cancel;
  }
  const controller = new AbortController();
  clock.sleep(ms, controller.signal).then(callback, () => {});
  return () => controller.abort();
}
