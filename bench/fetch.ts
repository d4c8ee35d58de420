// Requests/s of createFetch() with timeout + retry + circuit breaker against plain fetch, in one run,
// beside cockatiel's wrap(retry, breaker, timeout) around fetch and plain fetch given a fresh
// AbortSignal (what a wrapper pays when its timeout aborts the request through a signal; on Node's
// own fetch palisade stops it through undici's dispatcher instead). The server (plain
// node:http, keep-alive, a 2-byte body) runs in a child process so that only the client's work is
// measured. Each operation is a burst of CONCURRENCY requests in flight at once, bodies read. Wall
// time swings with whatever else the machine runs; the client's CPU time per request is reported
// beside it as the steadier measure of what a wrapper costs. Where `taskset` exists and there are
// two cores or more, the server runs on the last core and this process on the others.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createFetch } from '@palisade/fetch';
import {
  ExponentialBackoff,
  TimeoutStrategy,
  handleAll,
  retry as cockatielRetry,
  timeout as cockatielTimeout,
  wrap,
} from 'cockatiel';
import { cockatielBreaker } from './_cockatiel.js';
import { type BenchRow, compare, machine, median, peerCells, peerHeader, pinToAllButLastCore } from './_harness.js';

const CONCURRENCY = 16;
const SERVER = `
  const http = require('node:http');
  const server = http.createServer((req, res) => { res.writeHead(200, { 'content-length': '2' }); res.end('ok'); });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
`;

/** The core the server runs on, when pinning is possible (and this process then keeps off it). */
const serverCore = pinToAllButLastCore();
const child =
  serverCore === undefined
    ? spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn('taskset', ['-c', String(serverCore), process.execPath, '-e', SERVER], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
const url = `http://127.0.0.1:${line.split(' ')[1]}/`;

const palisade = createFetch({
  policy: { timeout: '10s', retry: { maxAttempts: 3 }, circuitBreaker: true },
});
const noHeader = createFetch({
  policy: { timeout: '10s', retry: { maxAttempts: 3 }, circuitBreaker: true },
  propagateDeadline: false,
});
const noTimeout = createFetch({ policy: { retry: { maxAttempts: 3 }, circuitBreaker: true } });
const passThrough = createFetch({});
const cockatiel = wrap(
  cockatielRetry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
  cockatielBreaker(),
  cockatielTimeout(10_000, TimeoutStrategy.Cooperative),
);

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

const rows: BenchRow[] = await compare(
  `fetch: ${CONCURRENCY} requests in flight per op, ns per op (a burst)`,
  [
    { name: PLAIN, fn: burst(PLAIN, () => fetch(url).then(text)) },
    { name: PALISADE, fn: burst(PALISADE, () => palisade(url).then(text)) },
    { name: NO_HEADER, fn: burst(NO_HEADER, () => noHeader(url).then(text)) },
    { name: NO_TIMEOUT, fn: burst(NO_TIMEOUT, () => noTimeout(url).then(text)) },
    { name: PASS, fn: burst(PASS, () => passThrough(url).then(text)) },
    { name: SIGNAL, fn: burst(SIGNAL, () => fetch(url, { signal: new AbortController().signal }).then(text)) },
    // cockatiel aborts its signal when execute() settles, so the body must be read inside.
    {
      name: COCKATIEL,
      fn: burst(COCKATIEL, () => cockatiel.execute(({ signal }) => fetch(url, { signal }).then(text))),
      peer: 'cockatiel',
      versus: PALISADE,
    },
    { name: CONTROL, fn: burst(CONTROL, () => fetch(url).then(text)) },
  ],
  { iterations: 30, rounds: 9 },
);

// The baseline is the mean of the two plain-fetch rows (first and last of the list): on a shared
// machine their gap is the noise floor of the run, printed with the table.
const rowOf = (name: string) => rows.find((r) => r.name === name) as BenchRow;
const baseNs = (rowOf(PLAIN).nsPerOp + rowOf(CONTROL).nsPerOp) / 2;
const plainCpu = median(cpu.get(PLAIN) as number[]);
const controlCpu = median(cpu.get(CONTROL) as number[]);
const baseCpu = (plainCpu + controlCpu) / 2;
// The speed ratio to the peer is the table above's; here, the ratio of client CPU per request.
const cpuCells = peerCells(rows, (row) => median(cpu.get(row.name) as number[]), 'cpu');
const lines = [
  `| case | requests/s | share of plain fetch | client CPU µs/request | CPU × plain fetch | ${peerHeader('cpu')} |`,
  '| --- | ---: | ---: | ---: | ---: | ---: |',
];
for (const [i, row] of rows.entries()) {
  const perSecond = (CONCURRENCY * 1e9) / row.nsPerOp;
  const us = median(cpu.get(row.name) as number[]);
  lines.push(
    `| ${row.name} | ${Math.round(perSecond).toLocaleString('en-US')} | ${(baseNs / row.nsPerOp).toFixed(3)} | ${us.toFixed(1)} | ${(us / baseCpu).toFixed(3)} | ${cpuCells[i]} |`,
  );
}
lines.push(
  '',
  `Baseline: the mean of the two plain-fetch rows, which differ by ${((Math.abs(plainCpu - controlCpu) / baseCpu) * 100).toFixed(1)}% in CPU and ${((Math.abs(rowOf(PLAIN).nsPerOp - rowOf(CONTROL).nsPerOp) / baseNs) * 100).toFixed(1)}% in wall time in this run: differences smaller than that are noise.`,
);
const pinning =
  serverCore === undefined
    ? 'client and server not pinned'
    : `server pinned to core ${serverCore}, client to the others`;
process.stdout.write(`${lines.join('\n')}\n\n${machine()}; ${pinning}\n`);
child.kill();
