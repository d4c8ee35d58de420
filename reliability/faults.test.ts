// Faults: the upstream process killed and restarted on the same port, Redis killed and restarted,
// client connections reset mid-request. Each ends with the service answering 200 again and nothing
// leaked: requests in flight, bulkhead slots and queues back to 0, sockets, handles and ref'd
// timers back to the pre-fault baseline, and every counter consistent.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { reachable } from '../examples/lab/src/processes.js';
import {
  type Child,
  Checks,
  type Debug,
  type Resources,
  type Sample,
  byStatus,
  count,
  counterChecks,
  debug,
  freePort,
  http,
  kill,
  policy,
  resourceGrowth,
  runLoad,
  setFaults,
  sleep,
  startService,
  startUpstream,
  stopChild,
  until,
  upstreamStats,
  writeArtifact,
} from './harness.js';

const LOAD_MS = 8_000;
const LOAD_RPS = 60;
const PATHS = Array.from({ length: 20 }, (_, i) => `/api/items/${i}`);

interface FaultReport {
  name: string;
  survived: boolean;
  requests: number;
  byStatus: Record<string, number>;
  checks: Checks['list'];
  lost: number;
  leaked: number;
}
const reports: FaultReport[] = [];
const running: Child[] = [];
const others: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(stopChild));
  for (const p of others.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  writeArtifact('faults', { suite: 'faults', faults: reports });
});

async function start(redisUrl = ''): Promise<{ upstream: Child; service: Child }> {
  const upstream = await startUpstream();
  running.push(upstream);
  const service = await startService(`http://127.0.0.1:${upstream.port}`, redisUrl);
  running.push(service);
  return { upstream, service };
}

/** A few requests, one at a time, until both breakers are closed and the service answers 200. */
async function healthy(port: number): Promise<Debug> {
  return until(
    async () => {
      await http(port, '/api/items/health');
      return debug(port);
    },
    (d) =>
      d.metrics.every((p) => p.circuit === undefined || p.circuit === 'closed') &&
      (d.own.routes.items.statuses[200] ?? 0) > 0,
    20_000,
    100,
  ).then(async (d) => {
    const last = await http(port, '/api/items/health');
    if (last.status !== 200) throw new Error(`the service answers ${last.status} after the fault`);
    return d;
  });
}

/**
 * The resources of an idle service: sockets, handles and ref'd timers once idle keep-alive
 * connections have closed (polled until two readings agree).
 */
async function baseline(port: number): Promise<Resources> {
  let previous = '';
  const d = await until(
    () => debug(port),
    (d) => {
      const now = JSON.stringify(d.resources);
      const same = now === previous && d.own.inflight === 0;
      previous = now;
      return same;
    },
    10_000,
    1_000,
  );
  return d.resources;
}

/** Idle again: nothing in flight, every probed call settled, and resources back to `base`. */
async function settled(port: number, base: Resources): Promise<Debug> {
  return until(
    () => debug(port),
    (d) =>
      d.own.inflight === 0 &&
      Object.values(d.probes).every((p) => p.settled === p.entered) &&
      d.occupancy.outboundBulkhead.executing === 0 &&
      d.occupancy.outboundBulkhead.queued === 0 &&
      (d.occupancy.throttleQueued ?? 0) === 0 &&
      resourceGrowth(base, d.resources).length === 0,
    20_000,
    500,
  );
}

/**
 * The inbound bulkhead still has every slot: as many requests as it has slots, each held ~400 ms
 * by a slow upstream, all get in at once. A leaked slot would make one wait past the 150 ms queue
 * timeout and get a 503.
 */
