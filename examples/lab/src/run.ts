// Runs one scenario in one mode on real processes and returns what the client and upstream saw.
import type { LoadPlan, Sample } from './loadgen.js';
import { type Child, startChild, stopChild } from './processes.js';
import type { Scenario } from './scenarios.js';

export type Mode = 'baseline' | 'palisade';

export interface RunResult {
  scenario: string;
  mode: Mode;
  durationMs: number;
  samples: Sample[];
  upstreamCalls: number;
  upstreamDuringOutage?: number;
  outage?: { fromMs: number; toMs: number };
}

export interface RunOptions {
  scale: number;
  /** Fixed port of the first service, so the dashboard URL stays the same across runs. */
  firstServicePort: number;
  onProgress?: (fraction: number) => void;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }).then(
    (r) => r.text(),
  );
const upstreamCount = async (base: string) =>
  ((await (await fetch(`${base}/__stats`)).json()) as { requests: number }).requests;

export async function runScenario(scenario: Scenario, mode: Mode, options: RunOptions): Promise<RunResult> {
  const durationMs = Math.round(scenario.durationMs * options.scale);
  let upstream: Child | undefined;
  const services: Child[] = [];
  let loadgen: Child | undefined;
  try {
    upstream = await startChild('upstream.ts', { PORT: '0', SEED: String(scenario.name.length) });
    const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
    const count = scenario.services ?? 1;
    const labRun = `${scenario.name}-${mode}-${process.pid}-${Date.now()}`;
    for (let i = 0; i < count; i++) {
      services.push(
        await startChild('service.ts', {
          PORT: String(i === 0 ? options.firstServicePort : 0),
          UPSTREAM: upstreamUrl,
          MODE: mode,
          FRAMEWORK: i % 2 === 0 ? 'express' : 'hono',
          SCENARIO: scenario.name,
          FLEET_SIZE: String(count),
          INSTANCE: String(i),
          LAB_RUN: labRun,
        }),
      );
    }
    await post(`${upstreamUrl}/__faults`, scenario.faults(durationMs)[0]?.faults ?? {});
    await fetch(`${upstreamUrl}/__reset`);
    loadgen = await startChild('loadgen.ts', {});
    const plan: LoadPlan = {
      targets: services.map((s) => `http://127.0.0.1:${s.port}`),
      paths: Array.from({ length: 50 }, (_, i) => `/api/items/${i}`),
      segments: scenario.load(durationMs),
      clientTimeoutMs: scenario.clientTimeoutMs,
    };
    const outage = scenario.outage
      ? { fromMs: scenario.outage[0] * durationMs, toMs: scenario.outage[1] * durationMs }
      : undefined;
    let atOutageStart = 0;
    let atOutageEnd = 0;
    const started = Date.now();
    const timers: NodeJS.Timeout[] = [];
    for (const step of scenario.faults(durationMs).slice(1)) {
      timers.push(
        setTimeout(() => {
          void (async () => {
            if (outage && step.atMs === outage.fromMs) atOutageStart = await upstreamCount(upstreamUrl);
            if (outage && step.atMs === outage.toMs) atOutageEnd = await upstreamCount(upstreamUrl);
            await post(`${upstreamUrl}/__faults`, step.faults);
          })();
        }, step.atMs),
      );
    }
    const progress = setInterval(() => options.onProgress?.(Math.min(1, (Date.now() - started) / durationMs)), 200);
    const samples = await new Promise<Sample[]>((resolve, reject) => {
      loadgen?.process.once('message', (m: { samples: Sample[] }) => resolve(m.samples));
      loadgen?.process.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
      loadgen?.process.send(plan);
    });
    clearInterval(progress);
    for (const t of timers) clearTimeout(t);
    options.onProgress?.(1);
    const upstreamCalls = await upstreamCount(upstreamUrl);
    const result: RunResult = { scenario: scenario.name, mode, durationMs, samples, upstreamCalls };
    if (outage) {
      result.outage = outage;
      result.upstreamDuringOutage = atOutageEnd - atOutageStart;
    }
    return result;
  } finally {
    await Promise.all([stopChild(loadgen), ...services.map(stopChild), stopChild(upstream)]);
  }
}
