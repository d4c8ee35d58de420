import {
  type Context,
  type ExecuteOptions,
  type Policy,
  type PolicyContext,
  type QueuedTimer,
  type TimerQueue,
  abortReason,
  callerSignal,
  createContext,
  invoke,
  isAborted,
  isRejection,
  timerQueue,
  toContext,
  offAbort,
  onAbort,
} from '@palisade/core';
import { HedgeBudget } from './budget.js';
import { type LatencyHistogram, LatencyTrackers } from './latency.js';
import { type HedgeOptions, type NormalizedHedgeOptions, normalizeHedgeOptions } from './options.js';

/** The policy returned by {@link hedge}. */
export interface HedgePolicy extends Policy {
  /** Extra attempts a call may start. */
  readonly maxHedges: number;
  /** The budget, in percent of hedgeable calls. */
  readonly budgetPercent: number;
  /**
   * The delay the next call with `key` would wait before hedging, in ms: the fixed delay, or the
   * current percentile of that key's recent latencies (clamped; `maxMs` while history is short).
   */
  currentDelayMs(key?: string): number;
}

/** What a policy shares with its calls. */
interface Shared {
  readonly policy: NormalizedHedgeOptions;
  readonly budget: HedgeBudget;
  /** Per-key latency histories (adaptive delay only). */
  readonly trackers: LatencyTrackers | undefined;
}

/**
 * The abort reason of a losing attempt: a standard `AbortError` (what `fetch` and most libraries
 * treat as "cancelled, not failed") naming the winner.
 */
const lostReason = (winner: number): DOMException =>
  new DOMException(`Hedged call won by attempt ${winner}`, 'AbortError');

/**
 * State of one hedged call. It is the argument of the shared timer queue and the listener object
 * on the caller's signal, so a call whose first attempt answers before the delay allocates this,
 * one Context, one queue entry and the promise plumbing — no runtime timer, no AbortController
 * unless `fn` reads `ctx.signal`.
 */
class HedgeCall<T> {
  readonly shared: Shared;
  readonly fn: (ctx: Context) => Promise<T> | T;
  readonly parent: ExecuteOptions | undefined;
  readonly start: number;
  /** The timers of this call's delay. */
  readonly queue: TimerQueue;
  readonly histogram: LatencyHistogram | undefined;
  readonly caller: AbortSignal | undefined;
  /** Attempt 1's Context; the hedges' Contexts are in `hedges` (allocated on the first hedge). */
  readonly primary: PolicyContext;
  hedges: PolicyContext[] | undefined = undefined;
  /** Attempts started so far. */
  started = 1;
  /** Bit `n - 1` is set while attempt `n` runs. */
  running = 1;
  /** No more hedges: the budget said no, an outer policy aborted, or a rejection came back. */
  closed = false;
  primaryFailed = false;
  settled = false;
  queued: QueuedTimer | undefined = undefined;
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;

  constructor(
    shared: Shared,
    fn: (ctx: Context) => Promise<T> | T,
    parent: ExecuteOptions | undefined,
    start: number,
    queue: TimerQueue,
    histogram: LatencyHistogram | undefined,
  ) {
    this.shared = shared;
    this.fn = fn;
    this.parent = parent;
    this.start = start;
    this.queue = queue;
    this.histogram = histogram;
    this.caller = callerSignal(parent);
    this.primary = createContext(parent, 1);
  }

  run(resolve: (value: T) => void, reject: (reason: unknown) => void): void {
    this.resolve = resolve;
    this.reject = reject;
    if (this.caller) onAbort(this.caller, this);
    this.#arm(this.start);
    invoke(this.fn, this.primary).then(
      (value) => this.won(1, value),
      (error: unknown) => this.failed(1, error),
    );
  }

  context(attempt: number): PolicyContext {
    return attempt === 1 ? this.primary : ((this.hedges as PolicyContext[])[attempt - 2] as PolicyContext);
  }

