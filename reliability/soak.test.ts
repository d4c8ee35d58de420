// Soak: the service under sustained open-loop load from a second process (the lab's load
// generator) while the upstream goes through errors, a latency tail and an outage. Nothing may go
// unanswered, unhandled or logged; the event loop stays responsive, the heap flat, and every
// counter adds up.
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Faults } from '../examples/lab/src/upstream.js';
import {
  CI,
  type Child,
  Checks,
  byStatus,
  counterChecks,
  debug,
  http,
  minus,
  runLoad,
  setFaults,
  sleep,
  startService,
  startUpstream,
  stopChild,
  sum,
  until,
  writeArtifact,
} from './harness.js';

const SOAK_MS = Number(process.env.SOAK_MS ?? (CI ? 60_000 : 15_000));
/**
 * The service spends ~4–5 ms of CPU per request (Express, two fetches' worth of undici, the
 * policies): 50/s keeps it at a quarter of a core, so a 2-core CI box holds it with room to spare.
 */
const RPS = Number(process.env.SOAK_RPS ?? 50);
/**
 * Generous: a loaded 2-core machine runs this service, the upstream, the load generator and vitest.
 * Added to it is the delay the machine imposes on a nearly idle process (the test's own event
 * loop, measured alongside): a machine saturated by other work delays every process, and that is
 * not the service's doing.
 */
const MAX_LOOP_P99_MS = 200;
/** Heap after a full GC in the last third may exceed the first third's by 25% + 8 MB at most. */
const heapBound = (first: number) => first * 1.25 + 8 * 2 ** 20;

/** What the upstream does, from each fraction of the run on. */
const PHASES: { from: number; name: string; faults: Partial<Faults> }[] = [
  { from: 0, name: 'healthy', faults: {} },
  { from: 0.15, name: '20% errors', faults: { errorRate: 0.2 } },
  { from: 0.35, name: 'latency tail', faults: { tailRate: 0.05, tailMinMs: 200, tailMaxMs: 1_200 } },
  { from: 0.55, name: 'outage', faults: { outage: true, outageDelayMs: 100 } },
  { from: 0.7, name: 'recovered', faults: {} },
];

/** 9 in 10 requests go to the protected route, 1 in 10 to the one rate limited at 10/s. */
const PATHS = Array.from({ length: 50 }, (_, i) => (i % 10 === 9 ? `/api/limited/${i}` : `/api/items/${i}`));

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

