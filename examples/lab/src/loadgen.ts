// The load generator: an open-loop client (requests start on schedule whether or not earlier ones
// have answered, as real users do) that records every request's start, latency and outcome.

/** Offered load: `rps` until `untilMs` from the start, segment after segment. */
export interface LoadSegment {
  untilMs: number;
  rps: number;
}

export interface LoadPlan {
  /** Base URLs of the services; requests go round-robin. */
  targets: string[];
  /** Paths to request, round-robin. */
  paths: string[];
  segments: LoadSegment[];
  /** The client gives up after this long (counts as a failure). */
  clientTimeoutMs: number;
}

/** One request as the client saw it. */
export interface Sample {
  /** Start, ms since the run began. */
  t: number;
  /** Latency, ms. */
  ms: number;
  /** HTTP status, or 0 when the request failed or timed out. */
  status: number;
}

export async function runLoad(plan: LoadPlan): Promise<Sample[]> {
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  const end = plan.segments[plan.segments.length - 1]?.untilMs ?? 0;
  let sent = 0;
  let owed = 0;
  let last = 0;
  const fire = () => {
    const i = sent++;
    const url = `${plan.targets[i % plan.targets.length]}${plan.paths[i % plan.paths.length]}`;
    const t0 = performance.now();
    const p = fetch(url, { signal: AbortSignal.timeout(plan.clientTimeoutMs) })
      .then(async (res) => {
        await res.arrayBuffer();
        samples.push({ t: t0 - start, ms: performance.now() - t0, status: res.status });
      })
      .catch(() => {
        samples.push({ t: t0 - start, ms: performance.now() - t0, status: 0 });
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now() - start;
      if (now >= end) {
        clearInterval(timer);
        resolve();
        return;
      }
      const segment = plan.segments.find((s) => now < s.untilMs);
      owed += ((now - last) * (segment?.rps ?? 0)) / 1_000;
      last = now;
      while (owed >= 1) {
        owed--;
        fire();
      }
    }, 2);
  });
  await Promise.all(pending);
  return samples.sort((a, b) => a.t - b.t);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  process.once('message', async (plan: LoadPlan) => {
    const samples = await runLoad(plan);
    process.send?.({ samples }, () => process.exit(0));
  });
  process.send?.({ ready: true });
}
