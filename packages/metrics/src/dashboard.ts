import { type CancelTimer, createValidator, optionsObject, startTimer } from '@palisade/core';
import { renderDashboardPage } from './dashboard-page.js';
import { quantile } from './histogram.js';
import {
  type HttpHandler,
  type NodeRequest,
  type NodeResponse,
  type RequestInfo,
  fromFetch,
  fromNode,
  methodNotAllowed,
  sendNode,
  toResponse,
} from './http.js';
import { type Metrics, type MetricsInternals, internalsOf } from './metrics.js';
import type { PolicyStats } from './series.js';
import { LATENCY_OFFSET, TIMELINE_COLUMNS } from './timeline.js';

/** Options of {@link dashboard}. */
export interface DashboardOptions {
  /** The sink to show, from `createMetrics()`. */
  metrics: Metrics;
  /** Shown in the page's header and tab title (e.g. the service name). @default 'palisade' */
  title?: string;
  /** How often the page is updated over server-sent events, in ms. @default 1_000 */
  intervalMs?: number;
  /** Keys listed per policy, the busiest first. @default 5 */
  topKeys?: number;
  /** Window of the rolling latency percentiles drawn on the chart, in ms. @default 10_000 */
  latencyWindowMs?: number;
}

/** Defaults of {@link DashboardOptions}. */
export const DASHBOARD_DEFAULTS = Object.freeze({
  title: 'palisade',
  intervalMs: 1_000,
  topKeys: 5,
  latencyWindowMs: 10_000,
});

/** The handler returned by {@link dashboard}. */
export interface DashboardHandler extends HttpHandler {
  /** Ends every open event stream and stops the update timer. */
  close(): void;
  /** Event streams open now. */
  readonly clients: number;
}

/** One point of a policy's timeline: slot start, counts per slot, rolling percentiles (ms). */
type Point = [number, number, number, number, number, number, number | null, number | null, number | null];

const PKG = '@palisade/metrics';
const check = createValidator(PKG);
const KNOWN = ['metrics', 'title', 'intervalMs', 'topKeys', 'latencyWindowMs'] as const;
const STREAM_HEADERS = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
});
/** Nothing outside the service is loaded: no CDN, no fonts, no images but inline ones. */
const PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";

interface Client {
  send(chunk: string): void;
  end(): void;
}

/**
 * Bytes of frames a stream may hold unsent for a page that stopped reading (a stalled network, a
 * frozen tab) before it is dropped: frames would pile up in memory every `intervalMs` until TCP
 * gave up, minutes later. A dropped page's EventSource reconnects and starts from a full frame.
 */
const MAX_BACKLOG_BYTES = 1_048_576;

/**
 * A live dashboard of every policy the sink has seen: breaker states with their history, rates
 * of success, failure, retry and shed calls, latency percentiles over time, bulkhead queues and
 * the busiest keys. One self-contained page (inline CSS, JS and SVG; it loads nothing from
 * anywhere else), updated over server-sent events. Mount it like any handler:
 *
 * - node:http — `http.createServer(dash)` or call `dash(req, res)` for a path;
 * - Express — `app.use('/dashboard', dash)`;
 * - Hono — `app.get('/dashboard', (c) => dash.fetch(c.req.raw))`.
 *
 * The page streams from its own URL with `?stream`; `?format=json` returns one frame as JSON.
 * It shows policy names and keys: mount it behind your admin authentication.
 */
