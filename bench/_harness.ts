// Shared micro-benchmark harness: alternating rounds, median ns/op, ratios against the bare call
// (the first case) and against peers. Run on demand (npm run bench), never from tests.
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';

export interface BenchCase {
  /** Row label, e.g. `palisade retry()` or `cockatiel retry`. */
  name: string;
  /** One operation; awaited when it returns a promise. */
  fn: () => unknown;
}

export interface BenchOptions {
  /** Operations per timed batch. @default 200_000 */
  iterations?: number;
  /** Alternating rounds over all cases; the median is reported. @default 7 */
  rounds?: number;
}

export interface BenchRow {
  name: string;
  nsPerOp: number;
  ratioToBare: number;
}

async function timeBatch(fn: () => unknown, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return Number(process.hrtime.bigint() - start) / iterations;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** Measures every case in alternating rounds and prints a markdown table. Case 0 is the bare call. */
export async function compare(title: string, cases: BenchCase[], options: BenchOptions = {}): Promise<BenchRow[]> {
  const iterations = options.iterations ?? 200_000;
  const rounds = options.rounds ?? 7;
  const samples = cases.map(() => [] as number[]);
  for (const c of cases) await timeBatch(c.fn, Math.min(iterations, 20_000)); // warm up
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const index = r % 2 === 0 ? i : cases.length - 1 - i;
      samples[index]?.push(await timeBatch((cases[index] as BenchCase).fn, iterations));
    }
  }
  const bare = median(samples[0] as number[]);
  const rows = cases.map((c, i) => {
    const ns = median(samples[i] as number[]);
    return { name: c.name, nsPerOp: ns, ratioToBare: ns / bare };
  });
  printTable(title, rows);
  return rows;
}

export function printTable(title: string, rows: BenchRow[]): void {
  const lines = [`### ${title}`, '', '| case | ns/op | × bare |', '| --- | ---: | ---: |'];
  for (const row of rows) lines.push(`| ${row.name} | ${row.nsPerOp.toFixed(1)} | ${row.ratioToBare.toFixed(2)} |`);
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

/** One line naming the machine and runtime, for result files. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/** Writes `bench/results/<name>.md` so the last run's numbers stay beside the code. */
export function saveResults(name: string, markdown: string): void {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${name}.md`, import.meta.url), markdown);
}

/** Heap used after a full GC, in bytes (run node with --expose-gc for exact numbers). */
export function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}
