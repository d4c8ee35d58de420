// Faults: the upstream process killed and restarted on the same port, Redis killed and restarted,
// client connections reset mid-request. Each ends with the service answering 200 again and nothing
// leaked: requests in flight, bulkhead slots and queues back to 0, every handle, socket and timer
// of the service (ref'd or not) back to exactly the count it had before the fault, and every
// counter consistent.
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { reachable } from '../examples/lab/src/processes.js';
import {
  type Child,
  Checks,
  type Debug,
  type Resources,
  type Sample,
  busyCount,
  byStatus,
  count,
  counterChecks,
  debug,
  describeBusy,
  freePort,
  http,
  kill,
  policy,
  quiet,
  resourceDiff,
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
  /** What was done to the service's world. */
  injected: string;
  /** The service saw the fault (and how we know). */
  seen: boolean;
  seenBy: string;
  /** It answered 200 again afterwards. */
  answeredAfter: boolean;
  /** Every check of the fault held. */
  survived: boolean;
  requests: number;
  byStatus: Record<string, number>;
  checks: Checks['list'];
  /** Requests without an answer, plus calls or requests still unsettled at the end. */
  lost: number;
  /** Resources off the baseline (each one counted), plus slots and queue places still held. */
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
 * A quiescent service: idle (see `quiet`), no connection but the one asking, and no socket left to
 * the upstream (undici closes its keep-alive sockets within ~2.5 s of their last request, see
 * `startUpstream`). Its resources are compared only in this state, before and after the fault.
 */
function quiescent(d: Debug, upstreamPort: number): boolean {
  return d.connections === 1 && (d.live.tcpByPeerPort[upstreamPort] ?? 0) === 0;
}

/**
 * The longest delay of a one-shot timer the service arms while idle: a policy's shared timer queue
 * keeps its runtime timer armed until it fires, up to its delay after the last call (the inbound
 * route timeout's 2.5 s is the longest). Resources unchanged for longer than this are the idle set.
 */
const LONGEST_TIMER_MS = 3_000;

/**
 * The service's resources when quiescent: every handle, socket and timer, ref'd or unref'd, by type,
 * read at least {@link LONGEST_TIMER_MS} after the last request (`lastRequestAt`), so that no timer
 * that request armed is still pending, and once nothing is in flight and no socket to the upstream
 * is left.
 */
async function baseline(port: number, upstreamPort: number, lastRequestAt: number): Promise<Resources> {
  await sleep(lastRequestAt + LONGEST_TIMER_MS - Date.now());
  const end = Date.now() + 20_000;
  for (;;) {
    const { d, idle } = await quiet(port);
    if (idle && quiescent(d, upstreamPort)) return d.live.byType;
    if (Date.now() >= end) throw new Error(`no quiescent baseline within 20 s: ${describeBusy(d)}`);
    await sleep(250);
  }
}

/**
 * Quiescent again with exactly the baseline's resources, polled for up to 20 s (sockets to the
 * upstream close within its keep-alive, shared timers within their delay); past that, the last
 * snapshot is returned with what differs, for the checks to fail on.
 */
async function settled(port: number, upstreamPort: number, base: Resources): Promise<{ end: Debug; diff: string[] }> {
  const until = Date.now() + 20_000;
  for (;;) {
    const { d, idle } = await quiet(port);
    const diff = resourceDiff(base, d.live.byType);
    if (!idle) diff.push(`not idle: ${describeBusy(d)}`);
    if (!quiescent(d, upstreamPort)) {
      diff.push(`${d.connections} connections, ${d.live.tcpByPeerPort[upstreamPort] ?? 0} sockets to the upstream`);
    }
    if (diff.length === 0 || Date.now() >= until) return { end: d, diff };
    await sleep(250);
  }
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

/** What every fault ends with: the service answers 200, goes quiescent with nothing leaked, counters add up. */
async function endChecks(
  checks: Checks,
  service: Child,
  upstream: Child,
  base: Resources,
): Promise<{ end: Debug; diff: string[]; answeredAfter: boolean }> {
  const answeredAfter = await healthy(service.port).then(
    () => true,
    () => false,
  );
  checks.ok('the service answers 200 again', answeredAfter, 'healthy()');
  const { end, diff } = await settled(service.port, upstream.port, base);
  checks.eq('unhandled rejections', end.seen.unhandledRejections, 0);
  checks.eq('uncaught exceptions', end.seen.uncaughtExceptions, 0);
  checks.eq('console.error/warn calls', end.seen.logged, 0);
  checks.eq('process warnings', end.seen.warnings, 0);
  checks.eq('in flight, unsettled calls and attempts, slots and queue places held', busyCount(end), 0);
  checks.ok(
    "every handle, socket and timer (ref'd or not) back to the baseline, exactly",
    diff.length === 0,
    diff.length === 0 ? `${end.live.total} live: ${JSON.stringify(end.live.byType)}` : diff.join(', '),
  );
  counterChecks(end, checks);
  const slots = 32;
  const capacity = await inboundCapacity(service, upstream, slots);
  checks.ok(
    `inbound bulkhead: ${slots} concurrent requests all get a slot`,
    capacity[200] === slots,
    JSON.stringify(capacity),
  );
  return { end, diff, answeredAfter };
}

/** Resources off the baseline, each one counted. */
function offBaseline(base: Resources, now: Resources): number {
  let n = 0;
  for (const type of new Set([...Object.keys(base), ...Object.keys(now)]))
    n += Math.abs((now[type] ?? 0) - (base[type] ?? 0));
  return n;
}

function report(
  fault: { name: string; injected: string; seen: boolean; seenBy: string },
  checks: Checks,
  samples: Sample[],
  outcome: { end: Debug; answeredAfter: boolean },
  base: Resources,
): void {
  const client = byStatus(samples);
  const { end } = outcome;
  const { executing, queued } = end.occupancy.outboundBulkhead;
  reports.push({
    ...fault,
    answeredAfter: outcome.answeredAfter,
    survived: fault.seen && checks.failed.length === 0,
    requests: samples.length,
    byStatus: client,
    checks: checks.list,
    lost:
      (client[0] ?? 0) + end.own.inflight + Object.values(end.probes).reduce((n, p) => n + p.entered - p.settled, 0),
    leaked: offBaseline(base, end.live.byType) + executing + queued + (end.occupancy.throttleQueued ?? 0),
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

/** JIT, connection pools and the hedge's history warmed up; returns when the last request ended. */
async function warmUp(port: number): Promise<number> {
  for (let i = 0; i < 30; i++) await http(port, `/api/items/warm-${i % 10}`);
  return Date.now();
}

describe('faults', () => {
  it('upstream process killed and restarted on the same port', { timeout: 120_000 }, async () => {
    let { upstream, service } = await start();
    const warmedAt = await warmUp(service.port);
    const base = await baseline(service.port, upstream.port, warmedAt);
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
    const non200 = samples.length - (client[200] ?? 0);
    checks.ok('the outage was seen (non-200 answers)', non200 > 0, JSON.stringify(client));
    checks.ok('the upstream was down ≥ 2 s', downFor >= 2_000, `${downFor} ms`);
    const outcome = await endChecks(checks, service, upstream, base);
    const fault = {
      name: 'upstream killed and restarted',
      injected: `SIGKILL, down ${downFor} ms, restarted on port ${port}`,
      seen: non200 > 0,
      seenBy: `${non200} non-200 answers`,
    };
    report(fault, checks, samples, outcome, base);
    expect(checks.failed, outcome.end.seen.messages.join('\n')).toEqual([]);
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
    const warmedAt = await warmUp(service.port);
    const ready = await until(
      () => debug(service.port),
      (d) => d.redis?.status === 'ready',
      10_000,
    );
    expect(ready.redis?.status).toBe('ready');
    const base = await baseline(service.port, upstream.port, warmedAt);
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
    const outcome = await endChecks(checks, service, upstream, base);
    const fault = {
      name: 'Redis killed and restarted',
      injected: `SIGKILL of redis-server, restarted empty after 2 s (${later.redis?.connects} connects)`,
      seen: storeErrors > 0,
      seenBy: `${storeErrors} store errors, failing open`,
    };
    report(fault, checks, samples, outcome, base);
    expect(checks.failed, outcome.end.seen.messages.join('\n')).toEqual([]);
  });

  it('client connections reset mid-request', { timeout: 120_000 }, async () => {
    const { upstream, service } = await start();
    const warmedAt = await warmUp(service.port);
    const base = await baseline(service.port, upstream.port, warmedAt);
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
    // A client that aborts its request (its own connection: no keep-alive socket of the test's
    // survives to be counted against the service).
    const aborted = (i: number) =>
      new Promise<void>((resolve) => {
        const req = request({
          host: '127.0.0.1',
          port: service.port,
          path: `/api/items/abort-${i}`,
          agent: false,
          signal: AbortSignal.timeout(150),
        });
        req.on('response', (res) =>
          res
            .resume()
            .on('end', resolve)
            .on('error', () => resolve()),
        );
        req.on('error', () => resolve());
        req.end();
      });
    const tried = { half: 20, midFlight: 40, aborted: 20, burst: 100 };
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
    const { d: idle } = await quiet(service.port);
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
    const outcome = await endChecks(checks, service, upstream, base);
    const fault = {
      name: 'client connections reset mid-request',
      injected: `${tried.half} half-sent, ${tried.midFlight} reset or closed mid-flight, ${tried.aborted} aborted, a burst of ${tried.burst} past the bulkhead, all gone`,
      seen: closedEarly > 0 && idle.own.outbound.aborted > 0,
      seenBy: `${closedEarly} closed early, ${idle.own.outbound.aborted} outbound calls aborted`,
    };
    // No load generator here: the requests are the ones cut, none of which gets an answer.
    report(fault, checks, [], outcome, base);
    reports[reports.length - 1] = {
      ...(reports[reports.length - 1] as FaultReport),
      requests: tried.half + tried.midFlight + tried.aborted + tried.burst,
    };
    expect(checks.failed, outcome.end.seen.messages.join('\n')).toEqual([]);
  });
});
