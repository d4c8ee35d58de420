// What createFetch costs on top of Node's own fetch, without sockets: undici's real `fetch`, with
// its global dispatcher replaced by a stub that answers every request on the next turn of the
// event loop (200, a 2-byte body). No server, no syscalls, no other process: what is left is the
// JavaScript and the garbage collection of undici and of palisade, which bench/fetch.ts measures
// under the larger and far noisier cost of loopback TCP.
//
// Two tables. Time per request: each case runs in a fresh process of its own between two rows of
// plain fetch, because the cases' different `init`s (a signal, a dispatcher) make undici's Request
// code polymorphic for each other: with a signal case in the same process, createFetch's timeout
// + retry + breaker measured 1.14-1.42x plain fetch instead of 1.08-1.09x. Then bytes allocated per
// request, counted in one fresh process whose young generation is large enough that no collection
// runs during a batch (the growth of new space over the batch is the allocation).
import { getHeapSpaceStatistics } from 'node:v8';
import { createFetch } from '@palisade/fetch';
import { cockatielFetchPolicy } from './_cockatiel.js';
import {
  FETCH_POLICY,
  FETCH_POLICY_NO_TIMEOUT,
  type Peered,
  caseAt,
  gc,
  machine,
  median,
  peerCells,
  peerHeader,
  runAloneOutput,
} from './_harness.js';

const CONCURRENCY = 16;
const ALLOC = process.argv.includes('--alloc');
/** `--case=N`: time case N between two rows of plain fetch, in this process, and print the figures as JSON. */
const CASE = Number(process.argv.find((a) => a.startsWith('--case='))?.slice('--case='.length) ?? Number.NaN);

/** The symbol under which undici keeps the global dispatcher (as in packages/fetch/src/dispatch-abort.ts). */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** The part of an undici dispatch handler the stub calls (the legacy API Node 20's fetch uses). */
interface StubHandler {
  onConnect(abort: (reason?: Error) => void): void;
  onHeaders(status: number, headers: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: Buffer[]): void;
}

const BODY = Buffer.from('ok');
const HEADERS = [Buffer.from('content-length'), Buffer.from('2')];
const ignore = (): void => {};
const answer = (handler: StubHandler): void => {
  handler.onConnect(ignore);
  handler.onHeaders(200, HEADERS, ignore, 'OK');
  handler.onData(BODY);
  handler.onComplete([]);
};
/** Requests the stub was handed in the current burst, and when it was handed the last one. */
let dispatched = 0;
let lastDispatch = 0n;
const stub = {
  dispatch(_options: unknown, handler: StubHandler): boolean {
    if (++dispatched === CONCURRENCY) lastDispatch = process.hrtime.bigint();
    setImmediate(answer, handler);
    return true;
  },
};

// undici creates its global dispatcher on the first fetch: make one, then replace it.
await fetch('http://127.0.0.1:1/').catch(ignore);
(globalThis as { [GLOBAL_DISPATCHER]?: unknown })[GLOBAL_DISPATCHER] = stub;

const url = 'http://127.0.0.1:8080/items/1';
const text = (res: Response) => res.text();
const palisade = createFetch({ policy: FETCH_POLICY });
const noTimeout = createFetch({ policy: FETCH_POLICY_NO_TIMEOUT });
const cockatiel = cockatielFetchPolicy();

const PLAIN = 'plain fetch';
const PALISADE = 'palisade createFetch (timeout + retry + breaker)';
const cases: ({ one: () => Promise<unknown> } & Peered)[] = [
  { name: PLAIN, one: () => fetch(url).then(text) },
  { name: PALISADE, one: () => palisade(url).then(text) },
  { name: 'palisade createFetch (retry + breaker, nothing that aborts)', one: () => noTimeout(url).then(text) },
  {
    name: "palisade createFetch (timeout + retry + breaker), given a fresh AbortSignal of the caller's",
    one: () => palisade(url, { signal: new AbortController().signal }).then(text),
  },
  {
    name: 'plain fetch + a fresh AbortSignal (what a signal-based timeout needs)',
    one: () => fetch(url, { signal: new AbortController().signal }).then(text),
  },
  {
    name: 'cockatiel wrap(retry, breaker, timeout) + fetch',
    one: () => cockatiel.execute(({ signal }) => fetch(url, { signal }).then(text)),
    peer: 'cockatiel',
    versus: PALISADE,
  },
  { name: 'plain fetch again (control: the noise of this run)', one: () => fetch(url).then(text) },
];

/** One operation: CONCURRENCY requests at once, each read to the end. */
const burst = async (one: () => Promise<unknown>): Promise<void> => {
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < CONCURRENCY; i++) all.push(one());
  await Promise.all(all);
};

/** Bytes in the young generation now. */
const young = (): number => {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
      bytes += space.space_used_size;
  }
  return bytes;
};

