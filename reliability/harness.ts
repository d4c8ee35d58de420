// What the reliability tests share: the processes (the lab's upstream and load generator, this
// suite's service), plain HTTP helpers that hold no connection open, and the artifacts the summary
// table is printed from.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadPlan, Sample } from '../examples/lab/src/loadgen.js';
import { type Child, freePort, startChild, stopChild } from '../examples/lab/src/processes.js';
import type { Faults } from '../examples/lab/src/upstream.js';
import type { LiveResources } from './resources.js';
import { type ProbeCounts, zeroProbeCounts } from './probe-counts.js';

export { type Child, freePort, stopChild };
export type { Sample };

export const CI = Boolean(process.env.CI);
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/reliability/', import.meta.url));
const SERVICE = fileURLToPath(new URL('./service.ts', import.meta.url));

/** Requests the service received and how it answered them (see service.ts). */
export interface Traffic {
  received: number;
  /** Responses the client got in full, by status. */
  statuses: Record<string, number>;
  closedEarly: number;
  /** Responses ended (handed to Node), delivered or not, by status: what the inbound policies saw. */
  ended: Record<string, number>;
  /** Closed before a response was ended. */
  closedBeforeEnd: number;
  /** Reached the handler; of which closed before a response was ended. */
  handled: number;
  handledClosedBeforeEnd: number;
}

/** What the service's GET /__debug answers (see service.ts). */
export interface Debug {
  pid: number;
  seen: {
    unhandledRejections: number;
    uncaughtExceptions: number;
    logged: number;
    warnings: number;
    messages: string[];
  };
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
  heapUsed: number;
  /** CPU time the service has used (user + system), ms. */
  cpuMs: number;
  gcExposed: boolean;
  /** `process.getActiveResourcesInfo()` by type: ref'd resources only. */
  resources: Record<string, number>;
  live: LiveResources;
  connections: number;
  own: {
    all: Traffic;
    routes: { items: Traffic; limited: Traffic; other: Traffic };
    inflight: number;
    outbound: {
      calls: number;
      ok: number;
      httpError: number;
      threw: number;
      aborted: number;
      abortedBefore: number;
      errors: Record<string, number>;
    };
  };
  probes: Record<string, ProbeCounts>;
  /** Bulkhead queue exits and rejections by reason (`dequeued.aborted`, `rejected.full`, …), by policy name. */
  reasons: Record<string, Record<string, number>>;
  /** Breakers' `failure` events not matched to a failed call, by policy name. */
  unmatchedFailures: Record<string, number>;
  attempts: number;
  occupancy: { outboundBulkhead: { executing: number; queued: number }; throttleQueued: number | undefined };
  redis: { status: string; errors: number; connects: number } | undefined;
  metrics: {
    policy: string;
    name: string;
    counts: Record<string, number>;
    calls: number;
    rejected: number;
    circuit?: string;
  }[];
}

