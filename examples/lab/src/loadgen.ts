// The load generator: an open-loop client (requests start on schedule whether or not earlier ones
// have answered, as real users do) that records every request's start, latency and outcome.

/** Offered load: `rps` until `untilMs` from the start, segment after segment. */
export interface LoadSegment {
  untilMs: number;
  rps: number;
}

/** A route of the services other than the GETs of `LoadPlan.paths`, sent a share of the requests. */
export interface LoadRoute {
  /** Name recorded in each sample, e.g. "POST /api/orders". */
  route: string;
  /** Share of all requests sent to this route (0–1), spread evenly over the run. */
  share: number;
  method: 'GET' | 'POST';
  /** Paths to request, round-robin per target. */
  paths: string[];
  /** JSON body sent with each request. */
  body?: string;
}

export interface LoadPlan {
  /** Base URLs of the services; requests go round-robin. */
  targets: string[];
  /** Paths to GET, round-robin per target (so each target soon sees every path). */
  paths: string[];
  /** Name recorded for requests to `paths`. @default "GET" */
  route?: string;
  /** Other routes, each taking its share of the requests; `paths` get the rest. */
  routes?: LoadRoute[];
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
  /** Index of the target (service) in `LoadPlan.targets`. */
  target: number;
  /** The route, as named in the plan. */
  route: string;
  /** The service answered with a stale copy (response header `x-stale: 1`). */
  stale: boolean;
}

/** Picks the route of each request so that each gets its share, evenly spread (error diffusion). */
function routePicker(plan: LoadPlan): () => LoadRoute {
  const others = plan.routes ?? [];
  const rest = 1 - others.reduce((sum, r) => sum + r.share, 0);
  const main: LoadRoute = { route: plan.route ?? 'GET', share: rest, method: 'GET', paths: plan.paths };
  const owed = others.map(() => 0);
  return () => {
    let pick = -1;
    for (let i = 0; i < others.length; i++) {
      owed[i] = (owed[i] as number) + (others[i] as LoadRoute).share;
      if (pick < 0 && (owed[i] as number) >= 1) pick = i;
    }
    if (pick < 0) return main;
    owed[pick] = (owed[pick] as number) - 1;
    return others[pick] as LoadRoute;
  };
}

export async function runLoad(plan: LoadPlan): Promise<Sample[]> {
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  const end = plan.segments[plan.segments.length - 1]?.untilMs ?? 0;
  const nextRoute = routePicker(plan);
  // Round-robin over paths per (route, target): every service sees every path early in the run.
  const cursors = new Map<string, number>();
  let sent = 0;
  let owed = 0;
  let last = 0;
  const fire = () => {
    const target = sent++ % plan.targets.length;
    const route = nextRoute();
    const cursorKey = `${route.route} ${target}`;
    const cursor = cursors.get(cursorKey) ?? 0;
    cursors.set(cursorKey, cursor + 1);
    const url = `${plan.targets[target]}${route.paths[cursor % route.paths.length]}`;
    const init: RequestInit = { method: route.method, signal: AbortSignal.timeout(plan.clientTimeoutMs) };
    if (route.body !== undefined) {
      init.body = route.body;
      init.headers = { 'content-type': 'application/json' };
    }
    const t0 = performance.now();
    const record = (status: number, stale: boolean): void => {
      samples.push({ t: t0 - start, ms: performance.now() - t0, status, target, route: route.route, stale });
    };
    const p = fetch(url, init)
      .then(async (res) => {
        await res.arrayBuffer();
        record(res.status, res.headers.get('x-stale') === '1');
      })
      .catch(() => record(0, false))
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

// As a child process: runs each plan it is sent, one after the other, and answers `{ samples }`.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  process.on('message', async (plan: LoadPlan) => {
    const samples = await runLoad(plan);
    process.send?.({ samples });
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}
