import { type LimitAlgorithm, type LimitSettings, clamp } from './limit-algorithm.js';

/**
 * Additive increase, multiplicative decrease (TCP Reno's rule, loss-based): while calls succeed
 * and the limit is in use (at least half of it taken), it grows by one per round trip (1/limit per
 * call); on a drop it is multiplied by `backoffRatio` — at most once per round trip: a drop of a
 * call that started before the last cut was caused by the old limit and does not cut again.
 *
 * It never looks at latency, so it lets the dependency's queue (and your latency) grow until calls
 * start to time out. Prefer `gradient` or `vegas` when latency matters.
 */
class Aimd implements LimitAlgorithm {
  #estimate: number;
  readonly #settings: LimitSettings;
  #lastCutAt = Number.NEGATIVE_INFINITY;

  constructor(settings: LimitSettings) {
    this.#settings = settings;
    this.#estimate = settings.initial;
  }

  get limit(): number {
    return Math.floor(this.#estimate);
  }

  update(rttMs: number, inflight: number, dropped: boolean, nowMs: number): number {
    const { min, max, backoffRatio } = this.#settings;
    const estimate = this.#estimate;
    if (dropped) {
      if (nowMs - rttMs >= this.#lastCutAt) {
        this.#estimate = clamp(estimate * backoffRatio, min, max);
        this.#lastCutAt = nowMs;
      }
    } else if (inflight * 2 >= estimate) {
      this.#estimate = clamp(estimate + 1 / estimate, min, max);
    }
    return Math.floor(this.#estimate);
  }
}

/** Creates the state of an AIMD limit. */
export const aimd = (settings: LimitSettings): LimitAlgorithm => new Aimd(settings);
