// Tail at scale, reproduced with the real hedge() policy driven by FakeClock: npm run sim:hedge.
//
// 1. Tail run. Every attempt takes lognormal(median 10 ms, sigma 0.25) plus, with probability 1%,
//    an independent stall of 200-2,000 ms. 200k calls (1,000 per second) with no hedge and hedged
//    at the adaptive p95 and p98: p50 / p99 / p99.9 and the extra calls sent.
// 2. Overload run. The same attempts are now served by 10 replicas of 4 workers, each replica a
//    FIFO queue (random routing; a hedge goes to another replica). An attempt holds its worker for
//    its whole latency, stall included, so at low load this is the tail run. The offered load rises
//    from 60% to 95% of capacity in steps; p50 / p99 per step with no hedge and with hedging, with
//    and without the budget, for two kinds of server: one that stops the work of an abandoned
//    attempt (it sees the connection close, as in packages/hedge/test/http.test.ts) and one that
//    finishes it anyway (only attempts still queued are dropped): the pessimistic case.
// 3. Overload run with the stalls in the network (a lost packet waits out a retransmission
//    timeout: 200 ms and up): an attempt reaches its replica late and holds a worker only for its
//    10 ms of work, so cancelling a stalled attempt frees no worker and every hedge that starts
//    work is extra load. Servers stop abandoned work; the load is that of the work alone.
//
// Seeded: the same seed prints the same tables. Each attempt's draws derive from (seed, call,
// attempt), so every configuration sees the same primaries (common random numbers).
import type { Context, Policy } from '@palisade/core';
import { FakeClock, seededRandom } from '@palisade/core/testing';
import { type HedgeOptions, hedge } from '@palisade/hedge';

/** One row of a printed table. */
export interface SimRow {
  run: 'tail' | 'overload';
  /** Overload run: what the replicas do with an abandoned attempt. */
  server?: AbandonedWork;
  /** Overload run: where the stalls happen. */
  stalls?: StallSite;
  /** Overload run: offered load, in percent of capacity. */
  loadPercent?: number;
  /** `no hedge`, `adaptive p95`, … */
  config: string;
  calls: number;
  /** Latency percentiles, in ms. */
  p50: number;
  p99: number;
  p999: number;
  /** Hedges sent, in percent of calls. */
  extraPercent: number;
  /** Hedges the budget refused, in percent of calls. */
  refusedPercent: number;
}

/** One configuration: a name and the hedge options, or none for plain calls. */
export interface SimConfig {
  config: string;
  /** Absent: the attempt is called directly, with no policy at all. */
  hedge?: Omit<HedgeOptions, 'clock' | 'onEvent'>;
}

/** What a replica does with an attempt whose client went away. */
export type AbandonedWork = 'stop' | 'finish';

/** Where an attempt's stall happens: on its replica (holding a worker) or on the way to it. */
export type StallSite = 'server' | 'network';

export interface SimOptions {
  /** @default 1 */
  seed?: number;
  /** Calls of the tail run, per configuration. @default 200_000 */
  tailCalls?: number;
  /** Calls per load step of the overload run, per configuration. @default 10_000 */
  stepCalls?: number;
  /** Overload run: where the stalls happen. @default 'server' */
  stalls?: StallSite;
}

// ---------------------------------------------------------------------------------------------
// Randomness: a hash of (seed, call, attempt) seeds a small generator, so the draws never depend
// on the order in which events happen.