async function inboundCapacity(service: Child, upstream: Child, slots: number): Promise<Record<string, number>> {
  await setFaults(upstream.port, { medianMs: 400, sigma: 0.05 });
  try {
    const answers = await Promise.all(
      Array.from({ length: slots }, (_, i) => http(service.port, `/api/items/capacity-${i}`)),
    );
    const statuses: Record<string, number> = {};
    for (const a of answers) {
      // A refusal is told apart by its problem+json code (or the handler's error name).
      let why = '';
      if (a.status !== 200) {
        try {
          const body = JSON.parse(a.body) as { code?: string; error?: string; detail?: string };
          why = ` ${body.code ?? body.error ?? ''} ${body.detail ?? ''}`.trimEnd();
        } catch {}
      }
      const key = `${a.status}${why}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    return statuses;
  } finally {
    await setFaults(upstream.port, {});
  }
}

/** What every fault ends with; returns the checks for the report. */
async function endChecks(checks: Checks, service: Child, upstream: Child, base: Resources): Promise<Debug> {
  await healthy(service.port);
  const end = await settled(service.port, base);
  checks.ok('the service answers 200 again', true, 'healthy()');
  checks.eq('unhandled rejections', end.seen.unhandledRejections, 0);
  checks.eq('uncaught exceptions', end.seen.uncaughtExceptions, 0);
  checks.eq('console.error/warn calls', end.seen.logged, 0);
  checks.eq('process warnings', end.seen.warnings, 0);
  checks.eq('in flight at the end', end.own.inflight, 0);
  checks.eq('outbound bulkhead slots held', end.occupancy.outboundBulkhead.executing, 0);
  checks.eq('outbound bulkhead queue', end.occupancy.outboundBulkhead.queued, 0);
  checks.eq('throttle queue', end.occupancy.throttleQueued ?? 0, 0);
  const grown = resourceGrowth(base, end.resources);
  checks.ok(
    'sockets, handles and timers back to the baseline (±2 per type, ±4 in all)',
    grown.length === 0,
    grown.length === 0 ? JSON.stringify(end.resources) : grown.join(', '),
  );
  counterChecks(end, checks);
  const slots = 32;
  const capacity = await inboundCapacity(service, upstream, slots);
  checks.ok(
    `inbound bulkhead: ${slots} concurrent requests all get a slot`,
    capacity[200] === slots,
    JSON.stringify(capacity),
  );
  return end;
}

function report(name: string, checks: Checks, samples: Sample[], end: Debug): void {
  const client = byStatus(samples);
  reports.push({
    name,
    survived: checks.failed.length === 0,
    requests: samples.length,
    byStatus: client,
    checks: checks.list,
    lost:
      (client[0] ?? 0) + end.own.inflight + Object.values(end.probes).reduce((n, p) => n + p.entered - p.settled, 0),
    leaked:
      end.occupancy.outboundBulkhead.executing +
      end.occupancy.outboundBulkhead.queued +
      (end.occupancy.throttleQueued ?? 0) +
      checks.list.filter((c) => !c.ok && /baseline|slot/.test(c.name)).length,
  });
}

/**
 * Runs `LOAD_MS` of load while `faults` run alongside; returns the load's samples, after checking
 * that the service received every request the client sent.
 */
async function underLoad(service: Child, checks: Checks, faults: () => Promise<void>): Promise<Sample[]> {
  const before = await debug(service.port);
  const load = runLoad({
    targets: [`http://127.0.0.1:${service.port}`],
    paths: PATHS,
    segments: [{ untilMs: LOAD_MS, rps: LOAD_RPS }],
    clientTimeoutMs: 10_000,
  });
  const [samples] = await Promise.all([load, faults()]);
  const after = await debug(service.port);
  checks.eq('service received what the client sent', after.own.all.received - before.own.all.received, samples.length);
  const unanswered = samples.filter((s) => s.status === 0).map((s) => Math.round(s.ms));
  checks.ok(
    'client: every request got an HTTP answer',
    unanswered.length === 0,
    unanswered.length === 0
      ? `${samples.length} answered`
      : `${unanswered.length} unanswered, after ${Math.min(...unanswered)}–${Math.max(...unanswered)} ms`,
  );
  return samples;
}

async function warmUp(port: number): Promise<void> {
  for (let i = 0; i < 30; i++) await http(port, `/api/items/warm-${i % 10}`);
}

