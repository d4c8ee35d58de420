import {
  BulkheadRejectedError,
  type Clock,
  type Context,
  type Emit,
  type ExecuteOptions,
  type PolicyContext,
  type QueuedTimer,
  type TimerQueue,
  abortReason,
  callerSignal,
  createContext,
  isAborted,
  isPolicyContext,
  timerQueue,
  toContext,
  offAbort,
  onAbort,
} from '@palisade/core';
import { QueueNode, WaiterQueue } from './queue.js';

/**
 * Runs `fn` in a slot the gate has already counted, and calls `gate.release()` exactly once when
 * `fn` ends, however it ends (a synchronous throw included).
 */
export type SlotRunner = <T>(fn: (ctx: Context) => Promise<T> | T, ctx: Context) => Promise<T>;

/** What a gate needs from its policy's resolved options. */
export interface GateConfig {
  readonly clock: Clock;
  readonly emit: Emit | undefined;
  readonly maxQueue: number;
  /** `Infinity` when waiters never time out. */
  readonly queueTimeoutMs: number;
}

type Fn = (ctx: Context) => unknown;

/**
 * The state of a call that cannot take the plain fast path: one that waits in the queue, or one
 * whose caller passed a signal (so that an abort rejects it at once). It is the queue node, the
 * argument of the queue's shared timer and the listener object on the signal: no closure per call.
 */
class Call extends QueueNode {
  readonly gate: Gate;
  readonly fn: Fn;
  readonly options: ExecuteOptions | undefined;
  resolve: (value: unknown) => void = noop;
  reject: (reason: unknown) => void = noop;
  /** The queue-timeout timer, while queued. */
  timer: QueuedTimer | undefined = undefined;
  /** The signal listened to, until the call settles. */
  signal: AbortSignal | undefined = undefined;
  /** A Context this call created (and must dispose), when the caller passed plain options. */
  ownContext: PolicyContext | undefined = undefined;
  settled = false;

  constructor(gate: Gate, fn: Fn, options: ExecuteOptions | undefined) {
    super();
    this.gate = gate;
    this.fn = fn;
    this.options = options;
  }

  /** The signal aborted: leave the queue, or stop waiting for a running `fn` (its slot stays taken until it ends). */
  handleEvent(): void {
    this.gate.abandon(this, this.signal?.reason);
  }

  /** Removes the listener and disposes the own Context; the call's promise settles separately. */
  detach(): void {
    const signal = this.signal;
    if (signal) {
      this.signal = undefined;
      offAbort(signal, this);
    }
    this.ownContext?.dispose();
    this.ownContext = undefined;
  }

  settle(ok: boolean, value: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (ok) this.resolve(value);
    else this.reject(value);
  }
}

const noop = (): void => {};

const onQueueTimeout = (call: Call): void => call.gate.expire(call);

/**
 * The slot pool and FIFO waiting line shared by `bulkhead()` and `concurrencyLimit()`: at most
 * `limit` calls run, at most `maxQueue` wait, a waiter leaves the line in O(1) when its queue
 * timeout passes or its caller aborts, and a freed slot passes straight to the first waiter.
 */
export class Gate {
  /** Calls running now. */
  executing = 0;
  /** How many calls may run at once. Change it with {@link setLimit}. */
  limit: number;
  /** Runs a call in a slot already counted (the owning policy's runner). */
  readonly run: SlotRunner;
  readonly #config: GateConfig;
  readonly #kind: string;
  readonly #queue = new WaiterQueue<Call>();
  readonly #timers: TimerQueue | undefined;
  #draining = false;

