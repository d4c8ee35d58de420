// The contention model of the AWS "Exponential Backoff and Jitter" analysis, run with palisade's
// own retry() and backoffs: N clients race to update one row under optimistic concurrency. Each
// attempt is a conditional write carrying the version the client last saw; it travels |N(10, 2)| ms
// to the server, succeeds only if the row is still at that version (bumping it), and the answer
// (with the current version) travels |N(10, 2)| ms back. A client that lost backs off and tries
// again with the version it was told. All clients start together at t = 0: the thundering herd.
// Driven by FakeClock and a seeded PRNG (see sim/retry.ts).
import { FakeClock } from '@palisade/core/testing';
import { type Jitter, exponential, retry } from '@palisade/retry';
import { seededRandom } from '@palisade/core/testing';

export interface ContentionOptions {
  jitter: Jitter;
  /** Clients racing. @default 100 */
  clients?: number;
  /** PRNG seeds; the row is their mean. @default [1, 2, 3, 4, 5] */
  seeds?: readonly number[];
}

export interface ContentionRow {
  jitter: Jitter;
  clients: number;
  /** Attempts (conditional writes) sent by all clients until every one succeeded. */
  calls: number;
  /** Time until the last client succeeded, in ms. */
  completionMs: number;
}

class Conflict extends Error {}

async function race(jitter: Jitter, clients: number, seed: number): Promise<{ calls: number; completionMs: number }> {
  const clock = new FakeClock();
  const random = seededRandom(seed);
  // |N(10, 2)| by Box–Muller
  const networkMs = () => Math.abs(10 + 2 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
  const policy = retry({
    clock,
    random,
    maxAttempts: 100_000,
    budget: false,
    maxDelayMs: 2_000,
    backoff: exponential({ initialMs: 5, maxMs: 2_000, factor: 2, jitter }),
  });
  let version = 0;
  let calls = 0;
  let completionMs = 0;
  const runs: Promise<void>[] = [];
  for (let c = 0; c < clients; c++) {
    let seen = 0;
    runs.push(
      policy
        .execute(async () => {
          calls++;
          await clock.sleep(networkMs());
          const won = seen === version;
          if (won) version++;
          else seen = version;
          await clock.sleep(networkMs());
          if (!won) throw new Conflict();
        })
        .then(() => {
          completionMs = Math.max(completionMs, clock.now());
        }),
    );
  }
  await clock.runAll(10_000_000);
  await Promise.all(runs);
  return { calls, completionMs };
}

/** One jitter mode, averaged over the seeds. */
export async function simulateContention(options: ContentionOptions): Promise<ContentionRow> {
  const { jitter, clients = 100, seeds = [1, 2, 3, 4, 5] } = options;
  let calls = 0;
  let completionMs = 0;
  for (const seed of seeds) {
    const r = await race(jitter, clients, seed);
    calls += r.calls;
    completionMs += r.completionMs;
  }
  return { jitter, clients, calls: calls / seeds.length, completionMs: completionMs / seeds.length };
}

/** The jitter modes compared, in table order. */
export const CONTENTION_JITTERS: readonly Jitter[] = ['none', 'equal', 'full', 'decorrelated'];

/** Every jitter mode: the second table `npm run sim:retry` prints. */
export async function runContentionSim(options: Omit<ContentionOptions, 'jitter'> = {}): Promise<ContentionRow[]> {
  const rows: ContentionRow[] = [];
  for (const jitter of CONTENTION_JITTERS) rows.push(await simulateContention({ ...options, jitter }));
  return rows;
}

/** The rows as a markdown table. */
export function formatContentionTable(rows: readonly ContentionRow[]): string {
  const lines = ['| jitter | clients | calls | completion (ms) |', '| --- | ---: | ---: | ---: |'];
  for (const r of rows) {
    lines.push(`| ${r.jitter} | ${r.clients} | ${r.calls.toFixed(0)} | ${r.completionMs.toFixed(0)} |`);
  }
  return lines.join('\n');
}