if (ALLOC) {
  // Run with a 64 MiB semi-space (see below): 50 bursts (800 requests, ~30 MB) fit without a
  // scavenge. Warm up first, so that compiling is not counted.
  const collect = gc();
  const BURSTS = 50;
  for (const c of cases) for (let i = 0; i < 1_000; i++) await burst(c.one);
  const bytes = cases.map(() => [] as number[]);
  for (let round = 0; round < 9; round++) {
    for (const [i, c] of cases.entries()) {
      collect();
      const before = young();
      for (let b = 0; b < BURSTS; b++) await burst(c.one);
      (bytes[i] as number[]).push((young() - before) / (BURSTS * CONCURRENCY));
    }
  }
  const perRequest = bytes.map(median);
  const base = ((perRequest[0] as number) + (perRequest[cases.length - 1] as number)) / 2;
  const byName = new Map(cases.map((c, i) => [c.name, perRequest[i] as number]));
  const cells = peerCells(cases, (row) => byName.get(row.name) as number, 'bytes');
  const lines = [
    '### fetch in-process: bytes allocated per request',
    '',
    `Median of 9 rounds of ${BURSTS * CONCURRENCY} requests per case, in a fresh process with a 64 MiB semi-space (no scavenge during a round); the baseline is the mean of the two plain-fetch rows.`,
    '',
    `| case | bytes/request | × plain fetch | more than plain fetch | ${peerHeader('bytes')} |`,
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [i, c] of cases.entries()) {
    const b = perRequest[i] as number;
    lines.push(
      `| ${c.name} | ${Math.round(b).toLocaleString('en-US')} | ${(b / base).toFixed(3)} | ${Math.round(b - base).toLocaleString('en-US')} | ${cells[i]} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}

/** Median µs a request, in all and until sent, of `list` timed in balanced rounds in this process. */
async function time(list: typeof cases): Promise<{ whole: number[]; send: number[] }> {
  // Each burst on its own, the median burst per case: a burst that a scavenge lands in is an
  // outlier to the median, so these figures leave out most garbage collection (the bytes table
  // covers what drives it).
  const ROUNDS = 20;
  const BURSTS = 300;
  const whole = list.map(() => [] as number[]);
  const send = list.map(() => [] as number[]);
  for (const c of list) for (let i = 0; i < 1_500; i++) await burst(c.one);
  for (let round = 0; round < ROUNDS; round++) {
    for (let place = 0; place < list.length; place++) {
      const index = caseAt('balanced', round, place, list.length);
      const c = list[index] as (typeof cases)[number];
      for (let b = 0; b < BURSTS; b++) {
        dispatched = 0;
        const start = process.hrtime.bigint();
        await burst(c.one);
        (whole[index] as number[]).push(Number(process.hrtime.bigint() - start) / CONCURRENCY / 1_000);
        (send[index] as number[]).push(Number(lastDispatch - start) / CONCURRENCY / 1_000);
      }
    }
  }
  return { whole: whole.map(median), send: send.map(median) };
}

if (!Number.isNaN(CASE)) {
  const plain = cases[0] as (typeof cases)[number];
  const figures = await time([plain, cases[CASE] as (typeof cases)[number], plain]);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}

const us = (x: number) => x.toFixed(2);
/** Each timed case's figures, from its own process: in all and until sent, and the same process's plain-fetch baselines. */
const timed = cases.slice(1, -1).map((c, i) => {
  const { whole, send } = JSON.parse(runAloneOutput(import.meta.url, `--case=${i + 1}`)) as {
    whole: number[];
    send: number[];
  };
  return {
    ...c,
    w: whole[1] as number,
    sn: send[1] as number,
    base: ((whole[0] as number) + (whole[2] as number)) / 2,
    sendBase: ((send[0] as number) + (send[2] as number)) / 2,
  };
});
// The peer's ratio to plain fetch against palisade's, each from its own process.
const cells = peerCells(timed, (row) => row.w / row.base, 'time');
const first = timed[0] as (typeof timed)[number];
const lines = [
  `### fetch in-process (a stub dispatcher, no sockets): ${CONCURRENCY} requests in flight per burst, µs per request`,
  '',
  `Each case in a fresh process of its own, between two rows of plain fetch (balanced rounds, 6,000 bursts per row); the median burst, divided by ${CONCURRENCY}. "In all": until every body has been read; "until sent": until the stub has been handed the burst's last request, the part that delays a real request's write. Ratios and differences are to the mean of the same process's two plain-fetch rows.`,
  '',
  `| case | µs/request in all | × plain fetch | µs more | µs until sent | µs more until sent | ${peerHeader('time')} |`,
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  `| ${(cases[0] as (typeof cases)[number]).name} (in the first case's process) | ${us(first.base)} | 1.000 | 0.00 | ${us(first.sendBase)} | 0.00 | |`,
  ...timed.map(
    (r, i) =>
      `| ${r.name} | ${us(r.w)} | ${(r.w / r.base).toFixed(3)} | ${us(r.w - r.base)} | ${us(r.sn)} | ${us(r.sn - r.sendBase)} | ${cells[i]} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n\n${machine()}\n\n`);

// The allocation table, in a fresh process with a young generation large enough for a batch.
process.stdout.write(
  runAloneOutput(import.meta.url, '--alloc', ['--max-semi-space-size=64', '--min-semi-space-size=64']),
);
