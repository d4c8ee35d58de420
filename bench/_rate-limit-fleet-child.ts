// Child of bench/rate-limit.ts: runs jobs as fast as it can through a throttle over redisStore
// (limit far above what it can reach: the cost of pacing, not the pace) or a clustered
// bottleneck limiter, between common wall-clock times, and reports the jobs it ran; as many
// windows as it is sent, until told to close.
//   argv: 'palisade' | 'bottleneck', redis url, prefix/id, concurrency
import { throttle } from '@palisade/rate-limit';
import { redisStore } from '@palisade/redis';
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { createClient } from 'redis';

const [kind, url, prefix, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const { hostname, port } = new URL(url as string);
const job = () => 1;

let run: () => Promise<unknown>;
let close: () => Promise<unknown> | void;
if (kind === 'bottleneck') {
  const limiter = new Bottleneck({
    id: prefix,
    datastore: 'ioredis',
    Redis,
    clientOptions: { host: hostname, port: Number(port || 6379) },
    maxConcurrent: null,
    minTime: 0,
  });
  await limiter.ready();
  await limiter.schedule(async () => job());
  run = () => limiter.schedule(async () => job());
  close = () => limiter.disconnect();
} else {
  const client = createClient({ url: url as string });
  await client.connect();
  const paced = throttle({
    limit: 1_000_000,
    windowMs: 1_000,
    store: redisStore({ client, prefix, timeoutMs: 5_000 }),
    name: 'fleet',
  });
  await paced.execute(job);
  run = () => paced.execute(job);
  close = () => client.quit();
}

// Each { startAt, endAt } message is one window, answered with what ran in it; 'close' ends.
process.on('message', async (message: { startAt: number; endAt: number } | 'close') => {
  if (message === 'close') {
    await close();
    process.exit(0);
  }
  const { startAt, endAt } = message;
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
  let jobs = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < endAt) {
        try {
          await run();
          jobs++;
        } catch {
          errors++;
        }
      }
    }),
  );
  process.send?.({ jobs, errors, elapsedMs: Date.now() - startAt });
});
process.send?.({ ready: true });
