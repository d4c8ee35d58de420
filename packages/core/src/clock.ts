/** Cancels a timer started with {@link Clock.setTimer}. Calling it twice is harmless. */
export type CancelTimer = () => void;

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
    const timer = realSetTimeout(callback, ms) as unknown as { unref?: () => void };
    timer.unref?.();
    return () => realClearTimeout(timer as unknown as ReturnType<typeof realSetTimeout>);
  },
});

/**
 * Starts a timer on any clock: `clock.setTimer` when it has one, otherwise an abortable `sleep`.
 */
export function startTimer(clock: Clock, ms: number, callback: () => void): CancelTimer {
  if (clock.setTimer) return clock.setTimer(ms, callback);
  const controller = new AbortController();
  clock.sleep(ms, controller.signal).then(callback, () => {});
  return () => controller.abort();
}