describe('faults', () => {
  it('upstream process killed and restarted on the same port', { timeout: 120_000 }, async () => {
    let { upstream, service } = await start();
    await warmUp(service.port);
    const base = await baseline(service.port);
    const port = upstream.port;
    let downFor = 0;
    const checks = new Checks();
    const samples = await underLoad(service, checks, async () => {
      await sleep(2_000);
      await kill(upstream);
      const down = Date.now();
      await sleep(2_000);
      upstream = await startUpstream(port);
      running.push(upstream);
      downFor = Date.now() - down;
    });
    const client = byStatus(samples);
    checks.ok('the outage was seen (non-200 answers)', samples.length - (client[200] ?? 0) > 0, JSON.stringify(client));
    checks.ok('the upstream was down ≥ 2 s', downFor >= 2_000, `${downFor} ms`);
    const end = await endChecks(checks, service, upstream, base);
    report('upstream killed and restarted', checks, samples, end);
    expect(checks.failed, end.seen.messages.join('\n')).toEqual([]);
  });

  it('Redis killed and restarted mid-run (a private redis-server)', { timeout: 120_000 }, async () => {
    const redisPort = await freePort();
    const startRedis = async (): Promise<ChildProcess> => {
      const p = spawn(
        'redis-server',
        ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      others.push(p);
      await until(
        () => reachable(redisPort),
        (up) => up,
        10_000,
        100,
      );
      return p;
    };
    let redis = await startRedis();
    const { upstream, service } = await start(`redis://127.0.0.1:${redisPort}`);
    await warmUp(service.port);
    const ready = await until(
      () => debug(service.port),
      (d) => d.redis?.status === 'ready',
      10_000,
    );
    expect(ready.redis?.status).toBe('ready');
    const base = await baseline(service.port);
    const checks = new Checks();
    const samples = await underLoad(service, checks, async () => {
      await sleep(2_000);
      await new Promise((resolve) => {
        redis.once('exit', resolve);
        redis.kill('SIGKILL');
      });
      await sleep(2_000);
      redis = await startRedis();
    });
    const afterLoad = await until(
      () => debug(service.port),
      (d) => d.redis?.status === 'ready',
      15_000,
    );
    const storeErrors = count(policy(afterLoad, 'upstream.quota'), 'ratelimit.store-error');
    // With Redis back, the store decides again: a few more calls add no store error.
    for (let i = 0; i < 10; i++) await http(service.port, `/api/items/redis-back-${i}`);
    const later = await debug(service.port);
    checks.ok(
      'Redis reconnected',
      later.redis?.status === 'ready',
      `${later.redis?.status}, ${later.redis?.connects} connects`,
    );
    checks.ok('the outage was seen (store errors, failing open)', storeErrors > 0, `${storeErrors} store errors`);
    checks.eq(
      'no store error once Redis is back',
      count(policy(later, 'upstream.quota'), 'ratelimit.store-error'),
      storeErrors,
    );
    const end = await endChecks(checks, service, upstream, base);
    report('Redis killed and restarted', checks, samples, end);
    expect(checks.failed, end.seen.messages.join('\n')).toEqual([]);
  });

  it('client connections reset mid-request', { timeout: 120_000 }, async () => {
    const { upstream, service } = await start();
    await warmUp(service.port);
    const base = await baseline(service.port);
    const before = await debug(service.port);
    const upstreamBefore = await upstreamStats(upstream.port);
    // Slow answers, so that requests are mid-flight (in the handler, awaiting the upstream) when cut.
    await setFaults(upstream.port, { medianMs: 400, sigma: 0.05 });

    const raw = (request: string, afterMs: number, how: 'reset' | 'close') =>
      new Promise<void>((resolve) => {
        const socket = connect(service.port, '127.0.0.1', () => {
          socket.write(request);
          setTimeout(() => {
            if (how === 'reset') socket.resetAndDestroy();
            else socket.destroy();
            resolve();
          }, afterMs);
        });
        socket.on('error', () => resolve());
      });
    const full = (i: number) => `GET /api/items/reset-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const half = (i: number) => `GET /api/items/half-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Part`;
    const aborted = async (i: number) => {
      await fetch(`http://127.0.0.1:${service.port}/api/items/abort-${i}`, { signal: AbortSignal.timeout(150) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    };
    const tried = { half: 20, midFlight: 40, fetchAborted: 20, burst: 100 };
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => raw(half(i), 50, 'reset')),
      ...Array.from({ length: 10 }, (_, i) => raw(half(i), 50, 'close')),
      ...Array.from({ length: 20 }, (_, i) => raw(full(i), 150, 'reset')),
      ...Array.from({ length: 20 }, (_, i) => raw(full(i), 150, 'close')),
      ...Array.from({ length: 20 }, (_, i) => aborted(i)),
    ]);
    // A burst past the bulkhead (32 running + 32 queued), every client gone after 100 ms: queued
    // requests must leave the queue, running ones free their slot.
    await Promise.all(
      Array.from({ length: tried.burst }, (_, i) => raw(full(1_000 + i), 100, i % 2 ? 'reset' : 'close')),
    );
    await setFaults(upstream.port, {});

    const checks = new Checks();
    const idle = await settled(service.port, base);
    const received = idle.own.all.received - before.own.all.received;
    const closedEarly = idle.own.all.closedEarly - before.own.all.closedEarly;
    const upstreamAfter = await upstreamStats(upstream.port);
    checks.ok(
      'cut requests reached the app and were counted as closed early',
      closedEarly > 0,
      `${closedEarly} of ${received} received`,
    );
    checks.ok(
      'the handler saw its upstream call aborted',
      idle.own.outbound.aborted > 0,
      `${idle.own.outbound.aborted} aborted outbound calls`,
    );
    checks.ok(
      'the abort reached the upstream (its request was cancelled)',
      upstreamAfter.aborted > upstreamBefore.aborted,
      `${upstreamAfter.aborted - upstreamBefore.aborted} cancelled at the upstream`,
    );
    const end = await endChecks(checks, service, upstream, base);
    reports.push({
      name: 'client connections reset mid-request',
      survived: checks.failed.length === 0,
      requests: tried.half + tried.midFlight + tried.fetchAborted + tried.burst,
      byStatus: {},
      checks: checks.list,
      lost: end.own.inflight + Object.values(end.probes).reduce((n, p) => n + p.entered - p.settled, 0),
      leaked:
        end.occupancy.outboundBulkhead.executing +
        end.occupancy.outboundBulkhead.queued +
        checks.list.filter((c) => !c.ok && /baseline|slot/.test(c.name)).length,
    });
    expect(checks.failed, end.seen.messages.join('\n')).toEqual([]);
  });
});
