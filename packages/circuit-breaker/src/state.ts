import { BrokenCircuitError, type SlidingWindow, reportCallbackError, slidingWindow } from '@palisade/core';
import type { BreakerConfig, OpenBackoff } from './options.js';

/**
 * The circuit breaker's state machine, as data. Each transition creates a new state object, so a
 * state object is also an epoch: a call remembers the state that admitted it and its outcome only
 * counts if that state is still current (a call that started before an opening, a reset or an
 * isolation counts for nothing afterwards).
 *
 * ```text
 *            rates ≥ threshold                 openMs elapsed (seen lazily, on the next call)
 *  closed ───────────────────────▶ open ───────────────────────────────▶ half-open
 *    ▲                               ▲                                       │
 *    │                               └──────── probes' rates ≥ threshold ────┤
 *    └──────────────────────────────────────── probes' rates < threshold ────┘
 *
 *  isolate(): any ──▶ isolated, until every handle is disposed ──▶ closed.   reset(): any ──▶ closed.
 * ```
 */

/** The states of a circuit breaker. */
export type CircuitStateName = 'closed' | 'open' | 'half-open' | 'isolated';

/** Calls flow; outcomes go to the sliding window. */
export interface ClosedState {
  readonly kind: 'closed';
  /** When it entered this state (clock time, ms). */
  readonly since: number;
}

/** Calls are rejected until `until`; the first call after it turns the breaker half-open. */
export interface OpenState {
  readonly kind: 'open';
  readonly since: number;
  /** When probes may start (clock time, ms). */
  readonly until: number;
}

/** Probe calls are let through, at most `halfOpenMaxCalls` in all. */
export interface HalfOpenState {
  readonly kind: 'half-open';
  readonly since: number;
  /** Probes admitted and not aborted (in flight or ended). */
  started: number;
  /** Probes ended with a counted outcome. */
  ended: number;
  /** Ended probes that failed. */
  failures: number;
  /** Ended probes that were slow. */
  slowCalls: number;
}

/** Held open by hand: calls are rejected until every isolation handle is disposed. */
export interface IsolatedState {
  readonly kind: 'isolated';
  readonly since: number;
  /** Isolation handles not yet disposed. */
  holds: number;
}

/** One discriminated union of the four states. */
export type CircuitState = ClosedState | OpenState | HalfOpenState | IsolatedState;

export const closedState = (now: number): ClosedState => ({ kind: 'closed', since: now });

export const openState = (now: number, openMs: number): OpenState => ({
  kind: 'open',
  since: now,
  until: now + openMs,
});

export const halfOpenState = (now: number): HalfOpenState => ({
  kind: 'half-open',
  since: now,
  started: 0,
  ended: 0,
  failures: 0,
  slowCalls: 0,
});

export const isolatedState = (now: number): IsolatedState => ({ kind: 'isolated', since: now, holds: 1 });

/** `part / calls`, 0 when there were no calls. */
export const rate = (part: number, calls: number): number => (calls === 0 ? 0 : part / calls);

/** The thresholds a set of outcomes is judged against. */
export interface Thresholds {
  readonly failureRateThreshold: number;
  readonly slowCallRateThreshold: number;
}

/** True when the failure rate or the slow-call rate of `calls` outcomes reaches its threshold. */
export const tripped = (calls: number, failures: number, slowCalls: number, t: Thresholds): boolean =>
  calls > 0 && (failures / calls >= t.failureRateThreshold || slowCalls / calls >= t.slowCallRateThreshold);

/** What {@link CircuitMachine.stats} reports. */
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
 * Ends an isolation started by `breaker.isolate()`. Disposing twice is harmless. Where the runtime
 * has `Symbol.dispose`, the handle has it too (`using hold = breaker.isolate()`).
 */
export type IsolationHandle = { dispose(): void } & (typeof Symbol extends { readonly dispose: infer S extends symbol }
  ? { [K in S]: () => void }
  : unknown);

const disposeSymbol: symbol | undefined = (Symbol as { dispose?: symbol }).dispose;

const openDuration = (openMs: number | OpenBackoff, openings: number): number => {
  if (typeof openMs === 'number') return openMs;
  try {
    const ms = openMs(openings);
    return typeof ms === 'number' && ms > 0 ? ms : 0;
  } catch (error) {
    reportCallbackError('openMs', openMs, error);
    return 0;
  }
};

