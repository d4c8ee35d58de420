import {
  BrokenCircuitError,
  type Context,
  type ExecuteOptions,
  type Policy,
  type SlidingWindow,
  abortReason,
  callerSignal,
  invoke,
  isAborted,
  isRejection,
  slidingWindow,
  toContext,
} from '@palisade/core';
import {
  type CircuitBreakerOptions,
  type CircuitOutcome,
  type NormalizedCircuitBreakerOptions,
  isErrorOutcome,
  normalizeCircuitBreakerOptions,
} from './options.js';
import {
  type CircuitState,
  type CircuitStateName,
  type HalfOpenState,
  closedState,
  halfOpenState,
  isolatedState,
  openState,
  rate,
  tripped,
} from './state.js';

/** What {@link CircuitBreakerPolicy.stats} reports. */
export interface CircuitBreakerStats {
  /** The current state. */
  readonly state: CircuitStateName;
  /** When the breaker entered it (clock time, epoch ms). */
  readonly since: number;
  /**
   * Outcomes counted: the sliding window's (closed, open, isolated; a time window as of now), or
   * the ended probes' (half-open).
   */
  readonly calls: number;
  /** Of which failures. */
  readonly failures: number;
  /** Of which slow calls. */
  readonly slowCalls: number;
  /** `failures / calls` (0 without calls), a fraction. */
  readonly failureRate: number;
  /** `slowCalls / calls` (0 without calls), a fraction. */
  readonly slowCallRate: number;
  /** Consecutive openings since the breaker last closed (what an `openMs` backoff is given). */
  readonly openings: number;
  /** While open: ms until probes are let through. */
  readonly retryAfterMs: number | undefined;
}

/**
 * Ends an isolation started by {@link CircuitBreakerPolicy.isolate}. Disposing twice is harmless.
 * Where the runtime has `Symbol.dispose`, the handle has it too (`using hold = breaker.isolate()`).
 */
export type IsolationHandle = { dispose(): void } & (typeof Symbol extends { readonly dispose: infer S extends symbol }
  ? { [K in S]: () => void }
  : unknown);

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

/** Resolved options plus what the hot path derives from them once. */
interface Shared extends NormalizedCircuitBreakerOptions {
  /** Calls are timed: slow-call detection is on, or a listener wants `durationMs`. */
  readonly timed: boolean;
  /** The window needs `now` for every outcome. */
  readonly timeWindow: boolean;
  /** `isFailure` is the user's: build an outcome object for it. */
  readonly customIsFailure: boolean;
  /** `minimumCalls`, capped by a count window's size. */
  readonly minimum: number;
}

const dispose: symbol | undefined = (Symbol as { dispose?: symbol }).dispose;

const classify = (isFailure: (outcome: CircuitOutcome) => boolean, ok: boolean, result: unknown): boolean => {
  const outcome: CircuitOutcome = ok ? { ok: true, value: result } : { ok: false, error: result };
  try {
    return isFailure(outcome) === true;
  } catch {
    return isErrorOutcome(outcome);
  }
};

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null | undefined)?.then === 'function';

const openDuration = (openMs: Shared['openMs'], openings: number): number => {
  if (typeof openMs === 'number') return openMs;
  try {
    const ms = openMs(openings);
    return typeof ms === 'number' && ms > 0 ? ms : 0;
  } catch {
    return 0;
  }
};

/**
 * One breaker. A class (never exported: users get it from the factory) so that its methods live
 * on the prototype and a breaker costs a few fields — it matters with one breaker per key.
 */
class Breaker implements CircuitBreakerPolicy {
  readonly #c: Shared;
  #s: CircuitState;
  /** Created on the first counted outcome. */
  #w: SlidingWindow | undefined = undefined;
  #openings = 0;

  constructor(shared: Shared) {
    this.#c = shared;
    this.#s = closedState(shared.clock.now());
  }

  get name(): string {
    return this.#c.name;
  }

  get state(): CircuitStateName {
    const s = this.#s;
    if (s.kind === 'open') {
      const now = this.#c.clock.now();
      if (now >= s.until) this.#halfOpen(now, undefined);
    }
    return this.#s.kind;
  }

  execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
    if (isAborted(options)) return Promise.reject(abortReason(options));
    if (this.#s.kind !== 'closed') {
      const rejection = this.#admit(options?.key);
      if (rejection !== undefined) return Promise.reject(rejection);
    }
    const c = this.#c;
    const start = c.timed ? c.clock.now() : 0;
    const ctx = toContext(options);
    const caller = callerSignal(options);
    if (caller === undefined) return this.#run(fn, ctx, this.#s, start);
    return this.#race(fn, ctx, this.#s, start, caller);
  }

  isolate(): IsolationHandle {
    const now = this.#c.clock.now();
    let s = this.#s;
    if (s.kind === 'isolated') s.holds++;
    else {
      s = this.#s = isolatedState(now);
      const emit = this.#c.emit;
      if (emit) emit({ type: 'circuit.isolated' });
    }
    const iso = s;
    let disposed = false;
    const handle = {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        if (this.#s !== iso) return; // reset() (or a later isolation) already ended it
        if (--iso.holds === 0) this.#close(this.#c.clock.now(), undefined);
      },
    };
    if (dispose !== undefined) Object.defineProperty(handle, dispose, { value: handle.dispose });
    return handle as IsolationHandle;
  }

  reset(): void {
    const wasClosed = this.#s.kind === 'closed';
    this.#close(this.#c.clock.now(), undefined, !wasClosed);
  }

  stats(): CircuitBreakerStats {
    const now = this.#c.clock.now();
    const s = this.#s;
    let calls = 0;
    let failures = 0;
    let slowCalls = 0;
    if (s.kind === 'half-open') {
      calls = s.ended;
      failures = s.failures;
      slowCalls = s.slowCalls;
    } else if (this.#w !== undefined) {
      const w = this.#w;
      w.expire(now);
      calls = w.calls;
      failures = w.failures;
      slowCalls = w.slowCalls;
    }
    return {
      state: s.kind,
      since: s.since,
      calls,
      failures,
      slowCalls,
      failureRate: rate(failures, calls),
      slowCallRate: rate(slowCalls, calls),
      openings: this.#openings,
      retryAfterMs: s.kind === 'open' ? Math.max(0, s.until - now) : undefined,
    };
  }

  /** Not closed: admits a probe (returns undefined) or returns the rejection. */
  #admit(key: string | undefined): BrokenCircuitError | undefined {
    let s = this.#s;
    let retryAfterMs: number | undefined;
    if (s.kind === 'open') {
      const now = this.#c.clock.now();
      if (now < s.until) retryAfterMs = s.until - now;
      else s = this.#halfOpen(now, key);
    }
    if (s.kind === 'half-open' && s.started < this.#c.halfOpenMaxCalls) {
      s.started++;
      return undefined;
    }
    const state = s.kind as 'open' | 'half-open' | 'isolated';
    const emit = this.#c.emit;
    if (emit) emit({ type: 'circuit.rejected', key, state, retryAfterMs });
    return new BrokenCircuitError(state, { retryAfterMs });
  }

  /** Runs `fn` and records its outcome before the caller resumes; errors pass through unchanged. */
  #run<T>(fn: (ctx: Context) => Promise<T> | T, ctx: Context, s: CircuitState, start: number): Promise<T> {
    let result: Promise<T> | T;
    try {
      result = fn(ctx);
    } catch (error) {
      this.#settle(s, ctx, start, false, error);
      return Promise.reject(error);
    }
    const promise: Promise<T> | undefined =
      result instanceof Promise ? result : isThenable(result) ? Promise.resolve(result) : undefined;
    if (promise === undefined) {
      this.#settle(s, ctx, start, true, result);
      return Promise.resolve(result as T);
    }
    // A new promise (not fn's own): an unhandled rejection stays unhandled for the caller.
    return promise.then(
      (value) => {
        this.#settle(s, ctx, start, true, value);
        return value;
      },
      (error: unknown) => {
        this.#settle(s, ctx, start, false, error);
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
      const onAbort = () => {
        if (done) return;
        done = true;
        this.#neither(s);
        reject(caller.reason);
      };
      caller.addEventListener('abort', onAbort);
      invoke(fn, ctx).then(
        (value) => {
          if (done) return;
          done = true;
          caller.removeEventListener('abort', onAbort);
          this.#settle(s, ctx, start, true, value);
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          caller.removeEventListener('abort', onAbort);
          this.#settle(s, ctx, start, false, error);
          reject(error);
        },
      );
    });
  }

  /** A call that counts as neither success nor failure: frees its probe slot. */
  #neither(s: CircuitState): void {
    if (s === this.#s && s.kind === 'half-open') s.started--;
  }

  #settle(s: CircuitState, ctx: Context, start: number, ok: boolean, result: unknown): void {
    if (!ok && (isAborted(ctx) || isRejection(result))) {
      this.#neither(s);
      return;
    }
    const c = this.#c;
    const failed = c.customIsFailure ? classify(c.isFailure, ok, result) : !ok;
    let now = Number.NaN;
    let slow = false;
    if (c.timed) {
      now = c.clock.now();
      const durationMs = now - start;
      slow = durationMs >= c.slowCallDurationMs;
      const emit = c.emit;
      if (emit) {
        if (!failed) emit({ type: 'success', key: ctx.key, durationMs });
        else if (ok) emit({ type: 'failure', key: ctx.key, durationMs, error: undefined, value: result });
        else emit({ type: 'failure', key: ctx.key, durationMs, error: result });
      }
    }
    if (s !== this.#s) return; // admitted by an earlier state: counts for nothing now
    if (s.kind === 'closed') {
      let w = this.#w;
      if (w === undefined) w = this.#w = slidingWindow(c.window);
      if (c.timeWindow && Number.isNaN(now)) now = c.clock.now();
      w.record(failed, slow, now);
      if (
        (w.failures !== 0 || w.slowCalls !== 0) &&
        w.calls >= c.minimum &&
        tripped(w.calls, w.failures, w.slowCalls, c)
      ) {
        this.#open(now, w.calls, w.failures, w.slowCalls, ctx.key);
      }
    } else if (s.kind === 'half-open') {
      s.ended++;
      if (failed) s.failures++;
      if (slow) s.slowCalls++;
      if (s.ended < c.halfOpenMaxCalls) return;
      if (tripped(s.ended, s.failures, s.slowCalls, c)) this.#open(now, s.ended, s.failures, s.slowCalls, ctx.key);
      else this.#close(now, ctx.key);
    }
  }

  #open(now: number, calls: number, failures: number, slowCalls: number, key: string | undefined): void {
    const c = this.#c;
    if (Number.isNaN(now)) now = c.clock.now();
    const openMs = openDuration(c.openMs, ++this.#openings);
    this.#s = openState(now, openMs);
    const emit = c.emit;
    if (emit) {
      emit({
        type: 'circuit.open',
        key,
        failureRate: rate(failures, calls),
        slowCallRate: rate(slowCalls, calls),
        openMs,
      });
    }
  }

  #halfOpen(now: number, key: string | undefined): HalfOpenState {
    const s = halfOpenState(now);
    this.#s = s;
    const emit = this.#c.emit;
    if (emit) emit({ type: 'circuit.half-open', key });
    return s;
  }

  #close(now: number, key: string | undefined, announce = true): void {
    const c = this.#c;
    if (Number.isNaN(now)) now = c.clock.now();
    this.#s = closedState(now);
    this.#openings = 0;
    this.#w?.reset();
    const emit = c.emit;
    if (announce && emit) emit({ type: 'circuit.close', key });
  }
}

const shared = new WeakMap<object, Shared>();
let unset: Shared | undefined;

function resolveShared(options: CircuitBreakerOptions | undefined): Shared {
  const cached = options === undefined ? unset : shared.get(options);
  if (cached !== undefined) return cached;
  const n = normalizeCircuitBreakerOptions(options);
  const s: Shared = Object.freeze({
    ...n,
    timed: n.slowCallDurationMs !== Number.POSITIVE_INFINITY || n.emit !== undefined,
    timeWindow: n.window.kind === 'time',
    customIsFailure: n.isFailure !== isErrorOutcome,
    minimum: n.window.kind === 'count' ? Math.min(n.minimumCalls, n.window.size) : n.minimumCalls,
  });
  if (options === undefined) unset = s;
  else if (typeof options === 'object' && options !== null) shared.set(options, s);
  return s;
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
  return new Breaker(resolveShared(options));
}
