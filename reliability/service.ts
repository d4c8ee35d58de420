// The reliability suite's service: an Express app with palisade's whole pipeline, run as its own
// process by the tests. Inbound, `resilience()` guards the routes (rate limit, bulkhead, timeout,
// circuit breaker); outbound, `createFetch` calls the lab's fault-injecting upstream through
// bulkhead, timeout, retry, hedge, breaker and attempt timeout (behind a `throttle` on a Redis
// store when REDIS_URL is set). Every event goes to one `createMetrics()` sink.
//
// GET /__debug reports what the suite asserts on: unhandled rejections, uncaught exceptions,
// console.error/warn calls and process warnings, event-loop delay, heap after a full GC, active
// resources by type, open connections, the service's own counters and the metrics' counters.
//
// env: PORT (0 = any), UPSTREAM (the upstream's base URL), REDIS_URL (optional).
// Run with --expose-gc (NODE_OPTIONS) for heap figures after a full collection.
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { format } from 'node:util';
import { bulkhead } from '@palisade/bulkhead';
import { circuitBreaker } from '@palisade/circuit-breaker';
import {
  type Context,
  type ExecuteOptions,
  type Policy,
  type PolicySpec,
  SPEC_ORDER,
  fromSpec,
  isAborted,
  isResilienceError,
  pipeline,
} from '@palisade/core';
import { type PalisadeRequestInfo, resilience } from '@palisade/express';
import { createFetch } from '@palisade/fetch';
import { hedge } from '@palisade/hedge';
import { createMetrics } from '@palisade/metrics';
import { type ThrottlePolicy, rateLimit, throttle } from '@palisade/rate-limit';
import { redisStore } from '@palisade/redis';
import { retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import express, { type Request, type Response } from 'express';
import { createClient } from 'redis';

// ---------------------------------------------------------------------------------------------
// What the process sees that nobody asked for. The service itself never logs: any console.error
// or console.warn call, process warning, unhandled rejection or uncaught exception is a finding.

const MAX_MESSAGES = 20;
const seen = { unhandledRejections: 0, uncaughtExceptions: 0, logged: 0, warnings: 0, messages: [] as string[] };
const note = (what: string): void => {
  if (seen.messages.length < MAX_MESSAGES) seen.messages.push(what.slice(0, 1_000));
};
const describeError = (error: unknown): string =>
  error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : format(error);
process.on('unhandledRejection', (reason) => {
  seen.unhandledRejections++;
  note(`unhandledRejection: ${describeError(reason)}`);
});
process.on('uncaughtException', (error) => {
  seen.uncaughtExceptions++;
  note(`uncaughtException: ${describeError(error)}`);
});
process.on('warning', (warning) => {
  seen.warnings++;
  note(`warning: ${warning.stack ?? `${warning.name}: ${warning.message}`}`);
});
for (const level of ['error', 'warn'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    seen.logged++;
    note(`console.${level}: ${format(...args)}`);
    original(...args);
  };
}

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const gc = (globalThis as { gc?: () => void }).gc;

// ---------------------------------------------------------------------------------------------
// Configuration

const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:9';
const upstreamHost = new URL(upstream).host;
const metrics = createMetrics();
const { onEvent } = metrics;

/** The outbound policies, as the declarative spec a user would write for createFetch. */
const OUTBOUND_SPEC: PolicySpec = {
  bulkhead: { maxConcurrent: 64, maxQueue: 64, queueTimeoutMs: 500 },
  timeout: '1500ms',
  retry: { maxAttempts: 3, backoff: { type: 'exponential', initialMs: 10, maxMs: 200, jitter: 'full' } },
  hedge: { delayMs: { percentile: 95, minMs: 15, maxMs: 500 } },
  circuitBreaker: {
    failureRateThreshold: 0.5,
    minimumCalls: 20,
    window: { kind: 'time', ms: 2_000 },
    openMs: 500,
    halfOpenMaxCalls: 3,
  },
  attemptTimeout: '600ms',
};

/** The inbound protection: `/api/items` carries the load, `/api/limited` is rate limited hard. */
const INBOUND_ROUTES = {
  'GET /api/items/:id': {
    rateLimit: { limit: 5_000, windowMs: '1s' },
    bulkhead: { maxConcurrent: 32, maxQueue: 32, queueTimeoutMs: 150 },
    timeout: '2500ms',
    circuitBreaker: {
      failureRateThreshold: 0.5,
      minimumCalls: 50,
      window: { kind: 'time', ms: 3_000 },
      openMs: 1_000,
      halfOpenMaxCalls: 5,
    },
  },
  'GET /api/limited/:id': { rateLimit: { limit: 10, windowMs: '1s', burst: 5 }, timeout: '2500ms' },
};

// ---------------------------------------------------------------------------------------------
// Probes: every outbound policy is wrapped so the suite can compare what entered it with what the
// metrics say came out (success + failure + rejections) and with what settled.

interface ProbeCounts {
  /** Calls that entered the policy. */
  entered: number;
  /** Calls that settled, resolved or rejected. */
  settled: number;
  /** Calls that settled with a rejection while their caller (or an outer policy) had aborted. */
  aborted: number;
}
const probes: Record<string, ProbeCounts> = {};

function probe(policy: Policy): Policy {
  const counts: ProbeCounts = { entered: 0, settled: 0, aborted: 0 };
  probes[policy.name] = counts;
  return {
    name: policy.name,
    execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
      counts.entered++;
      return policy.execute(fn, options).then(
        (value) => {
          counts.settled++;
          return value;
        },
        (error: unknown) => {
          counts.settled++;
          if (isAborted(options)) counts.aborted++;
          throw error;
        },
      );
    },
  };
}

