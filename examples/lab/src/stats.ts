import type { Sample } from './loadgen.js';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** "99.9%" → 3 nines. */
export function nines(successRate: number): number {
  if (successRate >= 1) return Number.POSITIVE_INFINITY;
  return -Math.log10(1 - successRate);
}

export interface RunSummary {
  requests: number;
  served: number;
  successRate: number;
  p50: number;
  p99: number;
  p999: number;
  upstreamCalls: number;
  /** Upstream calls per client request. */
  amplification: number;
  /** Upstream calls while the outage lasted, when there was one. */
  upstreamDuringOutage?: number;
  /** ms from the end of the outage until the success rate stays ≥ 95% (per 250 ms bucket). */
  recoverMs?: number;
}

export function summarize(
  samples: Sample[],
  upstreamCalls: number,
  outage?: { fromMs: number; toMs: number; upstreamDuring: number },
): RunSummary {
  const served = samples.filter((s) => s.status === 200).length;
  const latencies = samples.map((s) => s.ms).sort((a, b) => a - b);
  const summary: RunSummary = {
    requests: samples.length,
    served,
    successRate: samples.length ? served / samples.length : 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    p999: percentile(latencies, 99.9),
    upstreamCalls,
    amplification: samples.length ? upstreamCalls / samples.length : 0,
  };
  if (outage) {
    summary.upstreamDuringOutage = outage.upstreamDuring;
    summary.recoverMs = recoveryTime(samples, outage.toMs);
  }
  return summary;
}

/** Time after `fromMs` until every later 250 ms bucket has ≥ 95% success. */
export function recoveryTime(samples: Sample[], fromMs: number, bucketMs = 250): number {
  const buckets = timeSeries(samples, bucketMs).filter((b) => b.t >= fromMs);
  let recoveredAt = Number.NaN;
  for (const b of buckets) {
    if (b.count === 0) continue;
    if (b.successRate >= 0.95) {
      if (Number.isNaN(recoveredAt)) recoveredAt = b.t;
    } else recoveredAt = Number.NaN;
  }
  return Number.isNaN(recoveredAt) ? Number.NaN : Math.max(0, recoveredAt - fromMs);
}

export interface Bucket {
  t: number;
  count: number;
  successRate: number;
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
        successRate: list.filter((s) => s.status === 200).length / list.length,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
      };
    });
}
