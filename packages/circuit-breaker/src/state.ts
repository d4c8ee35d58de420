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
