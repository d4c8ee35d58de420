// What the reliability tests share: the processes (the lab's upstream and load generator, this
// suite's service), plain HTTP helpers that hold no connection open, and the artifacts the summary
// table is printed from.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadPlan, Sample } from '../examples/lab/src/loadgen.js';
import { type Child, freePort, startChild, stopChild } from '../examples/lab/src/processes.js';
import type { Faults } from '../examples/lab/src/upstream.js';

export { type Child, freePort, stopChild };
export type { Sample };

export const CI = Boolean(process.env.CI);
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/reliability/', import.meta.url));
const SERVICE = fileURLToPath(new URL('./service.ts', import.meta.url));

/** Requests the service received and how it answered them. */
export interface Traffic {
  received: number;
  statuses: Record<string, number>;
  closedEarly: number;
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
  resources: Record<string, number>;
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
      errors: Record<string, number>;
    };
  };
  probes: Record<string, { entered: number; settled: number; aborted: number }>;
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

/** The lab's fault-injecting upstream, on `port` (0: any), closing idle connections after 3 s. */
export function startUpstream(port = 0): Promise<Child> {
  return startChild('upstream.ts', { PORT: String(port), SEED: '7', KEEP_ALIVE_MS: '3000' });
}

export function setFaults(upstreamPort: number, faults: Partial<Faults>): Promise<unknown> {
  return http(upstreamPort, '/__faults', { method: 'POST', body: faults });
}