function mix(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

const STALL_PROBABILITY = 0.01;

/** One attempt: lognormal(median 10 ms, sigma 0.25) plus, 1% of the time, a 200-2,000 ms stall. */
function drawAttempt(seed: number, call: number, attempt: number) {
  const random = seededRandom(mix(seed, call, attempt));
  const u1 = random() || Number.MIN_VALUE;
  const u2 = random();
  const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  const workMs = 10 * Math.exp(0.25 * normal);
  const stallMs = random() < STALL_PROBABILITY ? 200 + 1_800 * random() : 0;
  return { latencyMs: workMs + stallMs, workMs, stallMs, replica: random() };
}

/** Mean work of an attempt: 10·e^(0.25²/2) ms. */
const MEAN_WORK_MS = 10 * Math.exp(0.25 ** 2 / 2);
/** Mean attempt latency: the work + 1% × 1,100 ms. */
const MEAN_LATENCY_MS = MEAN_WORK_MS + STALL_PROBABILITY * 1_100;

// ---------------------------------------------------------------------------------------------
// Statistics

function percentile(sorted: Float64Array, p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

function summarize(latencies: Float64Array): { p50: number; p99: number; p999: number } {
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9) };
}

/** Percent of calls in [from, to): the sum of `counts` (less `minus` per call) over the calls. */
function share(counts: Uint8Array, from: number, to: number, minus = 0): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (counts[i] as number) - minus;
  return (100 * sum) / (to - from);
}

// ---------------------------------------------------------------------------------------------
// Driving calls through the policy with FakeClock

interface Driven {
  /** Each call's latency, in ms. */
  latencies: Float64Array;
  /** Attempts each call started. */
  attempts: Uint8Array;
  /** Hedges the budget refused, counted at the call started last when it happened. */
  refused: Uint8Array;
}

/**
 * Runs `calls` calls arriving as a Poisson process of `ratePerMs(call)` calls per ms through the
 * configured policy (or none); `attempt(call, ctx)` performs one attempt.
 */
async function drive(
  seed: number,
  clock: FakeClock,
  config: SimConfig,
  calls: number,
  ratePerMs: (call: number) => number,
  attempt: (call: number, ctx: Context) => Promise<void>,
): Promise<Driven> {
  const out: Driven = {
    latencies: new Float64Array(calls),
    attempts: new Uint8Array(calls),
    refused: new Uint8Array(calls),
  };
  let started = 0;
  let done = 0;
  const policy: Policy | undefined = config.hedge
    ? hedge({
        ...config.hedge,
        clock,
        onEvent: (event) => {
          if (event.type === 'hedge.budget-exhausted') (out.refused[started - 1] as number)++;
        },
      })
    : undefined;
  const arrivals = seededRandom(mix(seed, 0x5eed, 0));
  const arrive = () => {
    const call = started++;
    const start = clock.now();
    const settled = () => {
      out.latencies[call] = clock.now() - start;
      done++;
    };
    const fn = (ctx: Context) => {
      out.attempts[call] = Math.max(out.attempts[call] as number, ctx.attempt);
      return attempt(call, ctx);
    };
    (policy ? policy.execute(fn) : fn({ attempt: 1 } as Context)).then(settled, settled);
    if (started < calls) clock.setTimer(-Math.log(1 - arrivals()) / ratePerMs(started), arrive);
  };
  clock.setTimer(0, arrive);
  while (done < calls) await clock.advance(1_000);
  return out;
}

// ---------------------------------------------------------------------------------------------
// 1. Tail at scale

export const TAIL_CONFIGS: readonly SimConfig[] = [
  { config: 'no hedge' },
  { config: 'adaptive p95', hedge: { delayMs: { percentile: 95 } } },
  { config: 'adaptive p98', hedge: { delayMs: { percentile: 98 } } },
];

