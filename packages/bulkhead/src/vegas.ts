import type { LimitAlgorithm, LimitSettings } from './limit-algorithm.js';
import { RttLimit, type RttWindow } from './rtt-limit.js';

/**
 * TCP Vegas: estimate how many calls wait in the dependency's queue and keep that small.
 * By Little's law the queue is `throughput × queueing delay = inflight × (1 − noLoadRtt / rtt)`,
 * taken over a window with the calls actually in flight (not the limit: an unused limit queues
 * nothing). Below `alpha = 3·log10(limit)` queued calls the limit grows by `log10(limit)` (when
 * it is in use); above `beta = 6·log10(limit)` it shrinks by as much; in between it holds.
 */
class Vegas extends RttLimit {
  protected adjust(estimate: number, window: RttWindow): number {
    const queue = window.meanInflight * (1 - this.noLoadRttMs / window.meanRttMs);
    const step = Math.max(1, Math.log10(estimate));
    if (queue < 3 * step) return window.maxInflight * 2 >= estimate ? estimate + step : estimate;
    if (queue > 6 * step) return estimate - step;
    return estimate;
  }
}

/** Creates the state of a Vegas limit. */
export const vegas = (settings: LimitSettings): LimitAlgorithm => new Vegas(settings);
