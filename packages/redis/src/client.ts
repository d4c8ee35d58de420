import { type Clock, TimeoutError, timerQueue } from '@palisade/core';

/**
 * The part of a Redis client `redisStore()` uses — node-redis's shape (v4/v5), so a connected
 * node-redis client (`await createClient({ url }).connect()`) fits as it is: the faster client in
 * bench/rate-limit.ts (raw `INCR` 4.1–4.8× ioredis's; this store, one call per tick: 0.95–1.34×).
 * An ioredis client is accepted too ({@link IORedisClient}); any other client fits through a few
 * lines:
 *
 * @example
 * const client: RedisClient = {
 *   sendCommand: (args) => myClient.command(args),
 *   get isReady() { return myClient.connected; },
 * };
 */
export interface RedisClient {
  /**
   * Sends one command, e.g. `['EVALSHA', sha, '1', key, ...args]`, resolving to its reply;
   * rejects with the server's error (`NOSCRIPT …` when the script is not loaded).
   */
  sendCommand(args: string[]): Promise<unknown>;
  /**
   * node-redis's connection state. While it reads `false` (reconnecting, closed), calls fail at once
   * rather than queue up behind a dead connection (and run late once it comes back).
   */
  readonly isReady?: boolean;
  /**
   * True for a Redis Cluster client (ioredis's `Cluster` says so itself; set it on an adapter of
   * another cluster client): consumes of different keys then never share a script call, whose keys
   * must all live on one node.
   */
  readonly isCluster?: boolean;
}

/** The part of an ioredis client (`new Redis(url)`) `redisStore()` uses; it is adapted to {@link RedisClient}. */
export interface IORedisClient {
  call(command: string, ...args: string[]): Promise<unknown>;
  readonly status: string;
  readonly isCluster?: boolean;
}

const IOREDIS_DOWN: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);

/** True for an ioredis client (it has `call` and a `status`; node-redis has neither). */
export const isIORedis = (client: object): client is IORedisClient =>
  typeof (client as IORedisClient).call === 'function' && typeof (client as IORedisClient).status === 'string';

/**
 * ioredis as a {@link RedisClient}: commands through `call`; not ready while it reconnects or is
 * closed (while it first connects, commands wait in its offline queue as usual).
 */
export function fromIORedis(client: IORedisClient): RedisClient {
  return {
    sendCommand: (args) => client.call(args[0] as string, ...args.slice(1)),
    get isReady() {
      return !IOREDIS_DOWN.has(client.status);
    },
    isCluster: client.isCluster === true,
  };
}

/** The store error of a call made while the client says it is not connected. */
export function unavailable(): Error {
  return new Error('@palisade/redis: the Redis client is not ready (disconnected or reconnecting)');
}

/** A call in flight, raced against its timeout. */
interface Pending {
  resolve: (value: never) => void;
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
 * Runs scripts on one client: `command` is the whole EVALSHA command, `SCRIPT LOAD` once on NOSCRIPT (shared by every call that
 * hit it, e.g. after a Redis restart emptied the script cache) then EVALSHA again — all within
 * `timeoutMs`, on one shared timer queue (no runtime timer per call). A late reply is dropped;
 * its rejection is always handled.
 */
export interface ScriptRunner {
  /** Runs the script and resolves to `map(reply)` (mapped in the same step: no extra promise). */
  run<T>(sha: string, source: string, command: string[], map: (reply: unknown) => T): Promise<T>;
}

/** Creates the {@link ScriptRunner} of one store binding. */
export function scriptRunner(client: RedisClient, clock: Clock, timeoutMs: number): ScriptRunner {
  const timers = timerQueue(clock, timeoutMs);
  const loading = new Map<string, Promise<unknown>>();

  const send = (args: string[]): Promise<unknown> => {
    try {
      return client.sendCommand(args);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const load = (sha: string, source: string): Promise<unknown> => {
    let p = loading.get(sha);
    if (p === undefined) {
      p = send(['SCRIPT', 'LOAD', source]).finally(() => loading.delete(sha));
      loading.set(sha, p);
    }
    return p;
  };

  return {
    run<T>(sha: string, source: string, command: string[], map: (reply: unknown) => T): Promise<T> {
      if (client.isReady === false) return Promise.reject(unavailable());
      return new Promise<T>((resolve, reject) => {
        const pending: Pending = { resolve, reject, settled: false, timeoutMs };
        const timer = timers.add(onTimeout, pending, clock.now());
        const ok = (reply: unknown) => {
          if (pending.settled) return;
          pending.settled = true;
          timers.cancel(timer);
          try {
            resolve(map(reply));
          } catch (error) {
            reject(error);
          }
        };
        const fail = (error: unknown) => {
          if (pending.settled) return;
          pending.settled = true;
          timers.cancel(timer);
          reject(error);
        };
        send(command).then(ok, (error: unknown) => {
          if (pending.settled || !isNoScript(error)) return fail(error);
          load(sha, source)
            .then(() => send(command))
            .then(ok, fail);
        });
      });
    },
  };
}