export function dashboard(options: DashboardOptions): DashboardHandler {
  const opts = optionsObject(PKG, 'dashboard', options);
  check.knownKeys(opts, KNOWN);
  const internals = internalsOf('dashboard()', opts.metrics);
  const title = check.string('title', opts.title, DASHBOARD_DEFAULTS.title);
  const intervalMs = check.integer('intervalMs', opts.intervalMs, DASHBOARD_DEFAULTS.intervalMs, { min: 50 });
  const topKeys = check.integer('topKeys', opts.topKeys, DASHBOARD_DEFAULTS.topKeys, { min: 0, max: 100 });
  const latencyWindowMs = check.number('latencyWindowMs', opts.latencyWindowMs, DASHBOARD_DEFAULTS.latencyWindowMs, {
    min: internals.options.resolutionMs,
    max: internals.options.historyMs,
  });
  const clock = internals.options.clock;
  const page = renderDashboardPage({ title, intervalMs, latencyWindowMs, recentMs: internals.options.recentMs });
  const frames = frameBuilder(internals, { topKeys, latencyWindowMs, intervalMs });
  const clients = new Set<Client>();
  let stopTimer: CancelTimer | undefined;

  let generation = internals.generation;
  const tick = (): void => {
    stopTimer = undefined;
    if (clients.size === 0) return;
    // After metrics.reset() the pages start over from a full frame.
    const full = generation !== internals.generation;
    generation = internals.generation;
    const chunk = sse(frames(full));
    for (const client of clients) client.send(chunk);
    // A page dropped for not reading may have been the last one.
    if (clients.size > 0) stopTimer = startTimer(clock, intervalMs, tick);
  };
  const join = (client: Client): void => {
    clients.add(client);
    client.send(`retry: 3000\n\n${sse(frames(true))}`);
    if (stopTimer === undefined) stopTimer = startTimer(clock, intervalMs, tick);
  };
  const leave = (client: Client): void => {
    clients.delete(client);
    if (clients.size === 0 && stopTimer !== undefined) {
      stopTimer();
      stopTimer = undefined;
    }
  };

  const isStream = (info: RequestInfo): boolean =>
    info.url.searchParams.has('stream') || info.accept.includes('text/event-stream');
  const reply = (info: RequestInfo) =>
    methodNotAllowed(info) ??
    (info.url.searchParams.get('format') === 'json'
      ? {
          status: 200,
          headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
          body: JSON.stringify(frames(true)),
        }
      : {
          status: 200,
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-store',
            'content-security-policy': PAGE_CSP,
            'x-content-type-options': 'nosniff',
          },
          body: page,
        });

  const handler = ((req: NodeRequest, res: NodeResponse) => {
    const info = fromNode(req);
    if (info.method !== 'GET' || !isStream(info)) {
      sendNode(res, info, reply(info));
      return;
    }
    res.writeHead(200, { ...STREAM_HEADERS });
    res.flushHeaders?.();
    const client: Client = {
      send: (chunk) => {
        if (res.writableEnded) return;
        if ((res.writableLength ?? 0) > MAX_BACKLOG_BYTES && res.destroy) res.destroy();
        else res.write(chunk);
      },
      end: () => {
        if (!res.writableEnded) res.end();
      },
    };
    res.on('close', () => leave(client));
    join(client);
  }) as DashboardHandler;

  handler.fetch = (request: Request): Response => {
    const info = fromFetch(request);
    if (info.method !== 'GET' || !isStream(info)) return toResponse(info, reply(info));
    const encoder = new TextEncoder();
    let client: Client | undefined;
    const body = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          let open = true;
          client = {
            send: (chunk) => {
              if (!open) return;
              if ((controller.desiredSize ?? 0) < -MAX_BACKLOG_BYTES) {
                open = false;
                controller.error(new Error(`${PKG}: the page stopped reading; dropped`));
                if (client) leave(client);
              } else controller.enqueue(encoder.encode(chunk));
            },
            end: () => {
              if (open) controller.close();
              open = false;
            },
          };
          join(client);
        },
        cancel() {
          if (client) leave(client);
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 65_536 }),
    );
    request.signal?.addEventListener('abort', () => client && leave(client), { once: true });
    return new Response(body, { status: 200, headers: STREAM_HEADERS });
  };

  handler.close = () => {
    for (const client of [...clients]) {
      leave(client);
      client.end();
    }
  };
  Object.defineProperty(handler, 'clients', { get: () => clients.size, enumerable: true });
  return handler;
}

const sse = (frame: unknown): string => `event: frame\ndata: ${JSON.stringify(frame)}\n\n`;

