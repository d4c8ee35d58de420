// Shared micro-benchmark harness: alternating rounds, median ns/op, ratios against the bare call
// (the first case) and against peers. Run on demand (npm run bench), never from tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';

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

/**
 * The runtime's `gc()`: the one `--expose-gc` gives (npm run bench passes it), or else one obtained
 * by setting the flag at run time, so that a bench run with plain `npx tsx` measures the same way.
 */
export function gc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Bytes in use after a full GC: the JS heap plus array buffers (typed arrays over 64 bytes keep
 * their contents off the heap, and a window or histogram may be one).
 */
export function heapAfterGc(): number {
  const collect = gc();
  const used = () => {
    collect();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  // A GC may leave some garbage for the next one (pages swept concurrently, objects a GC keeps one
  // more cycle): collect until two readings agree to 1 kB.
  let last = used();
  for (let i = 0; i < 10; i++) {
    const now = used();
    if (Math.abs(now - last) < 1024) return now;
    last = now;
  }
  return last;
}

/**
 * Bytes held per key: the growth of {@link heapAfterGc} while `count` keys are given their state,
 * divided by `count`. `build` runs after the baseline (so whatever the structure allocates up front
 * for `count` keys, like lru-cache's index arrays, is counted, and so is any state it gives the keys
 * itself) and returns, or resolves to, the call that gives key `i` its state (awaited). Make key
 * strings fresh in that call: each key's own string is part of its cost.
 */
export async function bytesPerKey(
  count: number,
  build: () => ((i: number) => unknown) | Promise<(i: number) => unknown>,
): Promise<number> {
  const before = heapAfterGc();
  const fill = await build();
  // One variable, cleared after the loop: the last value fill() returned (which may be the
  // structure itself, like lru-cache's set()) must not outlive this measurement into the next.
  let r: unknown;
  for (let i = 0; i < count; i++) {
    r = fill(i);
    if (r instanceof Promise) await r;
  }
  r = undefined;
  const after = heapAfterGc();
  // `fill` holds the state: keep it reachable until measured.
  if (typeof fill !== 'function') throw new Error('unreachable');
  return (after - before) / count;
}

/**
 * Keeps this process (the client or load generator) off the last core and returns that core for
 * the server(s) to be pinned to with `taskset -c`, so that neither side's CPU is counted as the
 * other's; `undefined` where pinning is not possible (not Linux, one core, no taskset).
 */
export function pinToAllButLastCore(): number | undefined {
  const cores = os.cpus().length;
  if (process.platform !== 'linux' || cores < 2) return undefined;
  try {
    execFileSync('taskset', ['-a', '-pc', `0-${cores - 2}`, String(process.pid)], { stdio: 'ignore' });
    return cores - 1;
  } catch {
    return undefined;
  }
}

/**
 * Runs this bench file again in a fresh process with `flag` (same Node flags), its output joining
 * ours. For a goal's pair measured alone: in a process that has just run every variant of a policy
 * through the same `execute`, that method's JIT feedback is polymorphic, which costs 10-15% that a
 * service running one configuration of the policy never pays. Both figures are printed.
 */
export function runAlone(moduleUrl: string, flag: string): void {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(moduleUrl), flag], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (child.status !== 0) process.exitCode = child.status ?? 1;
}
