// Runs one scenario in one mode on real processes and returns what the client and upstream saw.
import type { LoadPlan, Sample } from './loadgen.js';
import { type Child, startChild, stopChild } from './processes.js';
import type { Scenario } from './scenarios.js';

export type Mode = 'baseline' | 'palisade';
export type Framework = 'express' | 'hono';

/** The two routes of every service, as the load generator names them in its samples. */
export const ITEMS_ROUTE = 'GET /api/items/:id';
export const ORDERS_ROUTE = 'POST /api/orders';
/** Share of the requests that place an order (the rest read items). */
export const ORDERS_SHARE = 0.2;

export interface RunResult {
  scenario: string;
  mode: Mode;
  durationMs: number;
  samples: Sample[];
  /** The framework of each service, by `Sample.target`. */
  frameworks: Framework[];
  /** Every call that reached the upstream, orders included. */
  upstreamCalls: number;
  /** The orders (POST /orders) among them. */
  upstreamOrders: number;
  upstreamDuringOutage?: number;
  outage?: { fromMs: number; toMs: number };
}

/** The processes runs can share: the upstream (reset and reseeded by each run) and the load generator. */
export interface Rig {
  upstream: Child;
  loadgen: Child;
}

/** The service processes of one run, alternately Express and Hono. */
export interface Services {
  mode: Mode;
  frameworks: Framework[];
  children: Child[];
}

export interface RunOptions {
  scale: number;
  /** Fixed port of the palisade run's first service, so the dashboard URL stays the same across runs. */
  firstServicePort: number;
  /** Shared upstream and load generator (see `startRig`); without it the run starts its own. */
  rig?: Rig;
  /** This run's services, started beforehand with `startServices` (the caller stops them). */
  services?: Services;
  onProgress?: (fraction: number) => void;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }).then(
    (r) => r.text(),
  );
const upstreamStats = async (base: string) =>
  (await (await fetch(`${base}/__stats`)).json()) as { requests: number; orders: number };

/** Services alternate Express and Hono, the first (which serves the dashboard) on Express. */
export const frameworkOf = (index: number): Framework => (index % 2 === 0 ? 'express' : 'hono');

/**
 * Starts processes side by side (start-up is most of a run's overhead) and adds each one that
 * started to `started`, even when another failed, so that the caller can stop them all.
 */
async function startAll(specs: [file: string, env: Record<string, string>][], started: Child[]): Promise<Child[]> {
  const settled = await Promise.allSettled(specs.map(([file, env]) => startChild(file, env)));
  const children: Child[] = [];
  for (const s of settled) {
    if (s.status === 'rejected') continue;
    started.push(s.value);
    children.push(s.value);
  }
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return children;
}

async function startRigInto(started: Child[]): Promise<Rig> {
  const [upstream, loadgen] = await startAll(
    [
      ['upstream.ts', { PORT: '0' }],
      ['loadgen.ts', {}],
    ],
    started,
  );
  return { upstream: upstream as Child, loadgen: loadgen as Child };
}

/** Starts an upstream and a load generator for several runs to share; stop them with `stopRig`. */
export async function startRig(): Promise<Rig> {
  const started: Child[] = [];
  try {
    return await startRigInto(started);
  } catch (error) {
    await Promise.all(started.map(stopChild));
    throw error;
  }
}

export async function stopRig(rig: Rig | undefined): Promise<void> {
  if (rig) await Promise.all([stopChild(rig.loadgen), stopChild(rig.upstream)]);
}

/** Sends `plan` to the load generator and waits for its samples. */
function load(loadgen: Child, plan: LoadPlan): Promise<Sample[]> {
  return new Promise<Sample[]>((resolve, reject) => {
    const onMessage = (m: { samples?: Sample[] }) => {
      if (!m.samples) return;
      loadgen.process.off('exit', onExit);
      loadgen.process.off('message', onMessage);
      resolve(m.samples);
    };
    const onExit = (code: number | null) => {
      loadgen.process.off('message', onMessage);
      reject(new Error(`load generator exited with ${code}`));
    };
    loadgen.process.on('message', onMessage);
    loadgen.process.once('exit', onExit);
    loadgen.process.send(plan);
  });
}

/**
 * Before the measured load, each service reads every item once and places one order, one request
 * at a time: its cache, connections and compiled code are then those of a service that has been up
 * for a while, whatever the machine's load at start-up. (One at a time also keeps the fleet under
 * its shared quota.)
 */
async function warmUp(plan: LoadPlan): Promise<void> {
  const send = (url: string, init: RequestInit = {}) =>
    fetch(url, { ...init, signal: AbortSignal.timeout(5_000) }).then(
      (res) => res.arrayBuffer(),
      () => undefined,
    );
  await Promise.all(
    plan.targets.map(async (target) => {
      for (const path of plan.paths) await send(`${target}${path}`);
      for (const route of plan.routes ?? []) {
        const init: RequestInit = { method: route.method };
        if (route.body !== undefined) {
          init.body = route.body;
          init.headers = { 'content-type': 'application/json' };
        }
        for (const path of route.paths) await send(`${target}${path}`, init);
      }
    }),
  );
}