const FACTORIES = { bulkhead, timeout, retry, hedge, circuitBreaker, rateLimit };
const byKey: Partial<Record<string, Policy>> = {};
const stages: Policy[] = [];
let quota: ThrottlePolicy | undefined;
let redis: ReturnType<typeof createClient> | undefined;
const redisState = { errors: 0, connects: 0 };
if (process.env.REDIS_URL) {
  redis = createClient({ url: process.env.REDIS_URL, socket: { reconnectStrategy: () => 200 } });
  // A dead Redis is the fault under test: its errors are counted, not logged.
  redis.on('error', () => redisState.errors++);
  redis.on('ready', () => redisState.connects++);
  await redis.connect();
  quota = throttle({
    name: 'upstream.quota',
    limit: 2_000,
    windowMs: 1_000,
    burst: 200,
    maxWaitMs: 200,
    onStoreError: 'fail-open',
    store: redisStore({ client: redis, prefix: `palisade-reliability:${process.pid}:`, timeoutMs: 100 }),
    onEvent,
  });
  stages.push(probe(quota));
}
for (const key of SPEC_ORDER) {
  const value = OUTBOUND_SPEC[key];
  if (value === undefined) continue;
  const policy = fromSpec({ [key]: value }, { factories: FACTORIES, name: 'upstream', onEvent });
  byKey[key] = policy;
  stages.push(probe(policy));
}
const outboundBulkhead = byKey.bulkhead as ReturnType<typeof bulkhead>;

/** Every attempt that reaches the network. */
let attempts = 0;
const countingFetch: typeof fetch = (input, init) => {
  attempts++;
  return fetch(input, init);
};
const upstreamFetch = createFetch({
  fetch: countingFetch,
  routes: { [`GET ${upstreamHost}/data/:id`]: pipeline(...stages) },
  onEvent,
});

// ---------------------------------------------------------------------------------------------
// The app

interface Traffic {
  /** Requests received. */
  received: number;
  /** Responses by status, as first written. */
  statuses: Record<string, number>;
  /** Requests whose connection closed before the response was complete. */
  closedEarly: number;
}
const traffic = (): Traffic => ({ received: 0, statuses: {}, closedEarly: 0 });

const own = {
  /** Every request but /__debug. */
  all: traffic(),
  /** By route: `items` (GET /api/items/:id), `limited` (GET /api/limited/:id), `other`. */
  routes: { items: traffic(), limited: traffic(), other: traffic() },
  /** Requests in progress. */
  inflight: 0,
  /** Outbound calls made by the handler, and how they ended. */
  outbound: { calls: 0, ok: 0, httpError: 0, threw: 0, aborted: 0, errors: {} as Record<string, number> },
};