describe(`soak: ${SOAK_MS / 1_000} s at ${RPS} requests/s`, () => {
  let upstream: Child;
  let service: Child;

  beforeAll(async () => {
    upstream = await startUpstream();
    service = await startService(`http://127.0.0.1:${upstream.port}`);
  });

  afterAll(async () => {
    await stopChild(service);
    await stopChild(upstream);
  });

  it('answers every request through errors, a latency tail and an outage, and leaks nothing', {
    timeout: SOAK_MS + 120_000,
  }, async () => {
    // Warm-up (JIT, connection pools, the hedge's latency history), then a clean slate for the loop.
    for (let i = 0; i < 50; i++) await http(service.port, `/api/items/${i}`);
    const before = await debug(service.port, { gc: true, resetLoop: true });
    const machine = monitorEventLoopDelay({ resolution: 10 });
    machine.enable();
    const loadBefore = os.loadavg()[0] as number;

    const timers = PHASES.slice(1).map((phase) =>
      setTimeout(() => void setFaults(upstream.port, phase.faults).catch(() => {}), phase.from * SOAK_MS),
    );
    const heap: { t: number; bytes: number }[] = [];
    const started = Date.now();
    let sampling = true;
    const sampler = (async () => {
      const every = Math.max(1_000, SOAK_MS / 30);
      while (sampling) {
        await sleep(every);
        if (!sampling) break;
        // A sample the loaded machine could not take in time is skipped, not a failure.
        const d = await debug(service.port, { gc: true }).catch(() => undefined);
        if (d) heap.push({ t: Date.now() - started, bytes: d.heapUsed });
      }
    })();
    let samples: Awaited<ReturnType<typeof runLoad>>;
    try {
      samples = await runLoad({
        targets: [`http://127.0.0.1:${service.port}`],
        paths: PATHS,
        segments: [{ untilMs: SOAK_MS, rps: RPS }],
        clientTimeoutMs: 10_000,
      });
    } finally {
      sampling = false;
      for (const timer of timers) clearTimeout(timer);
    }
    await sampler;
    await setFaults(upstream.port, {});
    const afterLoad = await debug(service.port);
    const loop = afterLoad.eventLoop;
    const cpu = {
      msPerRequest:
        (afterLoad.cpuMs - before.cpuMs) / Math.max(1, afterLoad.own.all.received - before.own.all.received),
      shareOfCore: (afterLoad.cpuMs - before.cpuMs) / (Date.now() - started),
      machineLoad1m: [loadBefore, os.loadavg()[0] as number],
      cores: os.cpus().length,
    };
    machine.disable();
    const machineP99Ms = machine.percentile(99) / 1e6;

    // Idle: nothing in flight, every probed call settled, every slot back.
    const end = await until(
      () => debug(service.port),
      (d) =>
        d.own.inflight === 0 &&
        Object.values(d.probes).every((p) => p.settled === p.entered) &&
        d.occupancy.outboundBulkhead.executing === 0 &&
        d.occupancy.outboundBulkhead.queued === 0,
      20_000,
    );
    // Still answering once the upstream is healthy again.
    const after = await until(
      () => http(service.port, '/api/items/after-soak'),
      (r) => r.status === 200,
      15_000,
    );

    const checks = new Checks();
    const client = byStatus(samples);
    const served = minus(end.own.all.statuses, before.own.all.statuses);
    checks.eq('client: every request got an HTTP answer', client[0] ?? 0, 0);
    checks.eq('service received what the client sent', end.own.all.received - before.own.all.received, samples.length);
    for (const status of new Set([...Object.keys(client), ...Object.keys(served)])) {
      if (status !== '0') checks.eq(`client and service agree on ${status}s`, client[status] ?? 0, served[status] ?? 0);
    }
    checks.eq('no connection closed before its answer', end.own.all.closedEarly, 0);
    checks.eq('unhandled rejections', end.seen.unhandledRejections, 0);
    checks.eq('uncaught exceptions', end.seen.uncaughtExceptions, 0);
    checks.eq('console.error/warn calls', end.seen.logged, 0);
    checks.eq('process warnings', end.seen.warnings, 0);
    checks.ok(
      `event-loop delay p99 < ${MAX_LOOP_P99_MS} ms + the machine's own`,
      loop.p99Ms < MAX_LOOP_P99_MS + machineP99Ms,
      `${loop.p99Ms.toFixed(1)} ms (an idle process on this machine: ${machineP99Ms.toFixed(1)} ms)`,
    );
    const firstThird = median(heap.filter((h) => h.t < SOAK_MS / 3).map((h) => h.bytes));
    const lastThird = median(heap.filter((h) => h.t >= (2 * SOAK_MS) / 3).map((h) => h.bytes));
    checks.ok(
      'heap after GC flat (last third ≤ first third × 1.25 + 8 MB)',
      heap.length >= 6 && lastThird <= heapBound(firstThird),
      `${(firstThird / 2 ** 20).toFixed(1)} MB → ${(lastThird / 2 ** 20).toFixed(1)} MB (${heap.length} samples)`,
    );
    checks.eq('in flight at the end', end.own.inflight, 0);
    checks.eq('outbound bulkhead slots held at the end', end.occupancy.outboundBulkhead.executing, 0);
    checks.eq('outbound bulkhead queue at the end', end.occupancy.outboundBulkhead.queued, 0);
    checks.eq('answers 200 after the soak', after.status, 200);
    counterChecks(end, checks);

    const ok = client[200] ?? 0;
    const unanswered = client[0] ?? 0;
    const unsettled = Object.values(end.probes).reduce((n, p) => n + p.entered - p.settled, 0);
    writeArtifact('soak', {
      suite: 'soak',
      durationMs: SOAK_MS,
      rps: RPS,
      phases: PHASES.map((p) => `${p.name} @ ${Math.round(p.from * 100)}%`),
      faults: PHASES.filter((p) => Object.keys(p.faults).length > 0).map((p) => p.name),
      requests: samples.length,
      byStatus: client,
      successPercent: samples.length === 0 ? 0 : (100 * ok) / samples.length,
      eventLoop: { ...loop, machineP99Ms },
      cpu,
      heap: { firstThirdBytes: firstThird, lastThirdBytes: lastThird, samples: heap },
      upstreamAttempts: end.attempts,
      metrics: end.metrics,
      probes: end.probes,
      checks: checks.list,
      lost: unanswered + unsettled + end.own.inflight + end.own.all.closedEarly,
      leaked: end.occupancy.outboundBulkhead.executing + end.occupancy.outboundBulkhead.queued,
      failed: checks.failed.length,
    });
    expect(sum(client)).toBeGreaterThan((SOAK_MS / 1_000) * RPS * 0.5);
    expect(checks.failed, end.seen.messages.join('\n')).toEqual([]);
  });
});