async function startServicesInto(
  scenario: Scenario,
  mode: Mode,
  rig: Rig,
  firstServicePort: number,
  started: Child[],
): Promise<Services> {
  const count = scenario.services ?? 2;
  const frameworks = Array.from({ length: count }, (_, i) => frameworkOf(i));
  const labRun = `${scenario.name}-${mode}-${process.pid}-${Date.now()}`;
  const children = await startAll(
    frameworks.map((framework, i) => [
      'service.ts',
      {
        // Only palisade's services serve the dashboard.
        PORT: String(i === 0 && mode === 'palisade' ? firstServicePort : 0),
        UPSTREAM: `http://127.0.0.1:${rig.upstream.port}`,
        MODE: mode,
        FRAMEWORK: framework,
        SCENARIO: scenario.name,
        FLEET_SIZE: String(count),
        INSTANCE: String(i),
        LAB_RUN: labRun,
      },
    ]),
    started,
  );
  return { mode, frameworks, children };
}

/**
 * Starts the services of `scenario` in `mode` against the rig's upstream. Starting the next run's
 * services while nothing is measured saves a start-up per run: idle, they cost no CPU.
 */
export async function startServices(
  scenario: Scenario,
  mode: Mode,
  rig: Rig,
  firstServicePort: number,
): Promise<Services> {
  const started: Child[] = [];
  try {
    return await startServicesInto(scenario, mode, rig, firstServicePort, started);
  } catch (error) {
    await Promise.all(started.map(stopChild));
    throw error;
  }
}

export async function stopServices(services: Services | undefined): Promise<void> {
  if (services) await Promise.all(services.children.map(stopChild));
}

export async function runScenario(scenario: Scenario, mode: Mode, options: RunOptions): Promise<RunResult> {
  const durationMs = Math.round(scenario.durationMs * options.scale);
  const own: Child[] = [];
  try {
    const rig = options.rig ?? (await startRigInto(own));
    const upstreamUrl = `http://127.0.0.1:${rig.upstream.port}`;
    const { frameworks, children: services } =
      options.services ?? (await startServicesInto(scenario, mode, rig, options.firstServicePort, own));
    const plan: LoadPlan = {
      targets: services.map((s) => `http://127.0.0.1:${s.port}`),
      route: ITEMS_ROUTE,
      // A catalogue of 20 items, each read by every service during the warm-up.
      paths: Array.from({ length: 20 }, (_, i) => `/api/items/${i}`),
      routes: [
        {
          route: ORDERS_ROUTE,
          share: ORDERS_SHARE,
          method: 'POST',
          paths: ['/api/orders'],
          body: JSON.stringify({ item: '7', quantity: 1 }),
        },
      ],
      segments: scenario.load(durationMs),
      clientTimeoutMs: scenario.clientTimeoutMs,
    };
    // Warm up on a healthy upstream, then set the scenario's faults and zero the counts.
    await post(`${upstreamUrl}/__faults`, {});
    await warmUp(plan);
    await post(`${upstreamUrl}/__faults`, scenario.faults(durationMs)[0]?.faults ?? {});
    await fetch(`${upstreamUrl}/__reset?seed=${scenario.name.length}`);
    const outage = scenario.outage
      ? { fromMs: scenario.outage[0] * durationMs, toMs: scenario.outage[1] * durationMs }
      : undefined;
    let atOutageStart = 0;
    let atOutageEnd = 0;
    const begun = Date.now();
    const timers: NodeJS.Timeout[] = [];
    const steps: Promise<void>[] = [];
    for (const step of scenario.faults(durationMs).slice(1)) {
      timers.push(
        setTimeout(() => {
          const applied = (async () => {
            if (outage && step.atMs === outage.fromMs) atOutageStart = (await upstreamStats(upstreamUrl)).requests;
            if (outage && step.atMs === outage.toMs) atOutageEnd = (await upstreamStats(upstreamUrl)).requests;
            await post(`${upstreamUrl}/__faults`, step.faults);
          })();
          applied.catch(() => {}); // awaited below; this only keeps an early exit from an unhandled rejection
          steps.push(applied);
        }, step.atMs),
      );
    }
    const progress = setInterval(() => options.onProgress?.(Math.min(1, (Date.now() - begun) / durationMs)), 200);
    let samples: Sample[];
    try {
      samples = await load(rig.loadgen, plan);
    } finally {
      clearInterval(progress);
      for (const t of timers) clearTimeout(t);
    }
    await Promise.all(steps);
    options.onProgress?.(1);
    const stats = await upstreamStats(upstreamUrl);
    const result: RunResult = {
      scenario: scenario.name,
      mode,
      durationMs,
      samples,
      frameworks,
      upstreamCalls: stats.requests,
      upstreamOrders: stats.orders,
    };
    if (outage) {
      result.outage = outage;
      result.upstreamDuringOutage = atOutageEnd - atOutageStart;
    }
    return result;
  } finally {
    await Promise.all(own.map(stopChild));
  }
}
