// Instructions a fetch request costs the client, counted by valgrind: a figure that drifts far
// less with the machine than time does, for A/B-testing a change to @palisade/fetch's hot path.
// `npm run bench fetch` gives what the goal is stated in (requests/s), but on a small VM even its
// five-process median drifts by ±5% from one batch to the next, more than most single changes are
// worth.
//
// How: the server (node:http, keep-alive, a 2-byte body) runs under valgrind too, so that client
// and server keep the speeds relative to each other that they have natively. Both run
// `node --single-threaded`: with V8's compiler and GC threads on, the same run's count varied by
// ±4%; with them off, by ±1.5%. Each case runs twice, with 4,000 and with 16,000 requests (16 in
// flight, bodies read); the difference divided by 12,000 is its cost per request, start-up and
// warm-up cancelled out.
//
// Why from request 4,000: before it, V8 is still compiling the request path for the first time
// (with --trace-opt, plain fetch: 82 TurboFan compiles by request 800, 243 by 4,000, 279 by
// 20,000), and a per-request figure taken there is mostly compiler. An earlier version of this
// bench counted from 800 to 4,000 requests: plain fetch 1.19 M instructions a request, of which
// 0.54 M was the compiler; from 4,000 to 16,000 it is 0.57 M, of which 0.04–0.05 M (callgrind,
// 2026-11-25). The compiler never stops altogether: undici's and Node's streams' functions go on
// being recompiled now and then (~40 compiles per 12,000 requests, for plain fetch and for
// palisade alike), so the count still moves by 1-2% between runs of the same code.
//
// Needs valgrind (Debian: apt-get install valgrind); without it, says so and exits. Takes ~10 min.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createFetch } from '@palisade/fetch';
import {
  FETCH_POLICY,
  FETCH_POLICY_NO_TIMEOUT,
  machine,
  pinToAllButLastCore,
  pinningNote,
  startFetchServer,
} from './_harness.js';

const CONCURRENCY = 16;
const FEW = 4_000;
const MANY = 16_000;

const CASES = {
  plain: 'plain fetch',
  signal: 'plain fetch + a fresh AbortSignal (what a signal-based timeout needs)',
  noTimeout: 'palisade createFetch (retry + breaker, nothing that aborts)',
  palisade: 'palisade createFetch (timeout + retry + breaker)',
} as const;
type Case = keyof typeof CASES;

/** Client mode (`--client <case> <requests> <url>`): what runs under cachegrind. */
async function client(name: Case, requests: number, url: string): Promise<void> {
  const text = (res: Response) => res.text();
  const palisade = createFetch({ policy: FETCH_POLICY });
  const noTimeout = createFetch({ policy: FETCH_POLICY_NO_TIMEOUT });
  const one: Record<Case, () => Promise<string>> = {
    plain: () => fetch(url).then(text),
    signal: () => fetch(url, { signal: new AbortController().signal }).then(text),
    noTimeout: () => noTimeout(url).then(text),
    palisade: () => palisade(url).then(text),
  };
  const call = one[name];
  for (let done = 0; done < requests; done += CONCURRENCY) {
    const burst: Promise<string>[] = [];
    for (let i = 0; i < CONCURRENCY; i++) burst.push(call());
    await Promise.all(burst);
  }
}

const VALGRIND_FLAGS = ['--smc-check=all-non-file'];

/** Instructions a whole client run executes (all of its threads), from cachegrind's summary. */
function countRun(name: Case, requests: number, url: string): number {
  const run = spawnSync(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=no',
      '--cachegrind-out-file=/dev/null',
      ...VALGRIND_FLAGS,
      process.execPath,
      '--single-threaded',
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--client',
      name,
      String(requests),
      url,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 16 * 1024 * 1024 },
  );
  const refs = /I\s+refs:\s+([\d,]+)/.exec(run.stderr ?? '');
  if (run.status !== 0 || refs === null) {
    throw new Error(`bench/instructions: the ${name} client (${requests} requests) failed:\n${run.stderr}`);
  }
  return Number((refs[1] as string).replaceAll(',', ''));
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stdout.write('valgrind is not installed (Debian: apt-get install valgrind): nothing measured.\n');
    return;
  }
  const serverCore = pinToAllButLastCore();
  const node = ['valgrind', '--tool=none', ...VALGRIND_FLAGS, process.execPath, '--single-threaded'];
  const { child: server, url } = await startFetchServer(serverCore, node, 'ignore');
  try {
    const perRequest = new Map<Case, number>();
    for (const name of Object.keys(CASES) as Case[]) {
      perRequest.set(name, (countRun(name, MANY, url) - countRun(name, FEW, url)) / (MANY - FEW));
    }
    const plain = perRequest.get('plain') as number;
    const lines = [
      `### fetch: instructions per request (valgrind), ${CONCURRENCY} in flight`,
      '',
      `Each case run with ${FEW} and ${MANY} requests, client and server under valgrind with \`node --single-threaded\`; the difference ÷ ${MANY - FEW}.`,
      '',
      '| case | instructions / request | × plain fetch |',
      '| --- | ---: | ---: |',
    ];
    for (const [name, count] of perRequest) {
      lines.push(`| ${CASES[name]} | ${Math.round(count).toLocaleString('en-US')} | ${(count / plain).toFixed(3)} |`);
    }
    process.stdout.write(`${lines.join('\n')}\n\n${machine()}; ${pinningNote(serverCore)}\n`);
  } finally {
    server.kill();
  }
}

const at = process.argv.indexOf('--client');
if (at >= 0) {
  const [name, requests, url] = process.argv.slice(at + 1) as [Case, string, string];
  await client(name, Number(requests), url);
} else {
  await main();
}
