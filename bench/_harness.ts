// Shared micro-benchmark harness: alternating rounds, median ns/op, ratios against the bare call
// (the first case) and against peers. Run on demand (npm run bench), never from tests.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import type { FetchPolicy } from '@palisade/fetch';

/** The middle value (of an odd count; the upper middle of an even one). */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/**
 * The peer libraries measured against palisade (dev dependencies of bench/ only). A row of one of
 * them is marked with {@link PeerMark} so that its table gets the peer-ratio column.
 */
export type Peer =
  | 'cockatiel'
  | 'opossum'
  | 'p-retry'
  | 'p-limit'
  | 'bottleneck'
  | 'rate-limiter-flexible'
  | 'express-rate-limit'
  | 'hono-rate-limiter';

/**
 * Marks a row as a peer's: `peer` names the library, `versus` is the exact name of the palisade row
 * in the same table it is compared with (the like-for-like one, named rather than guessed).
 */
export type PeerMark = { peer: Peer; versus: string } | { peer?: undefined; versus?: undefined };

/** A row of any table: its label, and whether it is a peer's. */
export type Peered = { name: string } & PeerMark;

/**
 * What a table's figures measure, which decides the way the peer ratio is taken so that it always
 * reads "> 1: palisade does better": costs (time per op, CPU, bytes) as peer ÷ palisade, rates
 * (requests or operations per second) as palisade ÷ peer.
 */
export type Quantity = 'time' | 'rate' | 'cpu' | 'bytes';

const PEER_HEADERS: Record<Quantity, string> = {
  time: "palisade's speed ÷ the peer's (> 1: palisade faster)",
  rate: "palisade's speed ÷ the peer's (> 1: palisade faster)",
  cpu: "the peer's CPU ÷ palisade's (> 1: palisade cheaper)",
  bytes: "the peer's bytes ÷ palisade's (> 1: palisade smaller)",
};

/** The header of the peer-ratio column of a table whose figures are of `quantity`. */
export function peerHeader(quantity: Quantity): string {
  return PEER_HEADERS[quantity];
}

/**
 * The peer-ratio cells of a table, one per row: empty for palisade's and other rows, and for each
 * peer's row how many times better palisade's `versus` row does, e.g. `2.93 (vs palisade retry())`.
 * `values` gives a row's figures per round, the same rounds for every row (the ratio is then the
 * median over rounds of the ratio in each round, so that a slow round weighs on both sides), or a
 * single figure. Throws when a `versus` names no row: a pairing must never silently go missing.
 */
export function peerCells<R extends Peered>(
  rows: R[],
  values: (row: R) => number | number[],
  quantity: Quantity,
): string[] {
  return rows.map((row) => {
    if (row.peer === undefined) return '';
    const palisade = rows.find((r) => r.name === row.versus);
    if (palisade === undefined) throw new Error(`${row.name}: no row named "${row.versus}" to compare with`);
    const ours = [values(palisade)].flat();
    const theirs = [values(row)].flat();
    if (ours.length !== theirs.length) throw new Error(`${row.name}: not measured in the same rounds as its pair`);
    const ratios = ours.map((x, i) => (quantity === 'rate' ? x / (theirs[i] as number) : (theirs[i] as number) / x));
    return `${median(ratios).toFixed(2)} (vs ${palisade.name})`;
  });
}

/** Whether any row of a table is a peer's (the table then gets the peer-ratio column). */
export const hasPeers = (rows: Peered[]): boolean => rows.some((r) => r.peer !== undefined);

export type BenchCase = {
  /** Row label, e.g. `palisade retry()` or `cockatiel retry`. */
  name: string;
  /** One operation; awaited when it returns a promise. */
  fn: () => unknown;
} & PeerMark;