interface FrameOptions {
  topKeys: number;
  latencyWindowMs: number;
  intervalMs: number;
}

/**
 * Builds the frames the page draws: per policy its totals, recent rates, breaker history, busiest
 * keys and timeline points — all of them in a full frame, the last few slots in an update.
 */
function frameBuilder(internals: MetricsInternals, frameOptions: FrameOptions) {
  const { options, bounds } = internals;
  const { resolutionMs, historyMs, recentMs, clock } = options;
  const latencySlots = Math.max(1, Math.round(frameOptions.latencyWindowMs / resolutionMs));
  const updateSlots = Math.ceil(frameOptions.intervalMs / resolutionMs) + 2;

  const points = (stats: PolicyStats, from: number, to: number): Point[] => {
    const { timeline } = stats;
    const slotOf = (epoch: number, into: Float64Array) => timeline.sum(epoch, epoch, into.fill(0));
    const slot = new Float64Array(timeline.width);
    const leaving = new Float64Array(timeline.width);
    // The window of `from` is [from - latencySlots + 1, from]: preload all of it but `from`.
    const rolling = timeline.sum(from - latencySlots + 1, from - 1, new Float64Array(timeline.width));
    const out: Point[] = [];
    for (let epoch = from; epoch <= to; epoch++) {
      slotOf(epoch, slot);
      if (epoch > from) slotOf(epoch - latencySlots, leaving);
      for (let i = 0; i < slot.length; i++) {
        rolling[i] = (rolling[i] as number) + (slot[i] as number) - (epoch > from ? (leaving[i] as number) : 0);
      }
      const p = (q: number) => round(quantile(bounds, rolling, q, LATENCY_OFFSET));
      out.push([
        epoch * resolutionMs,
        slot[0] as number,
        slot[1] as number,
        slot[2] as number,
        slot[3] as number,
        slot[4] as number,
        p(0.5),
        p(0.9),
        p(0.99),
      ]);
    }
    return out;
  };

  return (full: boolean) => {
    const now = clock.now();
    const to = Math.floor(now / resolutionMs);
    const from = full ? to - Math.ceil(historyMs / resolutionMs) + 1 : to - updateSlots + 1;
    const policies = [];
    for (const stats of internals.policies()) {
      const snap = stats.snapshot(now, recentMs, false);
      const keys = stats.keys ? [...stats.keys.entries()] : [];
      const top = keys
        .map(([key, series]) => {
          const s = series.snapshot();
          return { key, calls: s.calls, failure: s.counts.failure, rejected: s.rejected, p99: round(s.latency.p99) };
        })
        .sort((a, b) => b.calls + b.rejected - (a.calls + a.rejected))
        .slice(0, frameOptions.topKeys);
      policies.push({
        id: `${stats.policy}/${stats.name}`,
        policy: stats.policy,
        name: stats.name,
        totals: {
          calls: snap.calls,
          success: snap.counts.success,
          failure: snap.counts.failure,
          retry: snap.counts.retry,
          rejected: snap.rejected,
          timeout: snap.counts.timeout,
          hedges: snap.counts['hedge.sent'],
          fallbacks: snap.counts.fallback,
        },
        recent: snap.recent,
        latency: { count: snap.latency.count, p50: round(snap.latency.p50), p99: round(snap.latency.p99) },
        circuit: snap.circuit && {
          state: snap.circuit.state,
          since: snap.circuit.since,
          until: snap.circuit.until,
          transitions: snap.circuit.transitions.slice(0, 20),
        },
        bulkhead: snap.bulkhead,
        limit: snap.limit,
        trackedKeys: snap.trackedKeys,
        evictedKeys: snap.evictedKeys,
        topKeys: top,
        points: points(stats, from, to),
      });
    }
    return { full, time: now, resolutionMs, historyMs, columns: TIMELINE_COLUMNS, policies };
  };
}

const round = (ms: number | undefined): number | null =>
  ms === undefined ? null : ms < 10 ? Math.round(ms * 100) / 100 : Math.round(ms * 10) / 10;