/**
 * The transitions. No timer anywhere: open → half-open happens when the next call (or a read of
 * `state`) compares `clock.now()` with `until`; `stats()` only reports the time left. `circuitBreaker()`
 * extends it with `execute`: one object per breaker, a few fields, so a breaker per key stays cheap.
 */
export class CircuitMachine {
  protected readonly c: BreakerConfig;
  protected s: CircuitState;
  /** Created on the first counted outcome. */
  #w: SlidingWindow | undefined = undefined;
  #openings = 0;

  constructor(config: BreakerConfig) {
    this.c = config;
    this.s = closedState(config.clock.now());
  }

  get name(): string {
    return this.c.name;
  }

  get state(): CircuitStateName {
    const s = this.s;
    if (s.kind === 'open') {
      const now = this.c.clock.now();
      if (now >= s.until) this.#halfOpen(now, undefined);
    }
    return this.s.kind;
  }

  isolate(): IsolationHandle {
    const now = this.c.clock.now();
    let s = this.s;
    if (s.kind === 'isolated') s.holds++;
    else {
      s = this.s = isolatedState(now);
      const emit = this.c.emit;
      if (emit) emit({ type: 'circuit.isolated' });
    }
    const iso = s;
    let disposed = false;
    const handle = {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        if (this.s !== iso) return; // reset() (or a later isolation) already ended it
        if (--iso.holds === 0) this.#close(this.c.clock.now(), undefined);
      },
    };
    if (disposeSymbol !== undefined) Object.defineProperty(handle, disposeSymbol, { value: handle.dispose });
    return handle as IsolationHandle;
  }

  reset(): void {
    const wasClosed = this.s.kind === 'closed';
    this.#close(this.c.clock.now(), undefined, !wasClosed);
  }

  stats(): CircuitBreakerStats {
    const now = this.c.clock.now();
    const s = this.s;
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
  protected admit(key: string | undefined): BrokenCircuitError | undefined {
    let s = this.s;
    let retryAfterMs: number | undefined;
    if (s.kind === 'open') {
      const now = this.c.clock.now();
      if (now < s.until) retryAfterMs = s.until - now;
      else s = this.#halfOpen(now, key);
    }
    if (s.kind === 'half-open' && s.started < this.c.halfOpenMaxCalls) {
      s.started++;
      return undefined;
    }
    const state = s.kind as 'open' | 'half-open' | 'isolated';
    const emit = this.c.emit;
    if (emit) emit({ type: 'circuit.rejected', key, state, retryAfterMs });
    return new BrokenCircuitError(state, { retryAfterMs });
  }

  /** A call admitted by `s` counts as neither success nor failure: frees its probe slot. */
  protected neither(s: CircuitState): void {
    if (s === this.s && s.kind === 'half-open') s.started--;
  }

  /**
   * Counts the outcome of a call admitted by `s`, if `s` is still the current state (a call counts
   * only in the state that admitted it). `now` may be NaN when no clock was read for the call.
   */
  protected record(s: CircuitState, failed: boolean, slow: boolean, now: number, key: string | undefined): void {
    if (s !== this.s) return;
    const c = this.c;
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
        this.#open(now, w.calls, w.failures, w.slowCalls, key);
      }
    } else if (s.kind === 'half-open') {
      s.ended++;
      if (failed) s.failures++;
      if (slow) s.slowCalls++;
      if (s.ended < c.halfOpenMaxCalls) return;
      if (tripped(s.ended, s.failures, s.slowCalls, c)) this.#open(now, s.ended, s.failures, s.slowCalls, key);
      else this.#close(now, key);
    }
  }

  #open(now: number, calls: number, failures: number, slowCalls: number, key: string | undefined): void {
    const c = this.c;
    if (Number.isNaN(now)) now = c.clock.now();
    const openMs = openDuration(c.openMs, ++this.#openings);
    this.s = openState(now, openMs);
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
    this.s = s;
    const emit = this.c.emit;
    if (emit) emit({ type: 'circuit.half-open', key });
    return s;
  }

  #close(now: number, key: string | undefined, announce = true): void {
    const c = this.c;
    if (Number.isNaN(now)) now = c.clock.now();
    this.s = closedState(now);
    this.#openings = 0;
    this.#w?.reset();
    const emit = c.emit;
    if (announce && emit) emit({ type: 'circuit.close', key });
  }
}
