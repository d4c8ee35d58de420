import type { RateLimitDecision } from '@palisade/rate-limit';
import type { ScriptRunner } from './client.js';
import { CONSUME_SCRIPT, CONSUME_SHA } from './script.js';

/** What the consumes of one binding share: how to send them and how to read a decision. */
export interface BatchSpec {
  readonly runner: ScriptRunner;
  /** ARGV[1] to ARGV[3] of every call: the span of a generation, the rule's interval and tolerance, in µs. */
  readonly rule: readonly [span: string, interval: string, tolerance: string];
  /**
   * The base (KEYS[1]) under which a key's state lives: consumes of the same base share a call.
   * One for the whole policy on a single Redis; on Redis Cluster one of several shards, each in
   * its own hash slot, so that a policy's keys spread over the nodes.
   */
  baseOf(key: string): string;
  /** The decision of one consume of `cost`, from its call's server time and its value in the reply (µs). */
  decide(now: number, value: number, cost: number): RateLimitDecision;
}

/** Takes `cost` from `key`; `costArg` and `waitArg` are the cost and max wait (µs) as script arguments. */
export type Consume = (key: string, cost: number, costArg: string, waitArg: string) => Promise<RateLimitDecision>;

/**
 * Most consumes one call decides (Redis spends ~1 µs on each): bounds how long one script holds
 * Redis, and keeps the script's `unpack` calls far below Lua's limit.
 */
export const MAX_BATCH = 128;

/** Consumes that one script call decides, in the order they were issued. */
class Batch {
  constructor(readonly base: string) {}
  readonly keys: string[] = [];
  readonly costs: number[] = [];
  /** Cost and max wait of each consume, as script arguments. */
  readonly args: string[] = [];
  readonly resolves: ((decision: RateLimitDecision) => void)[] = [];
  readonly rejects: ((error: unknown) => void)[] = [];
  /** Every consume has the first one's cost and max wait, so they are sent once. */
  shared = true;
}

// The batch a new consume's promise joins: one executor for every call, rather than a closure each.
let joining: Batch;
function join(resolve: (decision: RateLimitDecision) => void, reject: (error: unknown) => void): void {
  joining.resolves.push(resolve);
  joining.rejects.push(reject);
}

function asReply(reply: unknown, count: number): number[] {
  if (Array.isArray(reply) && reply.length === count + 1) return reply as number[];
  throw new Error(`@palisade/redis: unexpected reply to the consume script: ${String(reply).slice(0, 100)}`);
}

/**
 * Sends the consumes of one binding issued in the same tick as one script call, at the end of the
 * tick (or as soon as {@link MAX_BATCH} wait). Redis decides them one after the other, atomically,
 * in the order they were issued: the same decisions as one call each, for a fraction of Redis's
 * time — the call, `TIME`, the reply and the hash's expiry are paid once per batch, the keys are
 * read with one HMGET and written with one HSET, and a key that several consumes share is written
 * once. A lone call waits for nothing but the end of its tick (which node-redis waits for anyway
 * before it writes).
 *
 * A tick's batch is not split into calls sent a loop turn apart, although that lets the client
 * and Redis work at the same time in a closed loop: with 50 in flight over 1 000 keys on node-redis
 * it gave +25–35% decisions/s on an otherwise idle 2-core machine, but −3–5% beside another
 * CPU-bound job, and always ~25% more Redis CPU and client CPU per decision (each call's fixed
 * cost paid twice) — Redis's CPU is what a fleet shares.
 */
export function batcher(spec: BatchSpec): Consume {
  const { runner, rule, baseOf, decide } = spec;
  /**
   * This tick's open batches: one per binding, or one per shard on Redis Cluster (at most
   * `CLUSTER_SHARDS`, found by a scan). An array replaced each tick, not a `Map` cleared each tick:
   * V8 links a cleared `Map`'s old table to its new one, so once one table has been promoted to
   * the old generation every later table, batch and decision is kept alive by that chain through
   * each young-generation GC until a full GC. Measured with node-redis on one core after other
   * commands had used the client: a 15 ms scavenge every ~100 ms and the store's client CPU per
   * decision doubled.
   */
  let open: Batch[] = [];

  const send = (batch: Batch): void => {
    const { base, keys, args, costs, resolves, rejects } = batch;
    const n = keys.length;
    const command = ['EVALSHA', CONSUME_SHA, '1', base, ...rule, String(n), ...keys];
    if (batch.shared) command.push(args[0] as string, args[1] as string);
    else for (const a of args) command.push(a);
    runner
      .run(CONSUME_SHA, CONSUME_SCRIPT, command, (reply) => asReply(reply, n))
      .then(
        (reply) => {
          const now = reply[n] as number;
          for (let i = 0; i < n; i++) {
            let decision: RateLimitDecision;
            try {
              decision = decide(now, reply[i] as number, costs[i] as number);
            } catch (error) {
              (rejects[i] as (error: unknown) => void)(error);
              continue;
            }
            (resolves[i] as (decision: RateLimitDecision) => void)(decision);
          }
        },
        (error: unknown) => {
          for (const reject of rejects) reject(error);
        },
      );
  };

  const endTick = (): void => {
    const batches = open;
    open = [];
    for (const batch of batches) send(batch);
  };

  return (key, cost, costArg, waitArg) => {
    if (open.length === 0) process.nextTick(endTick);
    const base = baseOf(key);
    let batch: Batch | undefined;
    for (const b of open) {
      if (b.base === base) {
        batch = b;
        break;
      }
    }
    if (batch === undefined) open.push((batch = new Batch(base)));
    const { keys, costs, args } = batch;
    if (keys.length > 0 && (args[0] !== costArg || args[1] !== waitArg)) batch.shared = false;
    keys.push(key);
    costs.push(cost);
    args.push(costArg, waitArg);
    joining = batch;
    const decision = new Promise<RateLimitDecision>(join);
    if (keys.length === MAX_BATCH) {
      open.splice(open.indexOf(batch), 1);
      send(batch);
    }
    return decision;
  };
}