/** The tail run: one row per configuration. */
export async function tailRun(options: SimOptions = {}): Promise<SimRow[]> {
  const seed = options.seed ?? 1;
  const calls = options.tailCalls ?? 200_000;
  const rows: SimRow[] = [];
  for (const config of TAIL_CONFIGS) {
    const clock = new FakeClock();
    // Latencies are independent of load here, so a loser need not be stopped: its late end is
    // ignored by the policy (and sparing its AbortController keeps the run fast).
    const attempt = (call: number, ctx: Context) => clock.sleep(drawAttempt(seed, call, ctx.attempt).latencyMs);
    const { latencies, attempts, refused } = await drive(seed, clock, config, calls, () => 1, attempt);
    rows.push({
      run: 'tail',
      config: config.config,
      calls,
      ...summarize(latencies),
      extraPercent: share(attempts, 0, calls, 1),
      refusedPercent: share(refused, 0, calls),
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 2. Overload

const REPLICAS = 10;
const WORKERS = 4;
/** Attempts per ms the replicas can serve: each holds a worker for its latency, or only its work. */
const capacityPerMs = (stalls: StallSite) =>
  (REPLICAS * WORKERS) / (stalls === 'server' ? MEAN_LATENCY_MS : MEAN_WORK_MS);
export const LOAD_STEPS: readonly number[] = [60, 70, 80, 90, 95];

export const OVERLOAD_CONFIGS: Readonly<Record<AbandonedWork, readonly SimConfig[]>> = {
  stop: [
    { config: 'no hedge' },
    { config: 'adaptive p95, budget 10%', hedge: { delayMs: { percentile: 95 } } },
    { config: 'fixed 15 ms, budget 10%', hedge: { delayMs: 15 } },
  ],
  finish: [
    { config: 'no hedge' },
    { config: 'adaptive p95, budget 10%', hedge: { delayMs: { percentile: 95 } } },
    { config: 'adaptive p95, no budget', hedge: { delayMs: { percentile: 95 }, budgetPercent: 100 } },
    { config: 'fixed 15 ms, budget 10%', hedge: { delayMs: 15 } },
    { config: 'fixed 15 ms, no budget', hedge: { delayMs: 15, budgetPercent: 100 } },
  ],
};

/** The overload run with stalls in the network (servers that stop abandoned work). */
export const NETWORK_CONFIGS: readonly SimConfig[] = OVERLOAD_CONFIGS.finish;

interface Job {
  workMs: number;
  /** The attempt's signal (hedged configurations only). */
  signal: AbortSignal | undefined;
  resolve: () => void;
  reject: (reason: unknown) => void;
  cancel: (() => void) | undefined;
  onAbort: (() => void) | undefined;
}

/** One replica: a FIFO queue served by {@link WORKERS} workers. */
class Replica {
  readonly #clock: FakeClock;
  readonly #abandoned: AbandonedWork;
  readonly #queue: Job[] = [];
  #head = 0;
  #idle = WORKERS;

  constructor(clock: FakeClock, abandoned: AbandonedWork) {
    this.#clock = clock;
    this.#abandoned = abandoned;
  }

  submit(job: Job): void {
    this.#queue.push(job);
    if (this.#idle > 0) this.#next();
  }

  #next(): void {
    while (this.#idle > 0 && this.#head < this.#queue.length) {
      const job = this.#queue[this.#head++] as Job;
      if (this.#head > 1_024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      // An attempt abandoned while it waited is dropped by either kind of server.
      if (job.signal?.aborted) {
        job.reject(job.signal.reason);
        continue;
      }
      this.#idle--;
      job.cancel = this.#clock.setTimer(job.workMs, () => {
        if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
        this.#release();
        job.resolve();
      });
      if (job.signal && this.#abandoned === 'stop') {
        const signal = job.signal;
        job.onAbort = () => {
          job.cancel?.();
          this.#release();
          job.reject(signal.reason);
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
    }
  }

  #release(): void {
    this.#idle++;
    this.#next();
  }
}

/** Plain calls abandon nothing: their rows are the same for both kinds of server. */
const plainRows = new Map<string, Driven>();

/**
 * The overload run for one kind of server (and, with `options.stalls`, one site of the stalls):
 * one row per configuration and load step.
 */
export async function overloadRun(abandoned: AbandonedWork, options: SimOptions = {}): Promise<SimRow[]> {
  const seed = options.seed ?? 1;
  const perStep = options.stepCalls ?? 10_000;
  const stalls = options.stalls ?? 'server';
  const calls = perStep * LOAD_STEPS.length;
  const capacity = capacityPerMs(stalls);
  const rate = (call: number) => ((LOAD_STEPS[Math.floor(call / perStep)] ?? 95) / 100) * capacity;
  const configs = stalls === 'server' ? OVERLOAD_CONFIGS[abandoned] : NETWORK_CONFIGS;
  const rows: SimRow[] = [];
  for (const config of configs) {
    const plainKey = `${seed}:${perStep}:${stalls}`;
    const cached = config.hedge ? undefined : plainRows.get(plainKey);
    const clock = new FakeClock();
    const replicas = Array.from({ length: REPLICAS }, () => new Replica(clock, abandoned));
    /** Each call picks a random replica; its hedges go to the next ones. */
    const firstReplica = new Uint8Array(calls);
    const attempt = (call: number, ctx: Context): Promise<void> => {
      const { latencyMs, workMs, stallMs, replica } = drawAttempt(seed, call, ctx.attempt);
      if (ctx.attempt === 1) firstReplica[call] = Math.floor(replica * REPLICAS);
      const target = replicas[((firstReplica[call] as number) + ctx.attempt - 1) % REPLICAS] as Replica;
      const signal = config.hedge ? ctx.signal : undefined;
      return new Promise<void>((resolve, reject) => {
        if (stalls === 'server' || stallMs === 0) {
          // The worker is held for the whole latency: work and (on the server) stall.
          target.submit({ workMs: latencyMs, signal, resolve, reject, cancel: undefined, onAbort: undefined });
          return;
        }
        // Stalled on the way: the replica sees the attempt late, or never if it was abandoned.
        const job: Job = { workMs, signal, resolve, reject, cancel: undefined, onAbort: undefined };
        const onAbort = () => {
          cancel();
          reject(signal?.reason);
        };
        const cancel = clock.setTimer(stallMs, () => {
          signal?.removeEventListener('abort', onAbort);
          target.submit(job);
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    };
    const driven = cached ?? (await drive(seed, clock, config, calls, rate, attempt));
    if (!config.hedge) plainRows.set(plainKey, driven);
    const { latencies, attempts, refused } = driven;
    LOAD_STEPS.forEach((load, step) => {
      const from = step * perStep;
      const to = from + perStep;
      rows.push({
        run: 'overload',
        server: abandoned,
        stalls,
        loadPercent: load,
        config: config.config,
        calls: perStep,
        ...summarize(latencies.subarray(from, to)),
        extraPercent: share(attempts, from, to, 1),
        refusedPercent: share(refused, from, to),
      });
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

/** The rows as a markdown table. */
export function formatTable(rows: readonly SimRow[]): string {
  const overload = rows[0]?.run === 'overload';
  const head = overload ? '| load | config ' : '| config ';
  const lines = [
    `${head}| calls | p50 ms | p99 ms | p99.9 ms | extra calls | refused by budget |`,
    `${overload ? '| ---: | --- ' : '| --- '}| ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  for (const r of rows) {
    const first = overload ? `| ${r.loadPercent}% | ${r.config} ` : `| ${r.config} `;
    lines.push(
      `${first}| ${r.calls} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.p999)} | ${r.extraPercent.toFixed(2)}% | ${r.refusedPercent.toFixed(2)}% |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = process.hrtime.bigint();
  const print = (title: string, rows: SimRow[]) => process.stdout.write(`### ${title}\n\n${formatTable(rows)}\n\n`);
  print('Tail at scale: 200k calls, lognormal(10 ms, 0.25) + 1% stalls of 200-2,000 ms', await tailRun());
  print('Overload, servers that stop abandoned work', await overloadRun('stop'));
  print('Overload, servers that finish abandoned work (pessimistic)', await overloadRun('finish'));
  print(
    'Overload, stalls in the network (no worker held while stalled), servers that stop abandoned work',
    await overloadRun('stop', { stalls: 'network' }),
  );
  process.stdout.write(`seed 1, ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s\n`);
}
