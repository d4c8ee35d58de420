import type { LoadSegment } from './loadgen.js';
import type { Faults } from './upstream.js';

/** A change of the upstream's faults at `atMs` into the run. */
export interface FaultStep {
  atMs: number;
  faults: Partial<Faults>;
}

export interface Scenario {
  name: string;
  title: string;
  /** What a reader should look at. */
  story: string;
  /** Nominal length of the run, ms: the lab runs 40% of it (25% with --quick). */
  durationMs: number;
  /** Offered load as a share of the run: [fromFraction, rps]. */
  load: (durationMs: number) => LoadSegment[];
  faults: (durationMs: number) => FaultStep[];
  /** Number of service processes, alternately Express and Hono (default 2; the fleet runs 3). */
  services?: number;
  /** The outage window, as fractions of the run, for recovery figures. */
  outage?: [number, number];
  /** Needs Redis. */
  redis?: boolean;
  clientTimeoutMs: number;
}

const steady = (rps: number) => (d: number) => [{ untilMs: d, rps }];

export const SCENARIOS: Scenario[] = [
  {
    name: 'flaky',
    title: 'Flaky dependency',
    story:
      '20% of upstream calls fail at once with 503. Retries with backoff and a budget turn most failed reads into successes; orders are not idempotent, so they are not retried and a fifth of them still fail.',
    durationMs: 10_000,
    load: steady(60),
    faults: () => [{ atMs: 0, faults: { errorRate: 0.2 } }],
    clientTimeoutMs: 2_000,
  },
  {
    name: 'outage',
    title: 'Outage and recovery',
    story:
      'The upstream answers every call with a slow 503 from 15% to 65% of the run. The breakers open, reads fail fast to a stale answer (orders fail fast: there is no stale order), and probes close the breakers after the upstream is back — up to openMs (1 s) later, which "recovered" shows.',
    // Long enough that, even with --quick, the outage dwarfs what it takes the breakers to open, and
    // more than their openMs follows it.
    durationMs: 20_000,
    load: steady(60),
    outage: [0.15, 0.65],
    faults: (d) => [
      { atMs: 0, faults: {} },
      { atMs: 0.15 * d, faults: { outage: true, outageDelayMs: 200 } },
      { atMs: 0.65 * d, faults: {} },
    ],
    clientTimeoutMs: 2_000,
  },
  {
    name: 'latency-tail',
    title: 'Latency tail',
    story:
      '3% of upstream calls stall for 300–1500 ms. Hedging at the observed p95 cuts the tail for a few % more calls.',
    durationMs: 10_000,
    load: steady(60),
    faults: () => [{ atMs: 0, faults: { tailRate: 0.03, tailMinMs: 300, tailMaxMs: 1_500 } }],
    clientTimeoutMs: 3_000,
  },
  {
    name: 'overload',
    title: 'Overload burst',
    story:
      'Offered load quadruples for the middle third of the run, to 1.6x what the upstream can serve (12 calls at once, 80 ms each; every call past 12 slows all down). Per-route bulkheads in each of the 2 services (4 reads + 2 orders at once) keep the upstream at what it can serve and shed the excess at once — reads to a stale answer — instead of letting everyone time out.',
    durationMs: 12_000,
    load: (d) => [
      { untilMs: d / 3, rps: 60 },
      { untilMs: (2 * d) / 3, rps: 240 },
      { untilMs: d, rps: 60 },
    ],
    faults: () => [{ atMs: 0, faults: { capacity: 12, overloadMs: 15, medianMs: 80, sigma: 0.2 } }],
    clientTimeoutMs: 1_000,
  },
  {
    name: 'fleet',
    title: 'Fleet sharing a quota (Redis)',
    story:
      '3 service processes (Express, Hono, Express) share an upstream quota of 40 requests/s; exceeding it gets every caller refused for a second. A rate limit shared through Redis keeps the fleet under it.',
    durationMs: 10_000,
    services: 3,
    redis: true,
    load: steady(60),
    faults: () => [{ atMs: 0, faults: { quotaPerSecond: 40 } }],
    clientTimeoutMs: 2_000,
  },
];
