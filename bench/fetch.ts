// Requests/s of createFetch() with retry + circuit breaker + timeout against plain fetch, and against
// cockatiel's wrap(retry, breaker, timeout) around fetch, in one run. The server (plain node:http,
// keep-alive, a 2-byte body) runs in a child process so that only the client's work is measured.
// Each operation is a burst of CONCURRENCY requests in flight at once, bodies read.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createFetch } from '@palisade/fetch';
import {
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker as cockatielBreaker,
  handleAll,
  retry as cockatielRetry,
  timeout as cockatielTimeout,
  wrap,
} from 'cockatiel';
import { type BenchRow, compare, machine } from './_harness.js';

const CONCURRENCY = 16;
const SERVER = `
  const http = require('node:http');
  const server = http.createServer((req, res) => { res.writeHead(200, { 'content-length': '2' }); res.end('ok'); });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
`;

const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
const url = `http://127.0.0.1:${line.split(' ')[1]}/`;

const palisade = createFetch({
  policy: { timeout: '10s', retry: { maxAttempts: 3 }, circuitBreaker: true },
});
const passThrough = createFetch({});
const cockatiel = wrap(
  cockatielRetry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
  cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  cockatielTimeout(10_000, TimeoutStrategy.Cooperative),
);

/** One operation: CONCURRENCY requests at once, each read to the end (so its socket is reused). */
const burst = (one: () => Promise<string>) => async () => {
  const all: Promise<string>[] = [];
  for (let i = 0; i < CONCURRENCY; i++) all.push(one());
  await Promise.all(all);
};
const text = (res: Response) => res.text();

const rows: BenchRow[] = await compare(
  `fetch: ${CONCURRENCY} requests in flight per op, ns per op (a burst)`,
  [
    { name: 'plain fetch', fn: burst(() => fetch(url).then(text)) },
    { name: 'palisade createFetch (timeout + retry + breaker)', fn: burst(() => palisade(url).then(text)) },
    { name: 'palisade createFetch (no policy)', fn: burst(() => passThrough(url).then(text)) },
    {
      // cockatiel aborts its signal when execute() settles, so the body must be read inside.
      name: 'cockatiel wrap(retry, breaker, timeout) + fetch',
      fn: burst(() => cockatiel.execute(({ signal }) => fetch(url, { signal }).then(text))),
    },
  ],
  { iterations: 150, rounds: 15 },
);

const lines = ['| case | requests/s | share of plain fetch |', '| --- | ---: | ---: |'];
for (const row of rows) {
  const perSecond = (CONCURRENCY * 1e9) / row.nsPerOp;
  lines.push(
    `| ${row.name} | ${Math.round(perSecond).toLocaleString('en-US')} | ${(1 / row.ratioToBare).toFixed(3)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n\n${machine()}\n`);
child.kill();
