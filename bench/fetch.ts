// Requests/s of createFetch() with timeout + retry + circuit breaker against plain fetch, in one run,
// beside cockatiel's wrap(retry, breaker, timeout) around fetch and plain fetch given a fresh
// AbortSignal (what a wrapper pays when its timeout aborts the request through a signal; on Node's
// own fetch palisade stops it through undici's dispatcher instead). The server (plain
// node:http, keep-alive, a 2-byte body) runs in a child process so that only the client's work is
// measured. Each operation is a burst of CONCURRENCY requests in flight at once, bodies read. Wall
// time swings with whatever else the machine runs; the client's CPU time per request is reported
// beside it as the steadier measure of what a wrapper costs. Where `taskset` exists and there are
// two cores or more, the server runs on the last core and this process on the others.
//
// Then the goal's pair (plain fetch, createFetch with timeout + retry + breaker, plain fetch again)
// runs alone in a fresh process (see runAlone), with more and shorter rounds, so that its figure
// owes nothing to the other cases' JIT feedback; its ratios are also paired: taken within each
// round, then the median. That process's tables are printed; it runs GOAL_PROCESSES times in all,
// because on a small VM the paired figure of one process swings by more than the goal's 5% from
// one process to the next (0.84 to 0.96 on the same code), and the summary gives the median and
// the range over the processes.
import { createFetch } from '@palisade/fetch';
import { cockatielFetchPolicy } from './_cockatiel.js';
import {
  type BenchRow,
  FETCH_POLICY,
  FETCH_POLICY_NO_TIMEOUT,
  compare,
  machine,
  median,
  peerCells,
  peerHeader,
  pinToAllButLastCore,
  pinningNote,
  runAloneOutput,
  startFetchServer,
} from './_harness.js';

const CONCURRENCY = 16;
/** Fresh processes the goal's pair runs in, one after another. */
const GOAL_PROCESSES = 5;

/** The core the server runs on, when pinning is possible (and this process then keeps off it). */
const serverCore = pinToAllButLastCore();
const { child, url } = await startFetchServer(serverCore);

const palisade = createFetch({ policy: FETCH_POLICY });
const noHeader = createFetch({ policy: FETCH_POLICY, propagateDeadline: false });
const noTimeout = createFetch({ policy: FETCH_POLICY_NO_TIMEOUT });
const passThrough = createFetch({});
const cockatiel = cockatielFetchPolicy();

/**
 * Client CPU time per burst, per case: on a machine shared with other work, wall-clock throughput
 * swings with the neighbours' load, while the CPU this process spends per request is what a
 * wrapper adds. Its median is reported beside requests/s.
 */
const cpu = new Map<string, number[]>();

/** One operation: CONCURRENCY requests at once, each read to the end (so its socket is reused). */
const burst = (name: string, one: () => Promise<string>) => {
  const samples: number[] = [];
  cpu.set(name, samples);
  return async () => {
    const start = process.cpuUsage();
    const all: Promise<string>[] = [];
    for (let i = 0; i < CONCURRENCY; i++) all.push(one());
    await Promise.all(all);
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / CONCURRENCY);
  };
};
const text = (res: Response) => res.text();

const PLAIN = 'plain fetch';
const PALISADE = 'palisade createFetch (timeout + retry + breaker)';
const PASS = 'palisade createFetch (no policy)';
const NO_TIMEOUT = 'palisade createFetch (retry + breaker, nothing that aborts)';
const NO_HEADER = 'palisade createFetch (same, propagateDeadline: false)';
const CONTROL = 'plain fetch again (control: the noise of this run)';
const SIGNAL = 'plain fetch + a fresh AbortSignal (what a signal-based timeout needs)';
const COCKATIEL = 'cockatiel wrap(retry, breaker, timeout) + fetch';

const GOAL = process.argv.includes('--goal');
/** Bursts per timed batch, and rounds: the goal's run takes more, shorter rounds. */
const ITERATIONS = GOAL ? 20 : 30;
const ROUNDS = GOAL ? 41 : 9;
/**
 * Untimed bursts per case before the first round: 20,000 requests. V8 goes on compiling undici's
 * and palisade's functions for the first few thousand requests of a process (the counts are in
 * bench/instructions.ts), and a process serves that once: a throughput figure that includes it
 * measures start-up instead.
 */
const WARMUP = 1_250;

const plainCase = { name: PLAIN, fn: burst(PLAIN, () => fetch(url).then(text)) };
const palisadeCase = { name: PALISADE, fn: burst(PALISADE, () => palisade(url).then(text)) };
const controlCase = { name: CONTROL, fn: burst(CONTROL, () => fetch(url).then(text)) };
// The goal's run prints after the main one's last line (see runAlone): a blank line between.
if (GOAL) process.stdout.write('\n');
const rows: BenchRow[] = GOAL
  ? await compare(
      `fetch, the goal's pair alone in a fresh process: ${CONCURRENCY} requests in flight per op, ns per op (a burst)`,
      [plainCase, palisadeCase, controlCase],
      { iterations: ITERATIONS, rounds: ROUNDS, warmup: WARMUP, order: 'balanced' },
    )
  : await compare(
      `fetch: ${CONCURRENCY} requests in flight per op, ns per op (a burst)`,
      [
        plainCase,
        palisadeCase,
        { name: NO_HEADER, fn: burst(NO_HEADER, () => noHeader(url).then(text)) },
        { name: NO_TIMEOUT, fn: burst(NO_TIMEOUT, () => noTimeout(url).then(text)) },
        { name: PASS, fn: burst(PASS, () => passThrough(url).then(text)) },
        {
          name: SIGNAL,
          fn: burst(SIGNAL, () => fetch(url, { signal: new AbortController().signal }).then(text)),
        },
        // cockatiel aborts its signal when execute() settles, so the body must be read inside.
        {
          name: COCKATIEL,
          fn: burst(COCKATIEL, () => cockatiel.execute(({ signal }) => fetch(url, { signal }).then(text))),
          peer: 'cockatiel',
          versus: PALISADE,
        },
        controlCase,
      ],
      { iterations: ITERATIONS, rounds: ROUNDS, warmup: WARMUP, order: 'balanced' },
    );

