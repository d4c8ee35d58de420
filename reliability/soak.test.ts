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
  type Sample,
  type UpstreamStats,
  byStatus,
  count,
  counterChecks,
  debug,
  describeBusy,
  busyCount,
  http,
  minus,
  policy,
  quiet,
  redisOrSkip,
  runLoad,
  setFaults,
  sleep,
  startService,
  startUpstream,
  stopChild,
  sum,
  until,
  upstreamStats,
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

/** The `p`-th percentile of `values` (0 when empty). */
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** What happened in one phase of the run, measured (see the artifact's `phases`). */
interface PhaseReport {
  name: string;
  /** The upstream took the faults (POST /__faults answered). */
  applied: boolean;
  fromMs: number;
  toMs: number;
  /** Client requests started in the phase, by status; their p99 latency. */
  requests: number;
  byStatus: Record<string, number>;
  p99Ms: number;
  /** What the upstream counted meanwhile: errors it answered, requests it saw cancelled. */
  upstreamErrors: number;
  upstreamCancelled: number;
  /** The fault reached the service (see `seenBy`). */
  seen: boolean;
  seenBy: string;
  /** Every request started in the phase got an HTTP answer. */
  answeredDuring: boolean;
  /** A request started after the phase ended was answered 200. */
  answeredAfter: boolean;
}

/** Index `i` of the round-robin over PATHS goes to the rate-limited route. */
const isLimited = (i: number): boolean => (PATHS[i % PATHS.length] as string).startsWith('/api/limited/');

describe(`soak: ${SOAK_MS / 1_000} s at ${RPS} requests/s`, () => {
  let upstream: Child;
  let service: Child;
  let redisUrl: string | undefined;

  beforeAll(async () => {
    redisUrl = await redisOrSkip('the soak (its Redis-backed throttle)');
    upstream = await startUpstream();
    service = await startService(`http://127.0.0.1:${upstream.port}`, redisUrl ?? '');
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

    let started = Date.now();
    let loading = true;
    /** Each phase as applied: when (ms from the load's start) and the upstream's counts just before. */
    const applied: { name: string; at: number; ok: boolean; stats: UpstreamStats | undefined }[] = [];
    let startLoad: () => void = () => {};
    const loadStarted = new Promise<void>((resolve) => {
      startLoad = resolve;
    });
    const driver = (async () => {
      await loadStarted;
      for (const phase of PHASES) {
        await sleep(Math.max(0, started + phase.from * SOAK_MS - Date.now()));
        if (!loading) break;
        const stats = await upstreamStats(upstream.port).catch(() => undefined);
        const ok = await setFaults(upstream.port, phase.faults).then(
          () => true,
          () => false,
        );
        applied.push({ name: phase.name, at: Date.now() - started, ok, stats });
      }
    })();
    const heap: { t: number; bytes: number }[] = [];
    const sampler = (async () => {
      await loadStarted;
      const every = Math.max(1_000, SOAK_MS / 30);
      while (loading) {
        await sleep(every);
        if (!loading) break;
        // A sample the loaded machine could not take in time is skipped, not a failure.
        const d = await debug(service.port, { gc: true }).catch(() => undefined);
        if (d) heap.push({ t: Date.now() - started, bytes: d.heapUsed });
      }
    })();
    let samples: Sample[];
    try {
      samples = await runLoad(
        {
          targets: [`http://127.0.0.1:${service.port}`],
          paths: PATHS,
          segments: [{ untilMs: SOAK_MS, rps: RPS }],
          clientTimeoutMs: 10_000,
        },
        () => {
          started = Date.now();
          startLoad();
        },
      );
    } finally {
      loading = false;
      startLoad();
    }
    await Promise.all([sampler, driver]);
    const upstreamEnd = await upstreamStats(upstream.port);
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

    // Idle: nothing in flight, every probed call and attempt settled, every slot back, the
    // metrics still. The counters are compared only then.
    const { d: end, idle } = await quiet(service.port);
    // Still answering once the upstream is healthy again.
    const after = await until(
      () => http(service.port, '/api/items/after-soak'),
      (r) => r.status === 200,
      15_000,
    );

    const phases: PhaseReport[] = applied.map((phase, i) => {
      const next = applied[i + 1];
      const toMs = next?.at ?? Number.POSITIVE_INFINITY;
      const inPhase = samples.filter((s) => s.t >= phase.at && s.t < toMs);
      const statsEnd = next?.stats ?? upstreamEnd;
      const upstreamErrors = phase.stats && statsEnd ? statsEnd.errors - phase.stats.errors : 0;
      const upstreamCancelled = phase.stats && statsEnd ? statsEnd.aborted - phase.stats.aborted : 0;
      const p99Ms = percentile(
        inPhase.map((s) => s.ms),
        99,
      );
      return {
        name: phase.name,
        applied: phase.ok,
        fromMs: phase.at,
        toMs,
        requests: inPhase.length,
        byStatus: byStatus(inPhase),
        p99Ms,
        upstreamErrors,
        upstreamCancelled,
        seen: false,
        seenBy: '',
        answeredDuring: inPhase.every((s) => s.status !== 0),
        answeredAfter: samples.some((s) => s.t >= toMs && s.status === 200) || after.status === 200,
      };
    });
    // The latency tail against the phases without a fault. Hedging hides most of it from the
    // clients (what it cannot hide shows in their p99); what it leaves behind are the stalled
    // upstream requests it cancelled (a hedge won, an attempt timed out), which the upstream counts.
    const faultFree = phases.filter((p) => p.name === 'healthy' || p.name === 'recovered');
    const freeP99 = Math.min(...faultFree.map((p) => p.p99Ms));
    const rate = (list: PhaseReport[]) =>
      list.reduce((n, p) => n + p.upstreamCancelled, 0) /
      Math.max(
        1,
        list.reduce((n, p) => n + p.requests, 0),
      );
    const freeCancelled = rate(faultFree);
    for (const phase of phases) {
      if (phase.name === 'latency tail') {
        const cancelled = rate([phase]);
        phase.seen = phase.upstreamCancelled > 0 && (cancelled > 2 * freeCancelled || phase.p99Ms > 2 * freeP99);
        phase.seenBy = `${phase.upstreamCancelled} stalled upstream requests cancelled (${(100 * cancelled).toFixed(1)}% of requests; without a fault ${(100 * freeCancelled).toFixed(1)}%), client p99 ${phase.p99Ms.toFixed(0)} ms (without a fault ${freeP99.toFixed(0)} ms)`;
      } else {
        phase.seen = phase.upstreamErrors > 0;
        phase.seenBy = `${phase.upstreamErrors} upstream errors`;
      }
    }
    const faults = phases.filter((p) => p.name !== 'healthy' && p.name !== 'recovered');

    const checks = new Checks();
    const client = byStatus(samples);
    const served = minus(end.own.all.statuses, before.own.all.statuses);
    checks.eq('client: every request got an HTTP answer', client[0] ?? 0, 0);
    checks.eq('service received what the client sent', end.own.all.received - before.own.all.received, samples.length);
    const clientLimited = samples.reduce((n, _s, i) => n + (isLimited(i) ? 1 : 0), 0);
    const received = (route: 'items' | 'limited') => end.own.routes[route].received - before.own.routes[route].received;
    checks.eq("items: received = the client's requests to it", received('items'), samples.length - clientLimited);
    checks.eq("limited: received = the client's requests to it", received('limited'), clientLimited);
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
    for (const phase of faults) {
      checks.ok(`fault "${phase.name}" applied and seen`, phase.applied && phase.seen, phase.seenBy);
      checks.ok(
        `fault "${phase.name}": every request answered, a 200 after it`,
        phase.answeredDuring && phase.answeredAfter,
        JSON.stringify(phase.byStatus),
      );
    }
    if (redisUrl !== undefined) {
      const quota = end.probes['upstream.quota'];
      checks.ok(
        'Redis: the throttle decided on Redis',
        (quota?.entered ?? 0) > 0 && end.redis?.status === 'ready',
        `${quota?.entered ?? 0} calls, Redis ${end.redis?.status}`,
      );
      checks.eq(
        'Redis: no store error (it never went down)',
        count(policy(end, 'upstream.quota'), 'ratelimit.store-error'),
        0,
      );
    }
    checks.ok('went idle: nothing in flight, no call or attempt unsettled, no slot held', idle, describeBusy(end));
    checks.eq('answers 200 after the soak', after.status, 200);
    counterChecks(end, checks);

    const ok = client[200] ?? 0;
    const unanswered = client[0] ?? 0;
    const lost = unanswered + end.own.all.closedEarly;
    writeArtifact('soak', {
      suite: 'soak',
      passed: checks.failed.length === 0,
      durationMs: SOAK_MS,
      rps: RPS,
      redis: redisUrl === undefined ? 'skipped (no Redis answered)' : redisUrl,
      phases,
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
      lost,
      leaked: busyCount(end),
      failed: checks.failed.length,
    });
    expect(sum(client)).toBeGreaterThan((SOAK_MS / 1_000) * RPS * 0.5);
    expect(checks.failed, end.seen.messages.join('\n')).toEqual([]);
  });
});
