import {
  type Context,
  type ExecuteOptions,
  FUSE,
  type FusablePolicy,
  type FusedOutcome,
  type FusedStage,
  type Policy,
  Refusal,
  abortReason,
  callerSignal,
  invoke,
  isAborted,
  isRejection,
  toContext,
  offAbort,
  onAbort,
  reportCallbackError,
} from '@palisade/core';
import { type CircuitBreakerOptions, type CircuitOutcome, breakerConfig, isErrorOutcome } from './options.js';
import {
  type CircuitBreakerStats,
  CircuitMachine,
  type CircuitState,
  type CircuitStateName,
  type IsolationHandle,
} from './state.js';

/** The policy returned by {@link circuitBreaker}. */
export interface CircuitBreakerPolicy extends Policy {
  /** The current state. Reading it after `openMs` has elapsed turns an open breaker half-open. */
  readonly state: CircuitStateName;
  /**
   * Holds the circuit open by hand (maintenance, a known outage): every call is rejected with a
   * `BrokenCircuitError` (state `'isolated'`) until every handle returned is disposed, when the
   * breaker closes with an empty window.
   */
  isolate(): IsolationHandle;
  /** Closes the breaker now, forgets every outcome and openings, and ends any isolation. */
  reset(): void;
  /** Counts and rates of the current state. */
  stats(): CircuitBreakerStats;
}

const classify = (isFailure: (outcome: CircuitOutcome) => boolean, ok: boolean, result: unknown): boolean => {
  const outcome: CircuitOutcome = ok ? { ok: true, value: result } : { ok: false, error: result };
  try {
    return isFailure(outcome) === true;
  } catch (error) {
    reportCallbackError('isFailure', isFailure, error);
    return isErrorOutcome(outcome);
  }
};

interface PlainHandlers {
  readonly s: CircuitState;
  readonly ok: (value: unknown) => unknown;
  readonly fail: (error: unknown) => never;
}

/** What a plain call (no options) is settled with: no key, never aborted. Never handed to `fn`. */
const PLAIN: Context = toContext(undefined);

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null | undefined)?.then === 'function';

/** The breaker's part of a fused pipeline's call: as {@link Breaker.execute}. */
class BreakerStage implements FusedStage {
  /** The caller aborted first: the outcome, when it comes, counts for nothing. */
  abandoned = false;

  constructor(
    readonly breaker: Breaker,
    readonly s: CircuitState,
    readonly ctx: Context,
    readonly start: number,
  ) {}

  settle(outcome: FusedOutcome): undefined {
    if (!this.abandoned) this.breaker.outcome(this.s, this.ctx, this.start, outcome.ok, outcome.result);
    return undefined;
  }

  /** As `#race` on the caller's abort: free the probe slot, and ignore the late outcome. */
  abandon(): void {
    this.abandoned = true;
    this.breaker.release(this.s);
  }
}

/**
 * One breaker: the state machine plus `execute`. A class (never exported: users get it from the
 * factory) so that its methods live on the prototype and a breaker is a few fields.
 */
class Breaker extends CircuitMachine implements CircuitBreakerPolicy, FusablePolicy {
  [FUSE](options: ExecuteOptions | undefined): BreakerStage | Refusal {
    if (isAborted(options)) return new Refusal(abortReason(options));
    if (this.s.kind !== 'closed') {
      const rejection = this.admit(options?.key);
      if (rejection !== undefined) return new Refusal(rejection);
    }
    const c = this.c;
    return new BreakerStage(this, this.s, toContext(options), c.timed ? c.clock.now() : 0);
  }

  execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
    if (isAborted(options)) return Promise.reject(abortReason(options));
    if (this.s.kind !== 'closed') {
      const rejection = this.admit(options?.key);
      if (rejection !== undefined) return Promise.reject(rejection);
    }
    const c = this.c;
    if (options === undefined && !c.timed) return this.#plain(fn);
    const start = c.timed ? c.clock.now() : 0;
    const ctx = toContext(options);
    const caller = callerSignal(options);
    if (caller === undefined) return this.#run(fn, ctx, this.s, start);
    return this.#race(fn, ctx, this.s, start, caller);
  }

  /**
   * The outcome handlers of plain calls in the state they were made for (one field: a keyed
   * breaker, which never makes plain calls, pays 4 bytes for it).
   */
  #plainHandlers: PlainHandlers | undefined = undefined;

  /**
   * The common call: no options, so no key, no signal and nothing to abort; untimed. Its outcome
   * handlers depend on nothing but the state it started in, so they are made once per state, not
   * twice per call.
   */
  #plain<T>(fn: (ctx: Context) => Promise<T> | T): Promise<T> {
    const s = this.s;
    let result: Promise<T> | T;
    try {
      result = fn(toContext(undefined));
    } catch (error) {
      this.outcome(s, PLAIN, 0, false, error);
      return Promise.reject(error);
    }
    if (!(result instanceof Promise)) return this.#run(() => result, PLAIN, s, 0);
    let handlers = this.#plainHandlers;
    if (handlers === undefined || handlers.s !== s) {
      handlers = this.#plainHandlers = {
        s,
        ok: (value) => {
          this.outcome(s, PLAIN, 0, true, value);
          return value;
        },
        fail: (error) => {
          this.outcome(s, PLAIN, 0, false, error);
          throw error;
        },
      };
    }
    return result.then(handlers.ok as (value: T) => T, handlers.fail);
  }

  /** Runs `fn` and records its outcome before the caller resumes; errors pass through unchanged. */
  #run<T>(fn: (ctx: Context) => Promise<T> | T, ctx: Context, s: CircuitState, start: number): Promise<T> {
    let result: Promise<T> | T;
    try {
      result = fn(ctx);
    } catch (error) {
      this.outcome(s, ctx, start, false, error);
      return Promise.reject(error);
    }
    const promise: Promise<T> | undefined =
      result instanceof Promise ? result : isThenable(result) ? Promise.resolve(result) : undefined;
    if (promise === undefined) {
      this.outcome(s, ctx, start, true, result);
      return Promise.resolve(result as T);
    }
    // A new promise (not fn's own): an unhandled rejection stays unhandled for the caller.
    return promise.then(
      (value) => {
        this.outcome(s, ctx, start, true, value);
        return value;
      },
      (error: unknown) => {
        this.outcome(s, ctx, start, false, error);
        throw error;
      },
    );
  }

  /** With a caller signal: reject as soon as it aborts, free the probe slot, ignore the late outcome. */
  #race<T>(
    fn: (ctx: Context) => Promise<T> | T,
    ctx: Context,
    s: CircuitState,
    start: number,
    caller: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const aborted = () => {
        if (done) return;
        done = true;
        this.neither(s);
        reject(caller.reason);
      };
      onAbort(caller, aborted);
      invoke(fn, ctx).then(
        (value) => {
          if (done) return;
          done = true;
          offAbort(caller, aborted);
          this.outcome(s, ctx, start, true, value);
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          offAbort(caller, aborted);
          this.outcome(s, ctx, start, false, error);
          reject(error);
        },
      );
    });
  }

  /** @internal A call admitted by `s` ended with no outcome to count: its caller gave up. */
  release(s: CircuitState): void {
    this.neither(s);
  }

  /** @internal Classifies and times an outcome, emits `success`/`failure`, and counts it. */
  outcome(s: CircuitState, ctx: Context, start: number, ok: boolean, result: unknown): void {
    if (!ok && (isAborted(ctx) || isRejection(result))) {
      this.neither(s); // the caller gave up, or an inner policy refused: nothing about the dependency
      return;
    }
    const c = this.c;
    const failed = c.customIsFailure ? classify(c.isFailure, ok, result) : !ok;
    let now = Number.NaN;
    let slow = false;
    if (c.timed) {
      now = c.clock.now();
      const durationMs = now - start;
      slow = durationMs >= c.slowCallDurationMs;
      const emit = c.emit;
      if (emit) {
        // The time just read stamps the event too: no third clock read.
        if (!failed) emit({ type: 'success', key: ctx.key, durationMs, time: now });
        else if (ok) emit({ type: 'failure', key: ctx.key, durationMs, error: undefined, value: result, time: now });
        else emit({ type: 'failure', key: ctx.key, durationMs, error: result, time: now });
      }
    }
    this.record(s, failed, slow, now, ctx.key);
  }
}

/**
 * Fails fast while a dependency is down, and finds out by itself when it is back.
 *
 * Closed, it counts outcomes in a sliding window; when at least `minimumCalls` were counted and the
 * failure rate or the slow-call rate reaches its threshold, it opens. Open, it rejects every call
 * at once with a `BrokenCircuitError` whose `retryAfterMs` says when it will let probes through —
 * decided lazily by the next call (no timer, ever). Half-open, exactly `halfOpenMaxCalls` probes go
 * through; their rates close it or open it again (for longer, with an `openMs` backoff).
 *
 * Options are validated once per options object: breakers built from the same object (one per
 * key, see `keyed()`) share its validated form.
 *
 * @example
 * const breaker = circuitBreaker({ failureRateThreshold: 0.5, minimumCalls: 20, openMs: '30s' });
 * const user = await breaker.execute(({ signal }) => fetch(url, { signal }).then((r) => r.json()));
 */
export function circuitBreaker(options?: CircuitBreakerOptions): CircuitBreakerPolicy {
  return new Breaker(breakerConfig(options));
}
