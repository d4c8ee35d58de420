import { type CancelTimer, type Clock, startTimer } from './clock.js';

/** A pending timer in a {@link TimerQueue}; pass it back to `cancel`. */
export interface QueuedTimer {
  /** When it fires (clock time). */
  readonly at: number;
}

interface Node<A> extends QueuedTimer {
  at: number;
  prev: Node<A> | undefined;
  next: Node<A> | undefined;
  fn: ((arg: A) => void) | undefined;
  arg: A;
}

/**
 * Many timers of one fixed delay, run by a single clock timer (the way Node groups its own timer
 * lists). Adding and cancelling are O(1) and create no runtime timer: at most one is armed per
 * queue, for the oldest entry; it holds the process open only while some timer is pending, so
 * it never keeps a process alive after the work it guards is done. Used by policies whose every call has the same
 * delay (a timeout's `ms`, a bulkhead's `queueTimeoutMs`), which makes their hot path ~10x cheaper
 * than a `setTimeout`/`clearTimeout` pair per call.
 */
export interface TimerQueue {
  /** The delay of every timer in this queue, in ms. */
  readonly delayMs: number;
  /** Schedules `fn(arg)` after `delayMs`, counted from `now` (the caller's fresh `clock.now()`). */
  add<A>(fn: (arg: A) => void, arg: A, now: number): QueuedTimer;
  /** Cancels a timer that has not fired. Harmless after it fired or was cancelled. */
  cancel(timer: QueuedTimer): void;
  /** Timers waiting to fire. */
  readonly size: number;
}

class FixedDelayQueue implements TimerQueue {
  readonly delayMs: number;
  readonly #clock: Clock;
  #head: Node<unknown> | undefined;
  #tail: Node<unknown> | undefined;
  #size = 0;
  #disarm: CancelTimer | undefined;
  readonly #fire = () => this.#onFire();

  constructor(clock: Clock, delayMs: number) {
    this.#clock = clock;
    this.delayMs = delayMs;
  }

  get size(): number {
    return this.#size;
  }

  add<A>(fn: (arg: A) => void, arg: A, now: number): QueuedTimer {
    const node: Node<A> = { at: now + this.delayMs, prev: this.#tail as Node<A> | undefined, next: undefined, fn, arg };
    if (this.#tail) this.#tail.next = node as Node<unknown>;
    else this.#head = node as Node<unknown>;
    this.#tail = node as Node<unknown>;
    if (this.#disarm === undefined) this.#arm(node.at, now);
    if (this.#size++ === 0) this.#disarm?.keepAlive?.(true);
    return node;
  }

  cancel(timer: QueuedTimer): void {
    const node = timer as Node<unknown>;
    if (node.fn === undefined) return;
    node.fn = undefined;
    node.arg = undefined;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = node.next = undefined;
    if (--this.#size === 0) this.#disarm?.keepAlive?.(false);
    // The armed timer stays: when it fires it re-arms for the new head, or goes idle. Cancelling
    // is the hot path and must not touch runtime timers.
  }

  #arm(at: number, now: number): CancelTimer {
    const disarm = startTimer(this.#clock, Math.max(0, at - now), this.#fire);
    this.#disarm = disarm;
    return disarm;
  }

  #onFire(): void {
    this.#disarm = undefined;
    const now = this.#clock.now();
    let node = this.#head;
    while (node && node.at <= now) {
      const { fn, arg } = node;
      this.cancel(node);
      try {
        fn?.(arg);
      } catch {
        // A timer callback is palisade's own code; one failing must not stop the others.
      }
      node = this.#head;
    }
    if (node) this.#arm(node.at, now).keepAlive?.(true);
  }
}

/** Creates a {@link TimerQueue} for timers of one fixed delay on `clock`. */
export function timerQueue(clock: Clock, delayMs: number): TimerQueue {
  return new FixedDelayQueue(clock, delayMs);
}
