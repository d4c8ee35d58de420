import type { CancelTimer, Clock } from '../clock.js';

interface PendingTimer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** Options of {@link FakeClock}. */
export interface FakeClockOptions {
  /** Starting time, epoch ms. @default 0 */
  now?: number;
}

const before = (a: PendingTimer, b: PendingTimer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

const flushMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A {@link Clock} that only moves when told. `advance(ms)` runs every due timer and sleep in time
 * order (ties in the order they were set), letting promise callbacks settle after each, so tests
 * drive retries, breakers and timeouts deterministically without waiting.
 *
 * @example
 * const clock = new FakeClock();
 * const p = retry({ clock }).execute(flaky);
 * await clock.advance(1_000);
 * await expect(p).resolves.toBe('ok');
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  /** Binary min-heap on (at, seq); cancelled timers are dropped lazily when they reach the top. */
  #heap: PendingTimer[] = [];
  #pending = 0;

  constructor(options: FakeClockOptions = {}) {
    this.#now = options.now ?? 0;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      let cancel: CancelTimer | undefined;
      const onAbort = () => {
        cancel?.();
        reject(signal?.reason);
      };
      cancel = this.setTimer(ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  setTimer(ms: number, callback: () => void): CancelTimer {
    const timer: PendingTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback, cancelled: false };
    this.#push(timer);
    this.#pending++;
    return () => {
      if (timer.cancelled) return;
      timer.cancelled = true;
      this.#pending--;
    };
  }

  /** Timers and sleeps waiting to fire. */
  get pending(): number {
    return this.#pending;
  }

  /** When the next timer fires, or `undefined` when none is pending. */
  get nextAt(): number | undefined {
    return this.#next()?.at;
  }

  /**
   * Moves time forward by `ms`, running each timer that falls due in order and letting promise
   * callbacks run after each one (so a timer set by such a callback within the span fires too).
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new TypeError(`FakeClock: advance() takes ms ≥ 0 (got ${ms})`);
    await this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `time` (epoch ms); see {@link advance}. */
  async advanceTo(time: number): Promise<void> {
    await flushMicrotasks();
    for (;;) {
      const next = this.#next();
      if (!next || next.at > time) break;
      this.#pop();
      next.cancelled = true;
      this.#pending--;
      if (next.at > this.#now) this.#now = next.at;
      next.callback();
      await flushMicrotasks();
    }
    if (time > this.#now) this.#now = time;
    await flushMicrotasks();
  }

  /** Runs timers until none is pending (at most `maxTimers`, to stop runaway loops). */
  async runAll(maxTimers = 10_000): Promise<void> {
    await flushMicrotasks();
    for (let i = 0; i < maxTimers; i++) {
      const next = this.#next();
      if (!next) return;
      await this.advanceTo(next.at);
    }
    throw new Error(`FakeClock: runAll() stopped after ${maxTimers} timers; something keeps scheduling more`);
  }

  /** Lets pending promise callbacks run without moving time. */
  flush(): Promise<void> {
    return flushMicrotasks();
  }

  #next(): PendingTimer | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && (heap[0] as PendingTimer).cancelled) this.#pop();
    return heap[0];
  }

  #push(timer: PendingTimer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, heap[parent] as PendingTimer)) break;
      heap[i] = heap[parent] as PendingTimer;
      i = parent;
    }
    heap[i] = timer;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && before(heap[right] as PendingTimer, heap[left] as PendingTimer) ? right : left;
      if (!before(heap[child] as PendingTimer, last)) break;
      heap[i] = heap[child] as PendingTimer;
      i = child;
    }
    heap[i] = last;
  }
}
