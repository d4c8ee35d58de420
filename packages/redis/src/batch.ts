import type { RateLimitDecision } from '@palisade/rate-limit';
import type { ScriptRunner } from './client.js';
import { CONSUME_SCRIPT, CONSUME_SHA } from './script.js';

/** What the consumes of one binding share: how to send them and how to read a decision. */
export interface BatchSpec {
  readonly runner: ScriptRunner;
  /** ARGV[1] and ARGV[2] of every call: the rule's interval and tolerance, in µs. */
  readonly interval: string;
  readonly tolerance: string;
  /**
   * Whether consumes of different keys may share a call. Not on Redis Cluster, where a script's
   * keys must all live on one node: there only consumes of the same key share a call.
   */
  readonly acrossKeys: boolean;
  /** The decision of one consume of `cost`, from its call's server time and its value in the reply (µs). */
  decide(now: number, value: number, cost: number): RateLimitDecision;
}

/** Takes `cost` from the full `key`; `costArg` and `waitArg` are the cost and max wait (µs) as script arguments. */
export type Consume = (key: string, cost: number, costArg: string, waitArg: string) => Promise<RateLimitDecision>;

/**
 * Most consumes one call decides (Redis spends ~3 µs on each): bounds how long one script holds
 * Redis, and keeps `unpack(KEYS)` far below Lua's limit.
 */
export const MAX_BATCH = 128;

/** Consumes that one script call decides, in the order they were issued. */
class Batch {
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
 * time — the call, `TIME` and the reply are paid once per batch, the keys are read with one MGET,
 * and a key that several consumes share is written once. A lone call waits for nothing but the
 * end of its tick (which node-redis waits for anyway before it writes).
 */
export function batcher(spec: BatchSpec): Consume {
  const { runner, interval, tolerance, acrossKeys, decide } = spec;
  /** This tick's open batches: one per binding, or one per key when keys may not share a call. */
  const open = new Map<string, Batch>();

  const send = (batch: Batch): void => {
    const { keys, args, costs, resolves, rejects } = batch;
    const n = keys.length;
    const command = ['EVALSHA', CONSUME_SHA, String(n), ...keys, interval, tolerance];
    if (batch.shared) command.push(args[0] as string, args[1] as string);
    else for (const a of args) command.push(a);
    runner
      .run(CONSUME_SHA, CONSUME_SCRIPT, command, (reply) => asReply(reply, n))
      .then(
        (reply) => {
          const now = reply[0] as number;
          for (let i = 0; i < n; i++) {
            let decision: RateLimitDecision;
            try {
              decision = decide(now, reply[i + 1] as number, costs[i] as number);
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
    for (const batch of open.values()) send(batch);
    open.clear();
  };

  return (key, cost, costArg, waitArg) => {
    if (open.size === 0) process.nextTick(endTick);
    const group = acrossKeys ? '' : key;
    let batch = open.get(group);
    if (batch === undefined) open.set(group, (batch = new Batch()));
    const { keys, costs, args } = batch;
    if (keys.length > 0 && (args[0] !== costArg || args[1] !== waitArg)) batch.shared = false;
    keys.push(key);
    costs.push(cost);
    args.push(costArg, waitArg);
    joining = batch;
    const decision = new Promise<RateLimitDecision>(join);
    if (keys.length === MAX_BATCH) {
      open.delete(group);
      send(batch);
    }
    return decision;
  };
}
