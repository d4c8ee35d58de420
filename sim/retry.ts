// Simulation: one client process sends 1,000 requests/s to a dependency that fails a share f of
// calls (each attempt independently), for f ∈ {0, 5, 20, 50, 100}%. It compares no retry, plain
// 3 attempts, palisade's retry() with its defaults (3 attempts, exponential backoff, adaptive
// budget), and, for reference, the fixed budgets it has to beat: Finagle's (20% of requests plus
// 10/s) and the SRE book's per-client 10% (retries ≤ 10% of all requests sent). Driven by FakeClock
// and a seeded PRNG: every run prints the same tables. `npm run sim:retry` prints this table and
// the contention model's (sim/retry-contention.ts); packages/retry/test/sim.test.ts asserts the goals.
import type { Clock } from '@palisade/core';
import { FakeClock, seededRandom } from '@palisade/core/testing';
import { type RetryBudget, retry } from '@palisade/retry';
import { formatContentionTable, runContentionSim } from './retry-contention.js';

/** The retry strategy of the client. */
export type RetryStrategy = 'none' | 'plain' | 'palisade' | 'finagle' | 'sre';

export interface LoadSimOptions {
  strategy: RetryStrategy;
  /** Share of attempts the dependency fails, in percent. */
  failurePercent: number;
  /** Requests per second (one every 1000 / rps ms). @default 1000 */
  rps?: number;
  /** Seconds measured, after the warm-up. @default 20 */
  seconds?: number;
  /** Seconds run before measuring, so that budgets reach their steady state. @default 10 */
  warmupSeconds?: number;
  /** PRNG seed. @default 42 */
  seed?: number;
}

export interface LoadRow {
  strategy: RetryStrategy;
  failurePercent: number;
  /** Requests started in the measured span. */
  requests: number;
  /** Attempts per request (load amplification). */
  load: number;
  /** Requests that ended in success, in percent. */
  successPercent: number;
}

/**
 * A fixed-ratio budget over a sliding 10 s window (ten 1 s buckets), for the reference rows:
 * `finagle` allows `0.2 × first attempts + 10/s`; `sre` allows a retry while retries stay ≤ 10%
 * of all requests sent (first attempts and retries). It implements palisade's RetryBudget
 * interface, so palisade's retry() runs it unchanged.
 */
function fixedBudget(kind: 'finagle' | 'sre', clock: Clock): RetryBudget {
  const first = new Float64Array(10);
  const retries = new Float64Array(10);
  let head = 0;
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  const advance = (): number => {
    const bucket = Math.floor(clock.now() / 1_000);
    for (; head < bucket; head++) {
      first[(head + 1) % 10] = 0;
      retries[(head + 1) % 10] = 0;
    }
    return bucket % 10;
  };
  const allows = (): boolean => {
    const f = sum(first);
    const r = sum(retries);
    return kind === 'finagle' ? r + 1 <= 0.2 * f + 100 : (r + 1) / (f + r + 1) <= 0.1;
  };
  return {
    ratio: kind === 'finagle' ? 0.2 : 0.1,
    minPerSecond: kind === 'finagle' ? 10 : 0,
    windowMs: 10_000,
    get firstAttempts() {
      advance();
      return sum(first);
    },
    get retries() {
      advance();
      return sum(retries);
    },
    failures: 0,
    get available() {
      return allows() ? 1 : 0;
    },
    deposit() {
      (first[advance()] as number)++;
    },
    recordFailure() {},
    tryWithdraw() {
      const slot = advance();
      if (!allows()) return false;
      (retries[slot] as number)++;
      return true;
    },
  };
}

class Unavailable extends Error {}

/** One strategy at one failure rate. */
export async function simulateLoad(options: LoadSimOptions): Promise<LoadRow> {
  const { strategy, failurePercent, rps = 1_000, seconds = 20, warmupSeconds = 10, seed = 42 } = options;
  const clock = new FakeClock();
  const random = seededRandom(seed);
  const jitter = seededRandom(seed + 1);
  const common = { clock, random: jitter };
  const policy =
    strategy === 'none'
      ? retry({ ...common, maxAttempts: 1, budget: false })
      : strategy === 'plain'
        ? retry({ ...common, maxAttempts: 3, budget: false })
        : strategy === 'palisade'
          ? retry(common)
          : retry({ ...common, budget: fixedBudget(strategy, clock) });
  const f = failurePercent / 100;
  const everyMs = 1_000 / rps;
  const measureFrom = warmupSeconds * 1_000;
  const end = measureFrom + seconds * 1_000;
  let requests = 0;
  let attempts = 0;
  let successes = 0;
  for (let t = 0; t < end; t += everyMs) {
    if (t > clock.now()) await clock.advanceTo(t);
    const measured = t >= measureFrom;
    if (measured) requests++;
    policy
      .execute(() => {
        if (measured) attempts++;
        return random() < f ? Promise.reject(new Unavailable()) : Promise.resolve('ok');
      })
      .then(
        () => {
          if (measured) successes++;
        },
        () => {},
      );
  }
  await clock.runAll(1_000_000);
  return {
    strategy,
    failurePercent,
    requests,
    load: attempts / requests,
    successPercent: (100 * successes) / requests,
  };
}

/** The failure rates simulated, in percent. */
export const SIM_FAILURE_PERCENTS: readonly number[] = [0, 5, 20, 50, 100];
/** The strategies compared, in table order. */
export const SIM_STRATEGIES: readonly RetryStrategy[] = ['none', 'plain', 'palisade', 'finagle', 'sre'];

/** Every strategy at every failure rate: the first table `npm run sim:retry` prints. */
export async function runLoadSim(options: Partial<Omit<LoadSimOptions, 'strategy' | 'failurePercent'>> = {}) {
  const rows: LoadRow[] = [];
  for (const failurePercent of SIM_FAILURE_PERCENTS) {
    for (const strategy of SIM_STRATEGIES) rows.push(await simulateLoad({ ...options, strategy, failurePercent }));
  }
  return rows;
}

const STRATEGY_LABELS: Record<RetryStrategy, string> = {
  none: 'no retry',
  plain: 'plain 3 attempts',
  palisade: 'palisade retry() defaults',
  finagle: 'Finagle budget (20% + 10/s)',
  sre: 'SRE per-client 10%',
};

/** The rows as a markdown table. */
export function formatLoadTable(rows: readonly LoadRow[]): string {
  const lines = ['| failing | strategy | load (attempts/request) | success % |', '| ---: | --- | ---: | ---: |'];
  for (const r of rows) {
    lines.push(
      `| ${r.failurePercent}% | ${STRATEGY_LABELS[r.strategy]} | ${r.load.toFixed(3)}x | ${r.successPercent.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = process.hrtime.bigint();
  const load = await runLoadSim();
  process.stdout.write(
    `Load amplification: 1,000 requests/s, each attempt failing with probability f; 10 s warm-up, 20 s measured, seed 42\n\n${formatLoadTable(load)}\n\n`,
  );
  const contention = await runContentionSim();
  process.stdout.write(
    `Contention: 100 clients racing on one optimistic-concurrency row; network |N(10, 2)| ms each way; exponential backoff from 5 ms, capped at 2 s; mean of 5 seeds\n\n${formatContentionTable(contention)}\n\n(${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s)\n`,
  );
}