export async function upstreamStats(
  upstreamPort: number,
): Promise<{ requests: number; ok: number; errors: number; aborted: number }> {
  return JSON.parse((await http(upstreamPort, '/__stats')).body);
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

/** Runs the lab's open-loop load generator in a process of its own and returns every sample. */
export async function runLoad(plan: LoadPlan): Promise<Sample[]> {
  const loadgen = await startChild('loadgen.ts', {});
  try {
    return await new Promise<Sample[]>((resolve, reject) => {
      loadgen.process.once('message', (m: { samples: Sample[] }) => resolve(m.samples));
      loadgen.process.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
      loadgen.process.send(plan);
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

/** Sockets, handles and ref'd timers from getActiveResourcesInfo, by type. */
export type Resources = Record<string, number>;

/**
 * What grew between `base` and `now`: the types whose count rose by more than `tolerance`, and the
 * total growth beyond `totalTolerance`.
 */
export function resourceGrowth(base: Resources, now: Resources, tolerance = 2, totalTolerance = 4): string[] {
  const grown: string[] = [];
  let total = 0;
  for (const type of new Set([...Object.keys(base), ...Object.keys(now)])) {
    const delta = (now[type] ?? 0) - (base[type] ?? 0);
    total += delta;
    if (delta > tolerance) grown.push(`${type}: ${base[type] ?? 0} → ${now[type] ?? 0}`);
  }
  if (total > totalTolerance) grown.push(`total +${total}`);
  return grown;
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

/**
 * The invariants of the service's counters, from one /__debug snapshot taken once it is idle:
 * what each route received equals what it answered, each status is accounted for by the policy
 * event that explains it, and each outbound policy let out (success + failure + rejections, from
 * the metrics) no more than entered it and no fewer than entered minus the calls its caller aborted.
 */
export function counterChecks(d: Debug, checks: Checks): void {
  const { all, routes } = d.own;
  const out = d.own.outbound;
  const m = (name: string, type: string) => count(policy(d, name), type);

  checks.eq(
    'service: received = answered (2xx+4xx+5xx) + closed early',
    all.received,
    sum(all.statuses) + all.closedEarly,
  );
  for (const [name, t] of Object.entries(routes)) {
    checks.eq(`route ${name}: received = answered + closed early`, t.received, sum(t.statuses) + t.closedEarly);
  }

  const items = routes.items.statuses;
  const I = 'GET /api/items/:id';
  const s = (status: number) => items[status] ?? 0;
  checks.eq('items: 429 = rateLimit rejections', s(429), m(`${I}.rateLimit`, 'ratelimit.rejected'));
  checks.eq(
    'items: 503 = bulkhead + breaker rejections',
    s(503),
    m(`${I}.bulkhead`, 'bulkhead.rejected') + m(`${I}.circuitBreaker`, 'circuit.rejected'),
  );
  checks.eq('items: 200 = breaker successes', s(200), m(`${I}.circuitBreaker`, 'success'));
  checks.eq('items: 502 = breaker failures', s(502), m(`${I}.circuitBreaker`, 'failure'));
  checks.within('items: 504 ≤ timeouts', 0, s(504), m(`${I}.timeout`, 'timeout'));
  checks.eq('items: statuses are 200, 429, 502, 503, 504 only', sum(items), s(200) + s(429) + s(502) + s(503) + s(504));

  const limited = routes.limited.statuses;
  const L = 'GET /api/limited/:id';
  const l = (status: number) => limited[status] ?? 0;
  checks.eq('limited: 429 = rateLimit rejections', l(429), m(`${L}.rateLimit`, 'ratelimit.rejected'));
  checks.within('limited: 504 ≤ timeouts', 0, l(504), m(`${L}.timeout`, 'timeout'));
  checks.eq('limited: statuses are 200, 429, 502, 504 only', sum(limited), l(200) + l(429) + l(502) + l(504));

  checks.eq(
    'handler: outbound calls = ok + http error + threw + aborted',
    out.calls,
    out.ok + out.httpError + out.threw + out.aborted,
  );
  // An ok outbound call is answered 200, unless palisade answered 504 first or the client left.
  checks.within(
    'handler: 200 answers ≤ ok outbound calls ≤ 200 + 504 answers + closed early',
    s(200) + l(200),
    out.ok,
    s(200) + l(200) + s(504) + l(504) + routes.items.closedEarly + routes.limited.closedEarly,
  );

  const p = (name: string) => d.probes[name] ?? { entered: 0, settled: 0, aborted: 0 };
  for (const [name, probe] of Object.entries(d.probes)) {
    checks.eq(`${name}: settled = entered (nothing hangs)`, probe.settled, probe.entered);
  }
  const U = 'upstream';
  const first = d.probes[`${U}.quota`] ?? p(`${U}.bulkhead`);
  checks.within(
    'outbound: calls into the pipeline = handler calls − deadline rejections',
    out.calls - m('deadline', 'timeout'),
    first.entered,
    out.calls,
  );
  const bulkhead = p(`${U}.bulkhead`);
  checks.within(
    'upstream.bulkhead: rejections ≤ entered',
    0,
    m(`${U}.bulkhead`, 'bulkhead.rejected'),
    bulkhead.entered,
  );
  checks.within('upstream.timeout: timeouts ≤ entered', 0, m(`${U}.timeout`, 'timeout'), p(`${U}.timeout`).entered);
  for (const name of [`${U}.retry`, `${U}.circuitBreaker`]) {
    const probe = p(name);
    const outcomes = m(name, 'success') + m(name, 'failure') + m(name, 'circuit.rejected');
    checks.within(
      `${name}: entered − aborted ≤ success + failure + rejected ≤ entered`,
      probe.entered - probe.aborted,
      outcomes,
      probe.entered,
    );
  }
  const retry = p(`${U}.retry`);
  const attempts = retry.entered + m(`${U}.retry`, 'retry');
  checks.within(
    'upstream.hedge: entered = retry calls + retries (− aborted backoffs)',
    attempts - retry.aborted,
    p(`${U}.hedge`).entered,
    attempts,
  );
  checks.within('upstream.hedge: won ≤ sent', 0, m(`${U}.hedge`, 'hedge.won'), m(`${U}.hedge`, 'hedge.sent'));
  const breaker = p(`${U}.circuitBreaker`);
  const hedge = p(`${U}.hedge`);
  const launched = hedge.entered + m(`${U}.hedge`, 'hedge.sent');
  // Every hedge call starts attempt 1 unless it is entered already aborted; each hedge sent starts one more.
  checks.within(
    'upstream.circuitBreaker: entered = hedge calls + hedges sent (− aborted on entry)',
    launched - hedge.aborted,
    breaker.entered,
    launched,
  );
  const admitted = p(`${U}.attemptTimeout`).entered + m(`${U}.circuitBreaker`, 'circuit.rejected');
  checks.within(
    'upstream.circuitBreaker: entered = admitted + rejected (+ aborted on entry)',
    admitted,
    breaker.entered,
    admitted + breaker.aborted,
  );
  checks.within('network attempts ≤ attempt timeouts entered', 0, d.attempts, p(`${U}.attemptTimeout`).entered);
}