/** One HTTP request on a connection of its own, closed after the answer: it leaves nothing open. */
export function http(
  port: number,
  path: string,
  options: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        agent: false,
        headers: { connection: 'close', ...(body ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`${path}: no answer`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function debug(port: number, options: { gc?: boolean; resetLoop?: boolean } = {}): Promise<Debug> {
  const query = [options.gc ? 'gc' : '', options.resetLoop ? 'resetLoop' : ''].filter(Boolean).join('&');
  const res = await http(port, `/__debug${query ? `?${query}` : ''}`);
  return JSON.parse(res.body) as Debug;
}

/**
 * The lab's fault-injecting upstream, on `port` (0: any), closing idle connections after 2.5 s
 * (its `Keep-Alive: timeout=2` makes undici drop them after 1 s idle): the faults suite waits for
 * them to close before comparing the service's sockets.
 */
export function startUpstream(port = 0): Promise<Child> {
  return startChild('upstream.ts', { PORT: String(port), SEED: '7', KEEP_ALIVE_MS: '2500' });
}

export function setFaults(upstreamPort: number, faults: Partial<Faults>): Promise<unknown> {
  return http(upstreamPort, '/__faults', { method: 'POST', body: faults });
}

/** What the upstream counted: requests, 200s, errors it answered, requests cancelled by the caller. */
export interface UpstreamStats {
  requests: number;
  ok: number;
  errors: number;
  aborted: number;
}

export async function upstreamStats(upstreamPort: number): Promise<UpstreamStats> {
  return JSON.parse((await http(upstreamPort, '/__stats')).body);
}

/** The shared Redis the soak's throttle keeps its state in (the Redis fault test starts its own). */
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Whether a Redis answers PING at `url` within a second (a raw RESP exchange: no client to close). */
export function redisAnswers(url = REDIS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/**
 * The Redis URL for a suite's Redis-backed part, as the @palisade/redis integration tests gate
 * theirs: when no Redis answers, that part fails under CI (where Redis is always up) and is
 * skipped loudly otherwise (`undefined`).
 */
export async function redisOrSkip(what: string, url = REDIS_URL): Promise<string | undefined> {
  if (await redisAnswers(url)) return url;
  if (CI) throw new Error(`${what}: Redis does not answer at ${url} (required under CI)`);
  const line = '!'.repeat(100);
  console.warn(
    `\n${line}\n!! reliability: no Redis answers at ${url} — ${what} runs WITHOUT its Redis-backed part.\n` +
      `!! Start one (redis-server) or set REDIS_URL. Under CI=true this fails instead.\n${line}\n`,
  );
  return undefined;
}

/** This suite's service (with --expose-gc), calling `upstreamUrl`; Redis only when `redisUrl` is given. */
export function startService(upstreamUrl: string, redisUrl = ''): Promise<Child> {
  return startChild(SERVICE, {
    PORT: '0',
    UPSTREAM: upstreamUrl,
    REDIS_URL: redisUrl,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim(),
  });
}

/** SIGKILL: the process gets no chance to close anything. */
export function kill(child: Child): Promise<void> {
  const p = child.process;
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
}

/**
 * Runs the lab's open-loop load generator in a process of its own and returns every sample.
 * `onStart` is called as the plan is handed over: the samples' `t` counts from about then.
 */
export async function runLoad(plan: LoadPlan, onStart?: () => void): Promise<Sample[]> {
  const loadgen = await startChild('loadgen.ts', {});
  try {
    return await new Promise<Sample[]>((resolve, reject) => {
      loadgen.process.once('message', (m: { samples: Sample[] }) => resolve(m.samples));
      loadgen.process.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
      loadgen.process.send(plan);
      onStart?.();
    });
  } finally {
    await stopChild(loadgen);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value `ok` accepts, or `timeoutMs` passes (then the last value). */
export async function until<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 15_000,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() >= end) return value;
    await sleep(everyMs);
  }
}

/** Responses by status (0: no answer) from the load generator's samples. */
export function byStatus(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[s.status] = (counts[s.status] ?? 0) + 1;
  return counts;
}

/** A policy's counters in a /__debug snapshot (zeros when it never emitted). */
export function policy(d: Debug, name: string): { counts: Record<string, number>; calls: number; rejected: number } {
  const found = d.metrics.find((p) => p.name === name);
  return found ?? { counts: {}, calls: 0, rejected: 0 };
}

export const count = (p: { counts: Record<string, number> }, type: string): number => p.counts[type] ?? 0;

/** Live resources by type (ref'd and unref'd: see resources.ts). */
export type Resources = Record<string, number>;

/** Every type whose count differs between `base` and `now`, as `type: base → now` (empty: identical). */
export function resourceDiff(base: Resources, now: Resources): string[] {
  const diff: string[] = [];
  for (const type of new Set([...Object.keys(base), ...Object.keys(now)])) {
    if ((now[type] ?? 0) !== (base[type] ?? 0)) diff.push(`${type}: ${base[type] ?? 0} → ${now[type] ?? 0}`);
  }
  return diff.sort();
}

/**
 * Nothing in progress anywhere in the service: no request in flight, every probed call and every
 * run of its `fn` settled (a hedge's losers and a retry's attempt that outlived its caller
 * included), no bulkhead slot or queue place or throttle wait held.
 */
export function isIdle(d: Debug): boolean {
  return (
    d.own.inflight === 0 &&
    Object.values(d.probes).every((p) => p.settled === p.entered && p.running === 0) &&
    d.occupancy.outboundBulkhead.executing === 0 &&
    d.occupancy.outboundBulkhead.queued === 0 &&
    (d.occupancy.throttleQueued ?? 0) === 0
  );
}

/** What is still held or in progress in a snapshot: requests, calls, runs, slots (0 when idle). */
export function busyCount(d: Debug): number {
  const probes = Object.values(d.probes).reduce((n, p) => n + (p.entered - p.settled) + p.running, 0);
  const { executing, queued } = d.occupancy.outboundBulkhead;
  return d.own.inflight + probes + executing + queued + (d.occupancy.throttleQueued ?? 0);
}

/** Says what {@link busyCount} counts, for a check's detail. */
export function describeBusy(d: Debug): string {
  const busy = Object.entries(d.probes)
    .filter(([, p]) => p.settled !== p.entered || p.running !== 0)
    .map(([name, p]) => `${name}: ${p.settled}/${p.entered} settled, ${p.running} running`);
  return [`${d.own.inflight} requests in flight`, JSON.stringify(d.occupancy), ...busy].join('; ');
}

/**
 * Polls /__debug until the service is idle (see {@link isIdle}) and its metrics read the same twice
 * in a row (an event emitted after a call settled has arrived), and returns that snapshot. Counters
 * are compared once everything in flight has drained, never with slack for what has not: after
 * `timeoutMs` it gives up and returns the last snapshot with `idle: false`, for the checks to fail
 * on (and the artifact to say what was held).
 */
export async function quiet(port: number, timeoutMs = 20_000): Promise<{ d: Debug; idle: boolean }> {
  const end = Date.now() + timeoutMs;
  let previous = '';
  for (;;) {
    const d = await debug(port);
    const metrics = JSON.stringify(d.metrics.map((m) => m.counts));
    if (isIdle(d) && metrics === previous) return { d, idle: true };
    previous = isIdle(d) ? metrics : '';
    if (Date.now() >= end) return { d, idle: false };
    await sleep(200);
  }
}

/** Writes `artifacts/reliability/<name>.json`, which the summary table is printed from. */
export function writeArtifact(name: string, data: unknown): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

/** One invariant checked at the end of a run, kept (with its figures) for the artifact. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Collects invariants; the test asserts that none failed, after writing them all down. */
export class Checks {
  readonly list: Check[] = [];

  eq(name: string, actual: number, expected: number): void {
    this.list.push({ name, ok: actual === expected, detail: `${actual} = ${expected}` });
  }

  /** `low ≤ value ≤ high`. */
  within(name: string, low: number, value: number, high: number): void {
    this.list.push({ name, ok: low <= value && value <= high, detail: `${low} ≤ ${value} ≤ ${high}` });
  }

  ok(name: string, ok: boolean, detail: string): void {
    this.list.push({ name, ok, detail });
  }

  get failed(): Check[] {
    return this.list.filter((c) => !c.ok);
  }
}

/** Statuses summed over a range: `sum(statuses, 500, 599)`. */
export function sum(statuses: Record<string, number>, from = 0, to = 999): number {
  let total = 0;
  for (const [status, n] of Object.entries(statuses)) if (Number(status) >= from && Number(status) <= to) total += n;
  return total;
}

/** `a − b` per status. */
export function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const status of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const n = (a[status] ?? 0) - (b[status] ?? 0);
    if (n !== 0) out[status] = n;
  }
  return out;
}

const ZERO_PROBE: ProbeCounts = zeroProbeCounts();

/**
 * The invariants of the service's counters, all exact, from one snapshot taken by {@link quiet}.
 * For every policy of the pipeline, calls = successes + failures + rejections: inbound, the calls
 * are the requests each policy saw (counted by the service) and the outcomes the responses and
 * the metrics' `calls`/`rejected`; outbound, each policy's probe counts the calls and classifies
 * each ending as the policy documents its events, and the metrics must agree. Events that have no
 * call of their own (retries, hedges, timeouts) are tied to what the probes saw too.
 */
export function counterChecks(d: Debug, checks: Checks): void {
  const { all, routes } = d.own;
  const out = d.own.outbound;
  const m = (name: string, type: string) => count(policy(d, name), type);
  const e = (t: Traffic, status: number) => t.ended[status] ?? 0;

  // The metrics' own fields are what they say they are.
  for (const p of d.metrics) {
    const rejections = count(p, 'circuit.rejected') + count(p, 'bulkhead.rejected') + count(p, 'ratelimit.rejected');
    checks.eq(`metrics ${p.name}: calls = success + failure`, p.calls, count(p, 'success') + count(p, 'failure'));
    checks.eq(`metrics ${p.name}: rejected = circuit + bulkhead + ratelimit rejections`, p.rejected, rejections);
  }

  checks.eq(
    'service: received = delivered (by status) + closed early',
    all.received,
    sum(all.statuses) + all.closedEarly,
  );
  for (const [name, t] of [['service', all] as const, ...Object.entries(routes)]) {
    checks.eq(
      `${name}: received = ended (by status) + closed before end`,
      t.received,
      sum(t.ended) + t.closedBeforeEnd,
    );
  }

  // Inbound, GET /api/items/:id: rateLimit, then bulkhead → timeout → circuitBreaker → handler.
  const items = routes.items;
  const I = 'GET /api/items/:id';
  const rl = policy(d, `${I}.rateLimit`);
  const bh = policy(d, `${I}.bulkhead`);
  const cb = policy(d, `${I}.circuitBreaker`);
  checks.eq(
    'items: received = rejected (rateLimit + bulkhead + breaker) + breaker calls + 504 + closed before end',
    items.received,
    rl.rejected + bh.rejected + cb.rejected + cb.calls + e(items, 504) + items.closedBeforeEnd,
  );
  checks.eq('items: 429 = rateLimit rejected', e(items, 429), rl.rejected);
  checks.eq('items: 503 = bulkhead rejected + breaker rejected', e(items, 503), bh.rejected + cb.rejected);
  checks.eq('items: 200 = breaker successes', e(items, 200), count(cb, 'success'));
  checks.eq('items: 502 = breaker failures', e(items, 502), count(cb, 'failure'));
  checks.eq('items: 504 = timeouts', e(items, 504), m(`${I}.timeout`, 'timeout'));
  checks.eq(
    'items: nothing ended but 200, 429, 502, 503, 504',
    sum(items.ended),
    [200, 429, 502, 503, 504].reduce((n, status) => n + e(items, status), 0),
  );
  const bhReasons = d.reasons[`${I}.bulkhead`] ?? {};
  checks.eq(
    'items.bulkhead: calls (received − 429) = rejected + breaker rejected + handled + left the queue aborted',
    items.received - e(items, 429),
    bh.rejected + cb.rejected + items.handled + (bhReasons['dequeued.aborted'] ?? 0),
  );
  checks.eq('items.bulkhead: queued = dequeued', count(bh, 'bulkhead.queued'), count(bh, 'bulkhead.dequeued'));
  checks.eq(
    'items.circuitBreaker: handled = success + failure + aborted (504, or closed before end)',
    items.handled,
    cb.calls + e(items, 504) + items.handledClosedBeforeEnd,
  );

  // Inbound, GET /api/limited/:id: rateLimit, then timeout → handler.
  const limited = routes.limited;
  const L = 'GET /api/limited/:id';
  const lrl = policy(d, `${L}.rateLimit`);
  checks.eq('limited: received = rateLimit rejected + handled', limited.received, lrl.rejected + limited.handled);
  checks.eq('limited: 429 = rateLimit rejected', e(limited, 429), lrl.rejected);
  checks.eq('limited: 504 = timeouts', e(limited, 504), m(`${L}.timeout`, 'timeout'));
  checks.eq(
    'limited: handled = 200 + 502 + 504 + closed before end',
    limited.handled,
    e(limited, 200) + e(limited, 502) + e(limited, 504) + limited.handledClosedBeforeEnd,
  );
  checks.eq(
    'limited: nothing ended but 200, 429, 502, 504',
    sum(limited.ended),
    [200, 429, 502, 504].reduce((n, status) => n + e(limited, status), 0),
  );
  checks.eq('handler: runs = handled (items + limited)', out.calls, items.handled + limited.handled);
  checks.eq(
    'handler: outbound calls = ok + http error + threw + aborted',
    out.calls,
    out.ok + out.httpError + out.threw + out.aborted,
  );

  // Outbound: createFetch's deadline guard, then the probed pipeline.
  const p = (name: string): ProbeCounts => d.probes[name] ?? ZERO_PROBE;
  const U = 'upstream';
  const first = d.probes[`${U}.quota`] ?? p(`${U}.bulkhead`);
  const refusedByDeadline = out.calls - out.abortedBefore - first.entered;
  checks.eq(
    'deadline guard: timeouts = calls it refused (past the deadline) + calls it cut short',
    m('deadline', 'timeout'),
    refusedByDeadline + first.abortedByDeadline,
  );
  for (const [name, c] of Object.entries(d.probes)) {
    checks.eq(
      `${name}: calls = successes + failures + rejections (+ abandoned by an abort before running)`,
      c.entered,
      c.ok + c.failed + c.refused + c.abandoned,
    );
    checks.eq(`${name}: nothing still running`, c.running, 0);
  }
  const quota = d.probes[`${U}.quota`];
  if (quota) {
    checks.eq(`${U}.quota: rejections = metrics rejected`, quota.refused, policy(d, `${U}.quota`).rejected);
  }
  const bulkhead = p(`${U}.bulkhead`);
  checks.eq(`${U}.bulkhead: rejections = metrics rejected`, bulkhead.refused, policy(d, `${U}.bulkhead`).rejected);
  checks.eq(
    `${U}.bulkhead: queued = dequeued`,
    m(`${U}.bulkhead`, 'bulkhead.queued'),
    m(`${U}.bulkhead`, 'bulkhead.dequeued'),
  );
  for (const name of [`${U}.timeout`, `${U}.attemptTimeout`]) {
    const c = p(name);
    checks.eq(
      `${name}: timeout events = calls it cut short + calls it refused (deadline past)`,
      m(name, 'timeout'),
      c.timedOut + c.refused,
    );
  }
  const retry = p(`${U}.retry`);
  const retryMetrics = policy(d, `${U}.retry`);
  checks.eq(
    `${U}.retry: metrics calls (success + failure) = calls − abandoned`,
    retryMetrics.calls,
    retry.entered - retry.abandoned,
  );
  checks.eq(`${U}.retry: rejections = 0 (it has none of its own)`, retry.refused + retryMetrics.rejected, 0);
  checks.eq(
    `${U}.retry: retry events = attempts beyond the first + retries aborted in their backoff`,
    m(`${U}.retry`, 'retry'),
    retry.runs - (retry.entered - retry.abandoned) + retry.backoffAborted,
  );
  const hedge = p(`${U}.hedge`);
  checks.eq(
    `${U}.hedge: attempts = calls − abandoned + hedges sent`,
    hedge.runs,
    hedge.entered - hedge.abandoned + m(`${U}.hedge`, 'hedge.sent'),
  );
  checks.eq(
    `${U}.hedge: hedge.won = calls that resolved after sending a hedge`,
    m(`${U}.hedge`, 'hedge.won'),
    hedge.hedgeWon,
  );
  const breaker = p(`${U}.circuitBreaker`);
  const breakerMetrics = policy(d, `${U}.circuitBreaker`);
  checks.eq(
    `${U}.circuitBreaker: metrics calls (success + failure) = resolved + failed with a failure event`,
    breakerMetrics.calls,
    breaker.ok + breaker.failedWithEvent,
  );
  checks.eq(`${U}.circuitBreaker: rejections = metrics rejected`, breaker.refused, breakerMetrics.rejected);
  checks.eq(
    `${U}.circuitBreaker: failed without an event only when aborted or refused further in (documented)`,
    breaker.unexplained,
    0,
  );
  checks.eq(
    `${U}.circuitBreaker: every failure event belongs to a failed call`,
    d.unmatchedFailures[`${U}.circuitBreaker`] ?? 0,
    0,
  );
  checks.within(
    'network attempts ≤ attempt timeouts run (an attempt aborted before it starts sends nothing)',
    0,
    d.attempts,
    p(`${U}.attemptTimeout`).runs,
  );
}
