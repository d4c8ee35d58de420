import { type LimitAlgorithm, type LimitSettings, clamp } from './limit-algorithm.js';

/** Calls measured at `min` concurrency to learn the no-load RTT (Envoy's minRTT window uses 50). */
export const PROBE_SAMPLES = 50;
/** Fewest calls in a window; a window also spans at least one round trip (`limit` calls). */
export const MIN_WINDOW = 25;
/** Floor of the no-load RTT in ms: below it a millisecond clock measures only noise. */
export const MIN_NO_LOAD_RTT_MS = 1;

/** One window's summary, handed to the algorithm. */
export interface RttWindow {
  /** Mean RTT of the window's calls, in ms. */
  readonly meanRttMs: number;
  /** Mean number of calls in flight when they started. */
  readonly meanInflight: number;
  /** Most calls in flight at one call's start. */
  readonly maxInflight: number;
}

/**
 * The part `gradient` and `vegas` share: they judge latency against the dependency's no-load RTT,
 * and they average calls over windows of about one round trip.
 *
 * The no-load RTT is measured, not guessed from the minimum sample (which, with the exponential
 * service times real dependencies show, sits near zero and makes every RTT look like queueing):
 * the limit is held at `min` until {@link PROBE_SAMPLES} calls that started with at most `min` in
 * flight have finished, and their mean becomes the no-load RTT (Envoy adaptive concurrency's
 * minRTT window). It is measured first, then again every `probeIntervalMs`.
 */
export abstract class RttLimit implements LimitAlgorithm {
  protected estimate: number;
  protected readonly settings: LimitSettings;
  /** Mean RTT at `min` concurrency, in ms (0 until first measured). */
  noLoadRttMs = 0;
  #probing = true;
  #probeCount = 0;
  #probeSum = 0;
  #nextProbeAt = 0;
  #count = 0;
  #sumRtt = 0;
  #sumInflight = 0;
  #maxInflight = 0;
  #dropped = false;

  constructor(settings: LimitSettings) {
    this.settings = settings;
    this.estimate = settings.initial;
  }

  /** True while the no-load RTT is being measured (the limit is held at `min`). */
  get probing(): boolean {
    return this.#probing;
  }

  get limit(): number {
    return this.#probing ? this.settings.min : Math.floor(this.estimate);
  }

  update(rttMs: number, inflight: number, dropped: boolean, nowMs: number): number {
    if (this.#probing) {
      if (!dropped && inflight <= this.settings.min) {
        this.#probeSum += rttMs;
        if (++this.#probeCount >= PROBE_SAMPLES) {
          this.noLoadRttMs = Math.max(MIN_NO_LOAD_RTT_MS, this.#probeSum / this.#probeCount);
          this.#probing = false;
          this.#nextProbeAt = nowMs + this.settings.probeIntervalMs;
          this.#resetWindow();
        }
      }
      return this.limit;
    }
    if (nowMs >= this.#nextProbeAt) {
      this.#probing = true;
      this.#probeCount = 0;
      this.#probeSum = 0;
      return this.limit;
    }
    this.#count++;
    this.#sumRtt += rttMs;
    this.#sumInflight += inflight;
    if (inflight > this.#maxInflight) this.#maxInflight = inflight;
    if (dropped) this.#dropped = true;
    if (this.#count >= MIN_WINDOW && this.#count >= this.estimate) {
      const { min, max, backoffRatio } = this.settings;
      if (this.#dropped) this.estimate = clamp(this.estimate * backoffRatio, min, max);
      else {
        const window: RttWindow = {
          meanRttMs: this.#sumRtt / this.#count,
          meanInflight: this.#sumInflight / this.#count,
          maxInflight: this.#maxInflight,
        };
        this.estimate = clamp(this.adjust(this.estimate, window), min, max);
      }
      this.#resetWindow();
    }
    return this.limit;
  }

  /** Returns the new (unclamped) estimate after a window without drops. */
  protected abstract adjust(estimate: number, window: RttWindow): number;

  #resetWindow(): void {
    this.#count = 0;
    this.#sumRtt = 0;
    this.#sumInflight = 0;
    this.#maxInflight = 0;
    this.#dropped = false;
  }
}