// The baseline is the mean of the two plain-fetch rows (first and last of the list): on a shared
// machine their gap is the noise floor of the run, printed with the table.
const rowOf = (name: string) => rows.find((r) => r.name === name) as BenchRow;
const baseNs = (rowOf(PLAIN).nsPerOp + rowOf(CONTROL).nsPerOp) / 2;
/** A case's CPU samples from its timed bursts: compare() also runs `fn` WARMUP times first. */
const timedCpu = (name: string): number[] => (cpu.get(name) as number[]).slice(-ROUNDS * ITERATIONS);
const plainCpu = median(timedCpu(PLAIN));
const controlCpu = median(timedCpu(CONTROL));
const baseCpu = (plainCpu + controlCpu) / 2;
// The speed ratio to the peer is the table above's; here, the ratio of client CPU per request.
const cpuCells = peerCells(rows, (row) => median(timedCpu(row.name)), 'cpu');
const lines = [
  `| case | requests/s | share of plain fetch | client CPU µs/request | CPU × plain fetch | ${peerHeader('cpu')} |`,
  '| --- | ---: | ---: | ---: | ---: | ---: |',
];
for (const [i, row] of rows.entries()) {
  const perSecond = (CONCURRENCY * 1e9) / row.nsPerOp;
  const us = median(timedCpu(row.name));
  lines.push(
    `| ${row.name} | ${Math.round(perSecond).toLocaleString('en-US')} | ${(baseNs / row.nsPerOp).toFixed(3)} | ${us.toFixed(1)} | ${(us / baseCpu).toFixed(3)} | ${cpuCells[i]} |`,
  );
}
lines.push(
  '',
  `Baseline: the mean of the two plain-fetch rows, which differ by ${((Math.abs(plainCpu - controlCpu) / baseCpu) * 100).toFixed(1)}% in CPU and ${((Math.abs(rowOf(PLAIN).nsPerOp - rowOf(CONTROL).nsPerOp) / baseNs) * 100).toFixed(1)}% in wall time in this run: differences smaller than that are noise.`,
);
if (GOAL) {
  // Paired: each round's palisade figure against the mean of the same round's two plain rows.
  const perRound = (values: number[]): number[] => {
    const rounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = values.slice(r * ITERATIONS, (r + 1) * ITERATIONS);
      rounds.push(round.reduce((a, b) => a + b, 0) / round.length);
    }
    return rounds;
  };
  const [plainCpuR, palisadeCpuR, controlCpuR] = [PLAIN, PALISADE, CONTROL].map((n) => perRound(timedCpu(n))) as [
    number[],
    number[],
    number[],
  ];
  const speed = median(
    rowOf(PALISADE).samples.map(
      (ns, r) => ((rowOf(PLAIN).samples[r] as number) + (rowOf(CONTROL).samples[r] as number)) / 2 / ns,
    ),
  );
  const cpuRatio = median(
    palisadeCpuR.map((us, r) => us / (((plainCpuR[r] as number) + (controlCpuR[r] as number)) / 2)),
  );
  lines.push(
    '',
    `Paired over the ${ROUNDS} rounds (goal: within 5% of plain fetch): createFetch serves ${speed.toFixed(3)} of plain fetch's requests/s, at ${cpuRatio.toFixed(3)}× its client CPU per request.`,
  );
}
process.stdout.write(`${lines.join('\n')}\n\n${machine()}; ${pinningNote(serverCore)}\n`);
child.kill();
if (!GOAL) {
  const outputs = Array.from({ length: GOAL_PROCESSES }, () => runAloneOutput(import.meta.url, '--goal'));
  process.stdout.write(outputs[0] ?? '');
  const PAIRED = /createFetch serves ([\d.]+) of plain fetch's requests\/s, at ([\d.]+)× its client CPU/;
  const figures = outputs.map((out) => PAIRED.exec(out)).filter((m): m is RegExpExecArray => m !== null);
  if (figures.length < outputs.length) {
    // A process that printed no paired figure failed, or its sentence no longer matches PAIRED.
    process.stderr.write(`bench/fetch: ${outputs.length - figures.length} goal process(es) gave no paired figure\n`);
    process.exitCode = 1;
  }
  const speeds = figures.map((m) => Number(m[1]));
  const cpus = figures.map((m) => Number(m[2]));
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}`;
  if (figures.length > 0) {
    process.stdout.write(
      `\nThe goal's pair in ${figures.length} fresh processes, one after another (the tables above are the first's): createFetch serves a median ${median(speeds).toFixed(3)} (${range(speeds)}) of plain fetch's requests/s, at ${median(cpus).toFixed(3)}× (${range(cpus)}) its client CPU per request. Each process's figure: ${speeds.map((x) => x.toFixed(3)).join(', ')}.\n`,
    );
  }
}
