import { type LimitAlgorithm, type LimitSettings, clamp } from './limit-algorithm.js';
import { RttLimit, type RttWindow } from './rtt-limit.js';

/** Weight of a window's target in the new estimate (Netflix gradient2 uses 0.2). */
const SMOOTHING = 0.2;

/**
 * Netflix gradient2 / Envoy adaptive concurrency: `gradient = tolerance × noLoadRtt / recentRtt`,
 * clamped to [0.5, 1], and `target = limit × gradient + √limit` (the square root is headroom
 * for a small queue, so the limit can grow while latency is good). The estimate moves a fifth of
 * the way to the target per window. It only grows when the limit is in use (at least half of it
 * taken), so a quiet period does not inflate it.
 */
class Gradient extends RttLimit {
  protected adjust(estimate: number, window: RttWindow): number {
    const ratio = (this.settings.tolerance * this.noLoadRttMs) / window.meanRttMs;
    const gradient = clamp(ratio, 0.5, 1);
    const target = estimate * gradient + Math.sqrt(estimate);
    if (target > estimate && window.maxInflight * 2 < estimate) return estimate;
    return estimate + (target - estimate) * SMOOTHING;
  }
}

/** Creates the state of a gradient limit. */
export const gradient = (settings: LimitSettings): LimitAlgorithm => new Gradient(settings);
