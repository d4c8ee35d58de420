import { type Clock, TimeoutError, timerQueue } from '@palisade/core';

/**
 * The part of a Redis client `redisStore()` uses — ioredis's shape, so an ioredis instance
 * (`new Redis(url)`, or a `Cluster`) fits as it is. Any other client fits through a few lines,
 * e.g. node-redis v4/v5:
 *
 * @example
 * const client = createClient({ url }); await client.connect();
 * const adapted: RedisClient = {
 *   evalsha: (sha, numKeys, ...args) =>
 *     client.evalSha(sha, { keys: args.slice(0, numKeys), arguments: args.slice(numKeys) }),
 *   script: (_load, source) => client.scriptLoad(source),
 *   get status() { return client.isReady ? 'ready' : 'reconnecting'; },
 * };
 */
export interface RedisClient {
  /** `EVALSHA sha numKeys ...keysAndArgs`; rejects with a `NOSCRIPT …` error when unknown. */
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** `SCRIPT LOAD source`, resolving to its SHA1. */
  script(subcommand: 'LOAD', source: string): Promise<unknown>;
  /**
   * ioredis's connection state. While it reads `'reconnecting'`, `'close'` or `'end'`, calls fail
   * at once rather than queue up behind a dead connection (and run late once it comes back).
   */
  readonly status?: string;
}

const DOWN: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);

/** Thrown (as a store error) when the client says its connection is down. */
export function unavailable(status: string): Error {
  return new Error(`@palisade/redis: the Redis connection is ${status}`);
}

/** A call in flight, raced against its timeout. */
interface Pending {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  settled: boolean;
  timeoutMs: number;
}

function onTimeout(pending: Pending): void {
  if (pending.settled) return;
  pending.settled = true;
  // Built only when it fires: an error's stack costs more than the rest of a call.
  pending.reject(new TimeoutError(pending.timeoutMs, { policy: 'redis' }));
}

const isNoScript = (error: unknown): boolean =>
  typeof (error as Error | undefined)?.message === 'string' && (error as Error).message.startsWith('NOSCRIPT');

/**
 * Runs scripts on one client: EVALSHA, `SCRIPT LOAD` once on NOSCRIPT (shared by every call that
 * hit it, e.g. after a Redis restart emptied the script cache) then EVALSHA again — all within
 * `timeoutMs`, on one shared timer queue (no runtime timer per call). A late reply is dropped;
 * its rejection is always handled.
 */
export interface ScriptRunner {
  run(sha: string, source: string, keysAndArgs: string[]): Promise<unknown>;
}

/** Creates the {@link ScriptRunner} of one store binding. */
export function scriptRunner(client: RedisClient, clock: Clock, timeoutMs: number): ScriptRunner {
  const timers = timerQueue(clock, timeoutMs);
  const loading = new Map<string, Promise<unknown>>();

  const load = (sha: string, source: string): Promise<unknown> => {
    let p = loading.get(sha);
    if (p === undefined) {
      p = client.script('LOAD', source).finally(() => loading.delete(sha));
      loading.set(sha, p);
    }
    return p;
  };

  return {
    run(sha, source, args) {
      const status = client.status;
      if (status !== undefined && DOWN.has(status)) return Promise.reject(unavailable(status));
      return new Promise((resolve, reject) => {
        const pending: Pending = { resolve, reject, settled: false, timeoutMs };
        const timer = timers.add(onTimeout, pending, clock.now());
        const ok = (value: unknown) => {
          if (pending.settled) return;
          pending.settled = true;
          timers.cancel(timer);
          resolve(value);
        };
        const fail = (error: unknown) => {
          if (pending.settled) return;
          pending.settled = true;
          timers.cancel(timer);
          reject(error);
        };
        client.evalsha(sha, 1, ...args).then(ok, (error: unknown) => {
          if (pending.settled || !isNoScript(error)) return fail(error);
          load(sha, source)
            .then(() => client.evalsha(sha, 1, ...args))
            .then(ok, fail);
        });
      });
    },
  };
}
