// Simulation: a dependency with 4 workers and exponential 10 ms service times (capacity 400
// requests/s) behind palisade's concurrency limits, offered 300, 600 and 1,200 requests/s by
// clients that give up after 1 s. Driven by FakeClock and a seeded PRNG: every run prints the
// same table. `npm run sim:concurrency`; `test/sim.test.ts` in @palisade/bulkhead asserts the goals.
import { bulkhead, concurrencyLimit } from '@palisade/bulkhead';
import { BulkheadRejectedError, type Policy, TimeoutError, noop } from '@palisade/core';
import { FakeClock, seededRandom } from '@palisade/core/testing';

/** Which limiter sits in front of the dependency. */
export type SimLimiter = 'none' | 'aimd' | 'gradient' | 'vegas' | { fixed: number };

export interface SimOptions {
  limiter: SimLimiter;
  /** Offered load, requests per second (Poisson arrivals). */
  rps: number;
  /** Simulated duration, in seconds. @default 30 */
  seconds?: number;
  /** PRNG seed. @default 42 */
  seed?: number;
  /** Dependency workers. @default 4 */
  workers?: number;
  /** Mean (exponential) service time, in ms. @default 10 */
  serviceMs?: number;
  /** Client timeout, in ms; the dependency still serves a request its client gave up on. @default 1000 */
  timeoutMs?: number;
}

export interface SimRow {
  limiter: string;
  offeredRps: number;
  /** Requests answered within the client timeout (and within the simulated time), per second. */
  goodputRps: number;
  /** Goodput as a percentage of the dependency's capacity (workers / service time). */
  goodputPercent: number;
  /** Latency of the successful requests, as the client saw it, in ms. */
  p50Ms: number;
  p99Ms: number;
  /** p99 as a multiple of the mean service time. */
  p99xService: number;
  /** Requests the limiter shed at once, % of offered. */
  rejectedPercent: number;
  /** Requests the client gave up on after the timeout, % of offered. */
  timedOutPercent: number;
  /** The limit seen by arriving requests, averaged (the fixed limit, or — with no limiter). */
  meanLimit: number | undefined;
}

const label = (limiter: SimLimiter): string =>
  typeof limiter === 'string' ? (limiter === 'none' ? 'no limit' : limiter) : `bulkhead(${limiter.fixed})`;

interface Job {
  settled: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
  cancelTimeout: () => void;
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number);

/** Runs one configuration and returns its row. Deterministic for a given seed. */
export async function simulate(options: SimOptions): Promise<SimRow> {
  const { limiter, rps } = options;
  const seconds = options.seconds ?? 30;
  const workers = options.workers ?? 4;
  const serviceMs = options.serviceMs ?? 10;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const random = seededRandom(options.seed ?? 42);
  const exp = (mean: number) => -mean * Math.log(1 - random());
  const clock = new FakeClock();
  const endAt = seconds * 1_000;

  let policy: Policy & { limit?: number; maxConcurrent?: number };
  if (limiter === 'none') policy = noop();
  else if (typeof limiter === 'object') policy = bulkhead({ maxConcurrent: limiter.fixed, clock });
  else policy = concurrencyLimit({ algorithm: limiter, clock });

  // The dependency: `workers` workers serving a FIFO queue, unaware of client timeouts.
  const queue: Job[] = [];
  let head = 0;
  let busy = 0;
  const serve = (job: Job) => {
    busy++;
    clock.setTimer(exp(serviceMs), () => {
      if (!job.settled) {
        job.settled = true;
        job.cancelTimeout();
        job.resolve();
      }
      busy--;
      if (head < queue.length) {
        const next = queue[head] as Job;
        queue[head++] = undefined as never;
        if (head > 4_096 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        serve(next);
      }
    });
  };
  const submit = (job: Job) => {
    if (busy < workers) serve(job);
    else queue.push(job);
  };

  let offered = 0;
  let rejected = 0;
  let timedOut = 0;
  let limitSum = 0;
  const latencies: number[] = [];

  const request = (started: number) => () =>
    new Promise<void>((resolve, reject) => {
      const job: Job = { settled: false, resolve, reject, cancelTimeout: () => {} };
      job.cancelTimeout = clock.setTimer(timeoutMs - (clock.now() - started), () => {
        if (job.settled) return;
        job.settled = true;
        reject(new TimeoutError(timeoutMs));
      });
      submit(job);
    });

  const arrive = () => {
    const started = clock.now();
    offered++;
    limitSum += policy.limit ?? policy.maxConcurrent ?? 0;
    policy.execute(request(started)).then(
      () => {
        if (clock.now() <= endAt) latencies.push(clock.now() - started);
      },
      (error: unknown) => {
        if (error instanceof BulkheadRejectedError) rejected++;
        else if (error instanceof TimeoutError) timedOut++;
        else throw error;
      },
    );
    const next = started + exp(1_000 / rps);
    if (next < endAt) clock.setTimer(next - started, arrive);
  };
  clock.setTimer(exp(1_000 / rps), arrive);
  await clock.advance(endAt + timeoutMs); // let the last requests finish or time out

  const sorted = Float64Array.from(latencies).sort();
  const capacity = (workers * 1_000) / serviceMs;
  const goodputRps = latencies.length / seconds;
  const p99Ms = percentile(sorted, 0.99);
  return {
    limiter: label(limiter),
    offeredRps: rps,
    goodputRps,
    goodputPercent: (100 * goodputRps) / capacity,
    p50Ms: percentile(sorted, 0.5),
    p99Ms,
    p99xService: p99Ms / serviceMs,
    rejectedPercent: (100 * rejected) / offered,
    timedOutPercent: (100 * timedOut) / offered,
    meanLimit: limiter === 'none' ? undefined : limitSum / offered,
  };
}

/** The limiters compared, in table order. */
export const SIM_LIMITERS: readonly SimLimiter[] = ['none', 'aimd', 'gradient', 'vegas'];
/** The offered loads, requests per second. */
export const SIM_RATES: readonly number[] = [300, 600, 1_200];

/** Every limiter at every offered load: the table `npm run sim:concurrency` prints. */
export async function runConcurrencySim(options: Partial<SimOptions> = {}): Promise<SimRow[]> {
  const rows: SimRow[] = [];
  for (const rps of SIM_RATES) {
    for (const limiter of SIM_LIMITERS) rows.push(await simulate({ ...options, limiter, rps }));
  }
  return rows;
}

/** The rows as a markdown table. */
export function formatTable(rows: readonly SimRow[]): string {
  const f = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits));
  const lines = [
    '| limiter | offered rps | goodput rps | goodput % of capacity | p50 ms | p99 ms | p99 × service | rejected % | timed out % | mean limit |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.limiter} | ${r.offeredRps} | ${f(r.goodputRps)} | ${f(r.goodputPercent)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.p99xService)} | ${f(r.rejectedPercent, 2)} | ${f(r.timedOutPercent, 2)} | ${f(r.meanLimit)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = process.hrtime.bigint();
  const rows = await runConcurrencySim();
  process.stdout.write(
    `4 workers × exponential 10 ms service (capacity 400 rps), clients time out after 1 s, 30 s simulated per row, seed 42\n\n${formatTable(rows)}\n\n(${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s)\n`,
  );
}