export interface BenchOptions {
  /** Operations per timed batch. @default 200_000 */
  iterations?: number;
  /** Alternating rounds over all cases; the median is reported. Odd, so the median is a sample. @default 7 */
  rounds?: number;
  /** Untimed operations per case before the first round. @default min(iterations, 20_000) */
  warmup?: number;
  /**
   * The order of the cases in each round. `'alternate'`: forward, then backward, so no case always
   * runs first or last, but a middle case never runs first or last at all. `'balanced'`: round r
   * starts at case r mod n and runs forward, then (the next n rounds) backward, so every case
   * takes every place equally often. The fetch benches use it, since their goal's palisade case
   * sat in the middle: there a second plain `fetch` case in the middle read 1.017 and 1.034 of the
   * first and last ones' speed with alternate rounds, 0.958 and 0.975 with balanced rounds (two
   * processes each; differences of that size are also that bench's noise). @default 'alternate'
   */
  order?: 'alternate' | 'balanced';
}

/** The index of the case that runs `place`-th (0-based) in round `round` of `n` cases. */
export function caseAt(order: 'alternate' | 'balanced', round: number, place: number, n: number): number {
  if (order === 'alternate') return round % 2 === 0 ? place : n - 1 - place;
  const start = round % n;
  const backward = Math.floor(round / n) % 2 === 1;
  return backward ? (start - place + n) % n : (start + place) % n;
}

export type BenchRow = {
  name: string;
  /** Median over rounds. */
  nsPerOp: number;
  ratioToBare: number;
  /** ns/op of each round, in round order (the same rounds for every row of a table). */
  samples: number[];
  /** How the row was measured, for the table's note. */
  rounds: number;
  iterations: number;
  /** The order of the cases in the rounds (see {@link BenchOptions.order}). */
  order: 'alternate' | 'balanced';
} & PeerMark;

/** ns per call of `fn` over `iterations` calls in a row (each awaited when it returns a promise). */
export async function timeBatch(fn: () => unknown, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return Number(process.hrtime.bigint() - start) / iterations;
}

/**
 * Measures every case in rounds (alternating by default, or balanced: see {@link BenchOptions.order})
 * and prints a markdown table: median ns/op, the ratio to the bare call (case 0), and for peers'
 * cases the ratio to their palisade pair. Returns the rows.
 */
export async function compare(title: string, cases: BenchCase[], options: BenchOptions = {}): Promise<BenchRow[]> {
  const iterations = options.iterations ?? 200_000;
  const rounds = options.rounds ?? 7;
  const samples = cases.map(() => [] as number[]);
  const warmup = options.warmup ?? Math.min(iterations, 20_000);
  const order = options.order ?? 'alternate';
  for (const c of cases) await timeBatch(c.fn, warmup);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const index = caseAt(order, r, i, cases.length);
      samples[index]?.push(await timeBatch((cases[index] as BenchCase).fn, iterations));
    }
  }
  const bare = median(samples[0] as number[]);
  const rows = cases.map((c, i): BenchRow => {
    const own = samples[i] as number[];
    const ns = median(own);
    const base = { name: c.name, nsPerOp: ns, ratioToBare: ns / bare, samples: own, rounds, iterations, order };
    return c.peer === undefined ? base : { ...base, peer: c.peer, versus: c.versus };
  });
  printTable(title, rows);
  return rows;
}

/** The markdown lines of a {@link compare} table (title, how it was measured, rows). */
export function formatTable(title: string, rows: BenchRow[]): string[] {
  const first = rows[0];
  const peers = hasPeers(rows);
  const how = first
    ? `Median of ${first.rounds} ${first.order === 'balanced' ? 'balanced' : 'alternating'} rounds of ${first.iterations.toLocaleString('en-US')} calls per case; "× bare" is the ratio to the first row${peers ? '; the peer column is the median over rounds of the same-round ratio, so it may differ a little from the ratio of the two medians' : ''}.`
    : '';
  const cells = peers ? peerCells(rows, (r) => r.samples, 'time') : [];
  const lines = [
    `### ${title}`,
    '',
    how,
    '',
    `| case | ns/op | × bare |${peers ? ` ${peerHeader('time')} |` : ''}`,
    `| --- | ---: | ---: |${peers ? ' ---: |' : ''}`,
  ];
  rows.forEach((row, i) => {
    lines.push(
      `| ${row.name} | ${row.nsPerOp.toFixed(1)} | ${row.ratioToBare.toFixed(2)} |${peers ? ` ${cells[i]} |` : ''}`,
    );
  });
  return lines;
}

