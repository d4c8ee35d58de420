/**
 * The state of an adaptive limit: a pure object, fed one sample per finished call, that never
 * reads a clock or starts a timer itself (time comes in with each sample).
 */
export interface LimitAlgorithm {
  /** The limit to enforce now (an integer between `min` and `max`). */
  readonly limit: number;
  /**
   * Feeds one finished call and returns the limit to enforce now.
   * @param rttMs how long the call ran
   * @param inflight calls running when it started, itself included
   * @param dropped whether it ended in a drop (a timeout or an overload rejection)
   * @param nowMs when it ended (clock time)
   */
  update(rttMs: number, inflight: number, dropped: boolean, nowMs: number): number;
}

/** The tuning every algorithm is built from (validated by `normalizeConcurrencyLimitOptions`). */
export interface LimitSettings {
  readonly initial: number;
  readonly min: number;
  readonly max: number;
  readonly backoffRatio: number;
  readonly tolerance: number;
  readonly probeIntervalMs: number;
}

/** Clamps `value` into [min, max]. */
export const clamp = (value: number, min: number, max: number): number => Math.max(min, Math.min(max, value));