const app = express();

app.get('/__debug', async (req, res) => {
  if (req.query.gc !== undefined) gc?.();
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  const connections = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n ?? -1)));
  const snapshot = metrics.snapshot({ keys: false });
  res.json({
    pid: process.pid,
    config: { inbound: INBOUND_ROUTES, outbound: OUTBOUND_SPEC, redis: redis !== undefined },
    seen,
    eventLoop: {
      p50Ms: loop.percentile(50) / 1e6,
      p99Ms: loop.percentile(99) / 1e6,
      maxMs: loop.max / 1e6,
      samples: loop.count,
    },
    heapUsed: process.memoryUsage().heapUsed,
    cpuMs: (({ user, system }) => (user + system) / 1_000)(process.cpuUsage()),
    gcExposed: gc !== undefined,
    resources,
    connections,
    own,
    probes,
    attempts,
    occupancy: {
      outboundBulkhead: { executing: outboundBulkhead.executing, queued: outboundBulkhead.queued },
      throttleQueued: quota?.queued,
    },
    redis: redis ? { status: redis.isReady ? 'ready' : 'down', ...redisState } : undefined,
    metrics: snapshot.policies.map((p) => ({
      policy: p.policy,
      name: p.name,
      counts: Object.fromEntries(Object.entries(p.counts).filter(([, n]) => n > 0)),
      calls: p.calls,
      rejected: p.rejected,
      circuit: p.circuit?.state,
    })),
  });
  if (req.query.resetLoop !== undefined) loop.reset();
});

// Counts every API request and its response as the client gets it: the status palisade or the
// handler wrote first (a handler that goes on after palisade answered writes nothing).
const routeOf = (path: string): keyof typeof own.routes =>
  path.startsWith('/api/items/') ? 'items' : path.startsWith('/api/limited/') ? 'limited' : 'other';

app.use((req, res, next) => {
  const route = own.routes[routeOf(req.path)];
  own.all.received++;
  route.received++;
  own.inflight++;
  let status = 0;
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, code: number, ...rest: unknown[]) {
    if (status === 0) status = code;
    return (writeHead as (...args: unknown[]) => Response).call(this, code, ...rest);
  } as typeof res.writeHead;
  res.once('close', () => {
    own.inflight--;
    for (const t of [own.all, route]) {
      if (res.writableFinished && status !== 0) t.statuses[status] = (t.statuses[status] ?? 0) + 1;
      else t.closedEarly++;
    }
  });
  next();
});

app.use(resilience({ routes: INBOUND_ROUTES, onEvent }));

const errorName = (error: unknown): string =>
  isResilienceError(error) ? error.code : error instanceof Error ? error.name : typeof error;

async function item(req: Request, res: Response): Promise<void> {
  const { signal } = res.locals.palisade as PalisadeRequestInfo;
  const out = own.outbound;
  out.calls++;
  let status: number;
  let body: unknown;
  try {
    const response = await upstreamFetch(`${upstream}/data/${encodeURIComponent(String(req.params.id))}`, {
      signal,
    });
    const text = await response.text();
    if (response.ok) {
      out.ok++;
      status = 200;
      body = text;
    } else {
      out.httpError++;
      status = 502;
      body = JSON.stringify({ error: `upstream answered ${response.status}` });
    }
  } catch (error) {
    if (signal.aborted) out.aborted++;
    else out.threw++;
    const name = errorName(error);
    out.errors[name] = (out.errors[name] ?? 0) + 1;
    status = 502;
    body = JSON.stringify({ error: name });
  }
  // palisade answered already (a timeout), or the client went away.
  if (signal.aborted || res.headersSent) return;
  res.status(status).type('application/json').send(body);
}

app.get('/api/items/:id', item);
app.get('/api/limited/:id', item);

const server = createServer(app);
server.keepAliveTimeout = 3_000;
await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
const address = server.address();
process.send?.({ ready: true, port: typeof address === 'object' && address ? address.port : 0 });
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
