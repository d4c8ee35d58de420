import type { Sample } from './loadgen.js';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Answered with a 2xx: served, a stale copy included (that is what the fallback is for). */
export const isServed = (s: Sample): boolean => s.status >= 200 && s.status < 300;
/** Served with a fresh answer from the upstream, not a stale copy. */
export const isFresh = (s: Sample): boolean => isServed(s) && !s.stale;

/** "99.9%" → 3 nines. */
export function nines(successRate: number): number {
  if (successRate >= 1) return Number.POSITIVE_INFINITY;
  return -Math.log10(1 - successRate);
}

/**
 * The nines `served` out of `requests` can support. With no failure, n requests only show that
 * the failure rate is below about 1/n: the value is then log10(n), a lower bound (`bound: true`).
 */
export function measuredNines(served: number, requests: number): { value: number; bound: boolean } {
  if (requests === 0) return { value: 0, bound: false };
  if (served >= requests) return { value: Math.log10(requests), bound: true };
  return { value: nines(served / requests), bound: false };
}

/** Requests and their outcomes, for one route or one framework. */
export interface Tally {
  requests: number;
  served: number;
  fresh: number;
}

export interface RunSummary {
  requests: number;
  /** 2xx answers, stale copies included. */
  served: number;
  /** served / requests: availability as the client saw it. */
  successRate: number;
  /** 2xx answers fresh from the upstream. */
  fresh: number;
  /** fresh / requests. */
  freshRate: number;
  /** Stale copies served by the fallback (counted in `served`). */
  stale: number;
  /** Nines of `successRate`, finite: log10(requests) when nothing failed (then `ninesBound`). */
  nines: number;
  /** True when `nines` is only a lower bound (no failure among the requests). */
  ninesBound: boolean;
  p50: number;
  p99: number;
  p999: number;
  upstreamCalls: number;
  /** The orders (POST /orders) among them. */
  upstreamOrders: number;
  /** Upstream calls per client request. */
  amplification: number;
  /** Outcomes per route, e.g. "GET /api/items/:id". */
  byRoute: Record<string, Tally>;
  /** Outcomes per framework of the service that answered ("express", "hono"). */
  byFramework: Record<string, Tally>;
  /** Upstream calls while the outage lasted, when there was one. */
  upstreamDuringOutage?: number;
  /** ms from the end of the outage until answers are fresh again to stay (see `recoveryTime`); NaN: never. */
  recoverMs?: number;
}

function tally(samples: readonly Sample[], by: (s: Sample) => string): Record<string, Tally> {
  const out: Record<string, Tally> = {};
  for (const s of samples) {
    const key = by(s);
    const t = out[key] ?? { requests: 0, served: 0, fresh: 0 };
    t.requests++;
    if (isServed(s)) t.served++;
    if (isFresh(s)) t.fresh++;
    out[key] = t;
  }
  return out;
}

/** What the upstream and the run's set-up tell, besides the client's samples. */
export interface RunFacts {
  /** Every call that reached the upstream. */
  upstreamCalls: number;
  /** The orders among them. */
  upstreamOrders: number;
  /** The framework of each target, by `Sample.target`. */
  frameworks: readonly string[];
  outage?: { fromMs: number; toMs: number; upstreamDuring: number };
}

export function summarize(samples: Sample[], facts: RunFacts): RunSummary {
  const { upstreamCalls, upstreamOrders, frameworks, outage } = facts;
  const served = samples.filter(isServed).length;
  const fresh = samples.filter(isFresh).length;
  const latencies = samples.map((s) => s.ms).sort((a, b) => a - b);
  const n = measuredNines(served, samples.length);
  const summary: RunSummary = {
    requests: samples.length,
    served,
    successRate: samples.length ? served / samples.length : 0,
    fresh,
    freshRate: samples.length ? fresh / samples.length : 0,
    stale: samples.filter((s) => isServed(s) && s.stale).length,
    nines: n.value,
    ninesBound: n.bound,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    p999: percentile(latencies, 99.9),
    upstreamCalls,
    upstreamOrders,
    amplification: samples.length ? upstreamCalls / samples.length : 0,
    byRoute: tally(samples, (s) => s.route),
    byFramework: tally(samples, (s) => frameworks[s.target] ?? `target ${s.target}`),
  };
  if (outage) {
    summary.upstreamDuringOutage = outage.upstreamDuring;
    summary.recoverMs = recoveryTime(samples, outage.toMs);
  }
  return summary;
}

/** Requests in a row that must be fresh successes (at least `RECOVERY_SHARE` of them) to call it recovered. */
export const RECOVERY_WINDOW = 20;
export const RECOVERY_SHARE = 0.95;

/**
 * ms from `fromMs` (the exact end of the outage) to the start of the first request, sent at or
 * after it, from which on every `window` requests in a row are at least `share` fresh successes —
 * answers from the upstream, not stale copies nor errors. NaN when that never happens (or when too
 * few requests follow to tell). `samples` must be sorted by start time.
 */
export function recoveryTime(
  samples: readonly Sample[],
  fromMs: number,
  window = RECOVERY_WINDOW,
  share = RECOVERY_SHARE,
): number {
  const after = samples.filter((s) => s.t >= fromMs);
  if (after.length < window) return Number.NaN;
  // windowOk[i]: enough fresh successes among after[i .. i + window - 1], for each full window.
  const fresh = after.map((s) => (isFresh(s) ? 1 : 0));
  let inWindow = fresh.slice(0, window).reduce<number>((a, b) => a + b, 0);
  const windowOk: boolean[] = [inWindow >= share * window];
  for (let i = 1; i + window <= after.length; i++) {
    inWindow += (fresh[i + window - 1] as number) - (fresh[i - 1] as number);
    windowOk.push(inWindow >= share * window);
  }
  // The earliest window start after which no window falls below the share.
  let first = Number.NaN;
  for (let i = windowOk.length - 1; i >= 0; i--) {
    if (!windowOk[i]) break;
    first = i;
  }
  return Number.isNaN(first) ? Number.NaN : (after[first] as Sample).t - fromMs;
}

export interface Bucket {
  t: number;
  count: number;
  successRate: number;
  freshRate: number;
  p50: number;
  p99: number;
}

export function timeSeries(samples: Sample[], bucketMs: number): Bucket[] {
  const map = new Map<number, Sample[]>();
  for (const s of samples) {
    const key = Math.floor(s.t / bucketMs) * bucketMs;
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    list.push(s);
  }
  return [...map.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, list]) => {
      const lat = list.map((s) => s.ms).sort((a, b) => a - b);
      return {
        t,
        count: list.length,
        successRate: list.filter(isServed).length / list.length,
        freshRate: list.filter(isFresh).length / list.length,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
      };
    });
}
