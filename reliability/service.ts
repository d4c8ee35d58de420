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
// First: the resource tracker must see every handle and timer the service creates.
import { type LiveResources, liveResources } from './resources.js';
import { type ProbeCounts, zeroProbeCounts } from './probe-counts.js';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { format } from 'node:util';
import { bulkhead } from '@palisade/bulkhead';
import { circuitBreaker } from '@palisade/circuit-breaker';
import {
  type Context,
  DeadlineExceededError,
  type ExecuteOptions,
  type Policy,
  type PolicySpec,
  type ResilienceEvent,
  SPEC_ORDER,
  TimeoutError,
  abortReason,
  fromSpec,
  isAborted,
  isPolicyContext,
  isRejection,
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
const onEvent = (event: ResilienceEvent): void => {
  metrics.onEvent(event);
  tap(event);
};

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
// Probes: every outbound policy is wrapped, and so is the `fn` it runs, so that each call is
// classified the way the policies document their events — and the suite can then check, policy by
// policy, that calls = successes + failures + rejections, exactly, against the metrics.

/** The event tap (below) keeps the errors of these policies' `failure` events, to match them to calls. */
const BREAKERS = new Set(['upstream.circuitBreaker']);

const probes: Record<string, ProbeCounts> = {};

/** `failure` events' errors, by policy name, not yet matched to a call (a multiset: identity → count). */
const failureErrors = new Map<string, Map<unknown, number>>();

/** Bulkhead queue exits and rejections by reason, by policy name (metrics count events by type only). */
const reasons: Record<string, Record<string, number>> = {};

function tap(event: ResilienceEvent): void {
  if (event.type === 'failure' && BREAKERS.has(event.name) && !('value' in event && event.error === undefined)) {
    let errors = failureErrors.get(event.name);
    if (errors === undefined) failureErrors.set(event.name, (errors = new Map()));
    errors.set(event.error, (errors.get(event.error) ?? 0) + 1);
  } else if (event.type === 'bulkhead.dequeued' || event.type === 'bulkhead.rejected') {
    const r = (reasons[event.name] ??= {});
    const key = `${event.type === 'bulkhead.dequeued' ? 'dequeued' : 'rejected'}.${event.reason}`;
    r[key] = (r[key] ?? 0) + 1;
  }
}

/** Takes one `failure` event carrying `error` for `name`, if there is one left. */
function takeFailure(name: string, error: unknown): boolean {
  const errors = failureErrors.get(name);
  const n = errors?.get(error) ?? 0;
  if (errors === undefined || n === 0) return false;
  if (n === 1) errors.delete(error);
  else errors.set(error, n - 1);
  return true;
}

type ProbeKind = 'throttle' | 'rateLimit' | 'bulkhead' | 'timeout' | 'retry' | 'hedge' | 'circuitBreaker';

/** One call through a probe. */
interface ProbeCall {
  runs: number;
  running: number;
  /** The Context the policy gave `fn` first (a timeout's own). */
  ctx: Context | undefined;
  /** The last run settled while the call was not aborted. */
  lastRunClean: boolean;
}

const isTimeoutError = (error: unknown): boolean =>
  error instanceof TimeoutError || error instanceof DeadlineExceededError;

function probe(policy: Policy, kind: ProbeKind): Policy {
  const c = zeroProbeCounts();
  probes[policy.name] = c;
  const name = policy.name;

  const settle = (call: ProbeCall, options: ExecuteOptions | undefined, ok: boolean, error: unknown): void => {
    c.settled++;
    const aborted = isAborted(options);
    const reason = aborted ? abortReason(options) : undefined;
    if (aborted) {
      c.aborted++;
      if (reason instanceof DeadlineExceededError) c.abortedByDeadline++;
    }
    if (kind === 'timeout' && isPolicyContext(call.ctx)) {
      // Fired: its Context was aborted by its own TimeoutError (or DeadlineExceededError), not by
      // an abort from above (which would have handed down the outer reason).
      const own = call.ctx.aborted ? call.ctx.reason : undefined;
      if (isTimeoutError(own) && own !== reason) c.timedOut++;
    }
    if (ok) {
      c.ok++;
      if (kind === 'hedge' && call.runs > 1) c.hedgeWon++;
      return;
    }
    if (call.runs === 0) {
      if (aborted && error === reason) c.abandoned++;
      else c.refused++;
      return;
    }
    c.failed++;
    if (kind === 'retry' && aborted && error === reason && call.running === 0 && call.lastRunClean) {
      c.backoffAborted++;
    }
    if (kind === 'circuitBreaker') {
      if (takeFailure(name, error)) c.failedWithEvent++;
      else if (aborted || isRejection(error)) c.neither++;
      else c.unexplained++;
    }
  };

  return {
    name,
    execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
      c.entered++;
      const call: ProbeCall = { runs: 0, running: 0, ctx: undefined, lastRunClean: false };
      const ran = (): void => {
        call.running--;
        c.running--;
        call.lastRunClean = !isAborted(options);
      };
      const run = (ctx: Context): Promise<T> => {
        call.runs++;
        c.runs++;
        call.running++;
        c.running++;
        call.ctx ??= ctx;
        let result: Promise<T> | T;
        try {
          result = fn(ctx);
        } catch (error) {
          ran();
          return Promise.reject(error);
        }
        return Promise.resolve(result).then(
          (value) => {
            ran();
            return value;
          },
          (error: unknown) => {
            ran();
            throw error;
          },
        );
      };
      return policy.execute(run, options).then(
        (value) => {
          settle(call, options, true, undefined);
          return value;
        },
        (error: unknown) => {
          settle(call, options, false, error);
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
  // Tight enough to act under the suite's load (~45 outbound calls/s in the soak, ~60/s in the
  // faults): bursts wait their turn (32 at once, the faults' capacity probe, within 400 ms), and
  // a sustained excess is refused.
  quota = throttle({
    name: 'upstream.quota',
    limit: 60,
    windowMs: 1_000,
    burst: 10,
    maxWaitMs: 400,
    onStoreError: 'fail-open',
    // A Redis that is down fails at once (the client is not ready); the timeout only bounds a slow
    // one, and the Redis here is shared with whatever else runs on a loaded machine.
    store: redisStore({ client: redis, prefix: `palisade-reliability:${process.pid}:`, timeoutMs: 1_000 }),
    onEvent,
  });
  stages.push(probe(quota, 'throttle'));
}
for (const key of SPEC_ORDER) {
  const value = OUTBOUND_SPEC[key];
  if (value === undefined) continue;
  const policy = fromSpec({ [key]: value }, { factories: FACTORIES, name: 'upstream', onEvent });
  byKey[key] = policy;
  stages.push(probe(policy, key === 'attemptTimeout' ? 'timeout' : key));
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
  /** Responses the client got in full, by status. */
  statuses: Record<string, number>;
  /** Requests whose connection closed before the response was complete. */
  closedEarly: number;
  /**
   * Responses ended (handed to Node: `prefinish`) by status, delivered or not: what palisade's
   * inbound policies saw, since a request is over for them at that point.
   */
  ended: Record<string, number>;
  /** Requests closed before a response was ended: the client left (the policies saw an abort). */
  closedBeforeEnd: number;
  /** Requests that reached the handler. */
  handled: number;
  /** …of which closed before a response was ended. */
  handledClosedBeforeEnd: number;
}
const traffic = (): Traffic => ({
  received: 0,
  statuses: {},
  closedEarly: 0,
  ended: {},
  closedBeforeEnd: 0,
  handled: 0,
  handledClosedBeforeEnd: 0,
});
const bump = (counts: Record<string, number>, key: string | number): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

const own = {
  /** Every request but /__debug. */
  all: traffic(),
  /** By route: `items` (GET /api/items/:id), `limited` (GET /api/limited/:id), `other`. */
  routes: { items: traffic(), limited: traffic(), other: traffic() },
  /** Requests in progress. */
  inflight: 0,
  /** Outbound calls made by the handler, and how they ended (`abortedBefore`: the signal had aborted already). */
  outbound: {
    calls: 0,
    ok: 0,
    httpError: 0,
    threw: 0,
    aborted: 0,
    abortedBefore: 0,
    errors: {} as Record<string, number>,
  },
};
/** Requests that reached the handler. */
const handled = new WeakSet<Response>();

const app = express();

app.get('/__debug', async (req, res) => {
  if (req.query.gc !== undefined) gc?.();
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) bump(resources, type);
  const live: LiveResources = liveResources();
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
    live,
    connections,
    own,
    probes,
    reasons,
    unmatchedFailures: Object.fromEntries(
      [...failureErrors].map(([name, errors]) => [name, [...errors.values()].reduce((a, b) => a + b, 0)]),
    ),
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

// Counts every API request, the response ended for it (palisade's or the handler's: a handler that
// goes on after palisade answered writes nothing) and whether the client got it in full.
const routeOf = (path: string): keyof typeof own.routes =>
  path.startsWith('/api/items/') ? 'items' : path.startsWith('/api/limited/') ? 'limited' : 'other';

app.use((req, res, next) => {
  const route = own.routes[routeOf(req.path)];
  own.all.received++;
  route.received++;
  own.inflight++;
  let status = 0;
  res.once('prefinish', () => {
    status = res.statusCode;
    for (const t of [own.all, route]) bump(t.ended, status);
  });
  res.once('close', () => {
    own.inflight--;
    const ran = handled.has(res);
    for (const t of [own.all, route]) {
      if (res.writableFinished && status !== 0) bump(t.statuses, status);
      else t.closedEarly++;
      if (status === 0) {
        t.closedBeforeEnd++;
        if (ran) t.handledClosedBeforeEnd++;
      }
    }
  });
  next();
});

app.use(resilience({ routes: INBOUND_ROUTES, onEvent }));

const errorName = (error: unknown): string =>
  isResilienceError(error) ? error.code : error instanceof Error ? error.name : typeof error;

async function item(req: Request, res: Response): Promise<void> {
  const { signal } = res.locals.palisade as PalisadeRequestInfo;
  handled.add(res);
  own.all.handled++;
  own.routes[routeOf(req.path)].handled++;
  const out = own.outbound;
  out.calls++;
  if (signal.aborted) out.abortedBefore++;
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
    bump(out.errors, name);
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