  /** Frees one slot (passing it to the first waiter, if any). Bound: pass it around freely. */
  readonly release = (): void => {
    this.executing--;
    if (this.#queue.size > 0) this.#drain();
  };

  /**
   * @param kind the policy kind named by its errors
   * @param limit the limit to start with
   * @param runner builds the policy's {@link SlotRunner} around the gate's `release`
   */
  constructor(config: GateConfig, kind: string, limit: number, runner: (release: () => void) => SlotRunner) {
    this.#config = config;
    this.#kind = kind;
    this.limit = limit;
    this.run = runner(this.release);
    if (config.maxQueue > 0 && Number.isFinite(config.queueTimeoutMs)) {
      this.#timers = timerQueue(config.clock, config.queueTimeoutMs);
    }
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Free slots. */
  get available(): number {
    return this.limit > this.executing ? this.limit - this.executing : 0;
  }

  /** Moves the limit; a higher one lets waiters in at once. Calls already running are never stopped. */
  setLimit(limit: number): void {
    const grew = limit > this.limit;
    this.limit = limit;
    if (grew && this.#queue.size > 0) this.#drain();
  }

  execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
    if (isAborted(options)) return Promise.reject(abortReason(options));
    if (this.executing < this.limit && this.#queue.size === 0) {
      this.executing++;
      const caller = callerSignal(options);
      if (caller === undefined) return this.run(fn, toContext(options));
      return this.#watched(fn, options, caller);
    }
    if (this.#queue.size >= this.#config.maxQueue) return this.#refuse('full', options?.key);
    return this.#enqueue(fn, options);
  }

  /** Slot taken, caller signal present: an abort rejects at once, the slot frees when `fn` ends. */
  #watched<T>(fn: (ctx: Context) => Promise<T> | T, options: ExecuteOptions | undefined, signal: AbortSignal) {
    const call = new Call(this, fn, options);
    const promise = new Promise<T>((resolve, reject) => {
      call.resolve = resolve as (value: unknown) => void;
      call.reject = reject;
    });
    call.signal = signal;
    onAbort(signal, call);
    this.#start(call);
    return promise;
  }

  #enqueue<T>(fn: (ctx: Context) => Promise<T> | T, options: ExecuteOptions | undefined): Promise<T> {
    const call = new Call(this, fn, options);
    const promise = new Promise<T>((resolve, reject) => {
      call.resolve = resolve as (value: unknown) => void;
      call.reject = reject;
    });
    this.#queue.push(call);
    if (this.#timers) call.timer = this.#timers.add(onQueueTimeout, call, this.#config.clock.now());
    // Only a queued call pays for its parent's (lazily created) signal: it covers the caller and
    // every outer policy (a timeout, a hedge) that may abort while the call waits.
    const signal = options?.signal;
    if (signal) {
      call.signal = signal;
      onAbort(signal, call);
    }
    const { emit } = this.#config;
    if (emit) emit({ type: 'bulkhead.queued', key: options?.key, queued: this.#queue.size });
    return promise;
  }

  /** Runs a call whose slot is already counted in `executing`. */
  #start(call: Call): void {
    const { options } = call;
    let ctx: Context;
    if (call.signal !== undefined && !isPolicyContext(options)) ctx = call.ownContext = createContext(options);
    else ctx = toContext(options);
    this.run(call.fn, ctx).then(
      (value) => {
        call.detach();
        call.settle(true, value);
      },
      (error: unknown) => {
        call.detach();
        call.settle(false, error);
      },
    );
  }

  /** Starts waiters while slots are free. Re-entrant calls (a waiter's `fn` throwing at once) fold into the loop. */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.executing < this.limit) {
        const call = this.#queue.shift();
        if (call === undefined) break;
        if (call.timer) {
          this.#timers?.cancel(call.timer);
          call.timer = undefined;
        }
        this.executing++;
        this.#dequeued(call, 'admitted');
        this.#start(call);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** `call` has just left the queue (one `bulkhead.dequeued` for each `bulkhead.queued`). */
  #dequeued(call: Call, reason: 'admitted' | 'aborted' | 'queue-timeout'): void {
    const { emit } = this.#config;
    if (emit) emit({ type: 'bulkhead.dequeued', key: call.options?.key, queued: this.#queue.size, reason });
  }

  /** The call's signal aborted: out of the queue if it waits there, and reject with the reason. */
  abandon(call: Call, reason: unknown): void {
    if (call.settled) return;
    if (this.#queue.remove(call)) {
      if (call.timer) {
        this.#timers?.cancel(call.timer);
        call.timer = undefined;
      }
      this.#dequeued(call, 'aborted');
    }
    // A running call keeps its own Context until fn ends: fn may be about to see its signal abort.
    const signal = call.signal;
    call.signal = undefined;
    if (signal) offAbort(signal, call);
    call.settle(false, reason);
  }

  /** The call's queue timeout passed. */
  expire(call: Call): void {
    call.timer = undefined;
    if (!this.#queue.remove(call)) return;
    call.detach();
    this.#dequeued(call, 'queue-timeout');
    const { emit } = this.#config;
    if (emit) emit({ type: 'bulkhead.rejected', key: call.options?.key, reason: 'queue-timeout' });
    call.settle(false, new BulkheadRejectedError('queue-timeout', { policy: this.#kind }));
  }

  #refuse(reason: 'full', key: string | undefined): Promise<never> {
    const { emit } = this.#config;
    if (emit) emit({ type: 'bulkhead.rejected', key, reason });
    return Promise.reject(new BulkheadRejectedError(reason, { policy: this.#kind }));
  }
}
