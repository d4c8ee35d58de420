import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';

/** The shared Redis of the integration tests. Never killed or flushed by them. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers PING at `url` within a second. */
export async function redisAnswers(url = REDIS_URL): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

const available = await redisAnswers();
if (!available && !process.env.CI) {
  const line = '!'.repeat(100);
  console.warn(
    `\n${line}\n!! @palisade/redis: no Redis answers at ${REDIS_URL} — the Redis integration tests are SKIPPED.\n` +
      `!! Start one (redis-server) or set REDIS_URL. Under CI=true they fail instead.\n${line}\n`,
  );
}

/**
 * `describe` for tests that need the shared Redis: skipped (with the loud message above) when it
 * does not answer — except under CI, where the suite fails.
 */
export function describeRedis(name: string, body: () => void): void {
  if (available) describe(name, body);
  else if (process.env.CI) {
    describe(name, () => {
      it(`needs Redis at ${REDIS_URL}`, () => {
        throw new Error(`Redis does not answer at ${REDIS_URL} (required under CI)`);
      });
    });
  } else describe.skip(name, body);
}

/** Redis's own clock (`TIME`), in µs: the clock the scripts decide on. */
export async function serverMicros(client: { time(): Promise<unknown> }): Promise<number> {
  const [seconds, micros] = (await client.time()) as [string, string];
  return Number(seconds) * 1e6 + Number(micros);
}

/** A key prefix no other run uses. */
export const uniquePrefix = (what: string): string =>
  `palisade:test:${what}:${process.pid}:${Math.random().toString(36).slice(2, 8)}:`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * A private redis-server child on a random port, to kill, freeze and restart without touching
 * the shared one. No persistence: a restart is an empty server (no keys, no scripts).
 */
export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Starts a new server on the same port, once it answers PING. */
  start(): Promise<void>;
}

export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      if (await redisAnswers(url)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`redis-server on port ${port} did not start`);
  };
  await start();
  return {
    url,
    port,
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    start,
  };
}
