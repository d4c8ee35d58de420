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

/** The real clock: `Date.now()` and the runtime's timers. The default of every policy. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      if (!signal) {
        realSetTimeout(resolve, ms);
        return;
      }
      const onAbort = () => {
        realClearTimeout(timer);
        reject(signal.reason);
      };
      const timer = realSetTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  },
  setTimer(ms: number, callback: () => void): CancelTimer {
    const timer = realSetTimeout(callback, ms) as unknown as { ref?: () => void; unref?: () => void };
    timer.unref?.();
    const cancel: CancelTimer = () => realClearTimeout(timer as unknown as ReturnType<typeof realSetTimeout>);
    cancel.keepAlive = (alive) => (alive ? timer.ref?.() : timer.unref?.());
    return cancel;
  },
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