export function printTable(title: string, rows: BenchRow[]): void {
  process.stdout.write(`${formatTable(title, rows).join('\n')}\n\n`);
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

/** How a bench placed its server: the core {@link pinToAllButLastCore} gave it, if any. */
export const pinningNote = (serverCore: number | undefined): string =>
  serverCore === undefined
    ? 'client and server not pinned'
    : `server pinned to core ${serverCore}, client to the others`;

/** `argv` run on `core` (through taskset) when {@link pinToAllButLastCore} gave one, else as it is. */
export const onCore = (core: number | undefined, argv: readonly string[]): string[] =>
  core === undefined ? [...argv] : ['taskset', '-c', String(core), ...argv];

/** What the fetch benches measure: the goal's timeout + retry + breaker, as `createFetch`'s `policy`. */
export const FETCH_POLICY = { timeout: '10s', retry: { maxAttempts: 3 }, circuitBreaker: true } satisfies FetchPolicy;
/** {@link FETCH_POLICY} without its timeout: nothing in it aborts a request. */
export const FETCH_POLICY_NO_TIMEOUT = { retry: FETCH_POLICY.retry, circuitBreaker: true } satisfies FetchPolicy;

/** The fetch benches' server, a script for `node -e`: node:http, keep-alive, a 2-byte body. */
const FETCH_SERVER = `
  const http = require('node:http');
  const server = http.createServer((req, res) => { res.writeHead(200, { 'content-length': '2' }); res.end('ok'); });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
`;

/**
 * Starts the fetch benches' server on `core` (if any) and resolves once it listens on 127.0.0.1.
 * @param node how to run Node: `[process.execPath]`, or with a tool and flags in front of it and
 * Node flags after it
 * @param stderr the server's stderr: `'ignore'` for a tool that prints its own banner there
 */
export async function startFetchServer(
  core: number | undefined,
  node: readonly string[] = [process.execPath],
  stderr: 'inherit' | 'ignore' = 'inherit',
): Promise<{ child: ChildProcess; url: string }> {
  const [command, ...args] = onCore(core, [...node, '-e', FETCH_SERVER]) as [string, ...string[]];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', stderr] });
  const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [string];
  return { child, url: `http://127.0.0.1:${line.split(' ')[1]}/` };
}

/**
 * Runs this bench file again in a fresh process with `flag` (same Node flags), its output joining
 * ours. For a goal's pair measured alone: in a process that has just run every variant of a policy
 * through the same `execute`, that method's JIT feedback is polymorphic, which costs 10-15% that a
 * service running one configuration of the policy never pays. Both figures are printed.
 */
export function runAlone(moduleUrl: string, flag: string): void {
  process.stdout.write(runAloneOutput(moduleUrl, flag));
}

/**
 * {@link runAlone}, returning the fresh process's output instead of printing it: for a goal run
 * repeated in several fresh processes, whose figures swing between processes (each JITs the same
 * code its own way) by more than the goal's margin. `nodeFlags` go to the fresh process's Node
 * (after this one's own), e.g. a young-generation size for an allocation count.
 */
export function runAloneOutput(moduleUrl: string, flag: string, nodeFlags: readonly string[] = []): string {
  const child = spawnSync(process.execPath, [...process.execArgv, ...nodeFlags, fileURLToPath(moduleUrl), flag], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (child.status !== 0) process.exitCode = child.status ?? 1;
  return child.stdout ?? '';
}