  /** Arms the delay before the next hedge, counted from `now`. */
  #arm(now: number): void {
    if (this.started > this.shared.policy.maxHedges) return;
    this.queued = this.queue.add(onDelay, this as HedgeCall<unknown>, now);
  }

  disarm(): void {
    if (this.queued) {
      this.queue.cancel(this.queued);
      this.queued = undefined;
    }
  }

  /** Starts the next hedge now if it may (budget, deadline, outer abort), then re-arms the delay. */
  hedge(now: number): void {
    const { policy, budget } = this.shared;
    const parent = this.parent;
    if (this.closed || this.started > policy.maxHedges) return;
    if (isAborted(parent) || (parent?.deadline !== undefined && now >= parent.deadline)) {
      this.closed = true;
      return;
    }
    if ((this.histogram?.queueing === true && policy.budgetPercent < 100) || !budget.tryHedge(now)) {
      this.closed = true;
      if (policy.emit) policy.emit({ type: 'hedge.budget-exhausted', key: parent?.key });
      return;
    }
    const attempt = ++this.started;
    const ctx = createContext(parent, attempt);
    if (this.hedges) this.hedges.push(ctx);
    else this.hedges = [ctx];
    this.running |= 1 << (attempt - 1);
    if (policy.emit)
      policy.emit({ type: 'hedge.sent', key: parent?.key, attempt, afterMs: now - this.start, time: now });
    this.#arm(now);
    invoke(this.fn, ctx).then(
      (value) => this.won(attempt, value),
      (error: unknown) => this.failed(attempt, error),
    );
  }

  won(attempt: number, value: T): void {
    this.running &= ~(1 << (attempt - 1));
    if (this.settled) return; // a loser that finished anyway: its value is ignored
    const { policy } = this.shared;
    const now = this.histogram || policy.emit ? policy.clock.now() : 0;
    if (this.histogram && !this.primaryFailed) {
      // The call's latency, which is attempt 1's latency when it won and a lower bound of it when
      // a hedge won: the percentile below the delay stays exact.
      this.histogram.record(now - this.start);
    }
    if (this.started > 1 && policy.emit) policy.emit({ type: 'hedge.won', key: this.parent?.key, attempt });
    this.finish(attempt, undefined);
    this.resolve(value);
  }

  failed(attempt: number, error: unknown): void {
    this.running &= ~(1 << (attempt - 1));
    if (this.settled) return;
    if (attempt === 1) this.primaryFailed = true;
    // A refusal by an inner policy (open circuit, rate limit) means "don't come back yet".
    if (isRejection(error)) this.closed = true;
    else if (!this.closed && this.started <= this.shared.policy.maxHedges) {
      // A failure starts the next hedge at once rather than after the delay.
      this.disarm();
      this.hedge(this.shared.policy.clock.now());
    }
    if (this.running === 0) {
      this.finish(0, undefined);
      this.reject(error);
    }
  }

  /** The caller's signal aborted: abort every attempt and reject at once with its reason. */
  handleEvent(): void {
    if (this.settled) return;
    const reason = this.caller?.reason;
    this.finish(0, reason);
    this.reject(reason);
  }

  /**
   * Settles: clears the timer and the caller listener, aborts every attempt still running (with
   * `reason`, or an `AbortError` naming `winner` when there is one) and disposes every Context.
   */
  finish(winner: number, reason: unknown): void {
    this.settled = true;
    this.disarm();
    if (this.caller) offAbort(this.caller, this);
    if (winner > 0 && this.running !== 0) reason = lostReason(winner);
    for (let attempt = 1; attempt <= this.started; attempt++) {
      const ctx = this.context(attempt);
      if ((this.running & (1 << (attempt - 1))) !== 0) ctx.abort(reason);
      ctx.dispose();
    }
  }
}

/** The delay elapsed with no attempt settled: hedge. */
function onDelay(call: HedgeCall<unknown>): void {
  call.queued = undefined;
  if (call.settled) return;
  call.hedge(call.shared.policy.clock.now());
}

/**
 * Hedged requests: runs `fn`, and if it has not settled after the delay, runs it again with a
 * fresh Context (`attempt` 2, its own signal), up to `maxHedges` extra attempts. The first success
 * wins and every other attempt's `ctx.signal` is aborted at once (with an `AbortError`); a failure
 * starts the next hedge at once while one is left, and when every attempt has failed the last
 * error is thrown. The delay is fixed or follows a percentile of recent latencies (per key), and
 * hedges are capped by `budgetPercent` of calls so that an overload never doubles the load.
 *
 * @example
 * const hedged = hedge({ delayMs: { percentile: 95 } });
 * const res = await hedged.execute(({ signal }) => fetch(url, { signal }), { key: 'api.example.com' });
 */
export function hedge(options?: HedgeOptions): HedgePolicy {
  const policy = normalizeHedgeOptions(options);
  const { clock, delayMs, shouldHedge } = policy;
  const adaptive = typeof delayMs === 'number' ? undefined : delayMs;
  const shared: Shared = {
    policy,
    budget: new HedgeBudget(policy.budgetPercent),
    trackers: adaptive ? new LatencyTrackers(adaptive, policy.maxKeys) : undefined,
  };
  const { budget, trackers } = shared;
  // Calls wait in a timer queue per delay: O(1) and no runtime timer per call. An adaptive delay
  // takes one of a few hundred values (histogram bucket edges, minMs, maxMs), so the map is bounded
  // and each queue arms at most one runtime timer.
  const fixedQueue = typeof delayMs === 'number' ? timerQueue(clock, delayMs) : undefined;
  const queues = new Map<number, TimerQueue>();
  const queueFor = (ms: number): TimerQueue => {
    let queue = queues.get(ms);
    if (queue === undefined) {
      queue = timerQueue(clock, ms);
      queues.set(ms, queue);
    }
    return queue;
  };

  return {
    name: policy.name,
    maxHedges: policy.maxHedges,
    budgetPercent: policy.budgetPercent,
    currentDelayMs(key?: string): number {
      if (typeof delayMs === 'number') return delayMs;
      return trackers?.peek(key)?.delayMs(clock.now()) ?? delayMs.maxMs;
    },
    execute<T>(fn: (ctx: Context) => Promise<T> | T, executeOptions?: ExecuteOptions): Promise<T> {
      if (isAborted(executeOptions)) return Promise.reject(abortReason(executeOptions));
      if (shouldHedge) {
        const context = toContext(executeOptions);
        try {
          if (!shouldHedge({ context })) return invoke(fn, context);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      const now = clock.now();
      budget.recordCall(now);
      let queue: TimerQueue;
      let histogram: LatencyHistogram | undefined;
      if (trackers) {
        histogram = trackers.get(executeOptions?.key);
        queue = queueFor(histogram.delayMs(now));
      } else queue = fixedQueue as TimerQueue;
      const call = new HedgeCall<T>(shared, fn, executeOptions, now, queue, histogram);
      return new Promise<T>((resolve, reject) => call.run(resolve, reject));
    },
  };
}
