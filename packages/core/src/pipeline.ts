import { describe } from './duration.js';
import { invoke } from './noop.js';
import type { Context, ExecuteOptions, Policy } from './policy.js';
import { toContext } from './signal.js';

/** A {@link Policy} made of others; `policies` lists them outermost first. */
export interface PipelinePolicy extends Policy {
  readonly policies: readonly Policy[];
}

/**
 * Composes policies into one: the first argument is the outermost, so
 * `pipeline(timeout, retry, breaker)` times the whole retried operation and the breaker sees each
 * attempt. A pipeline is itself a Policy and nests.
 */
export function pipeline(...policies: Policy[]): PipelinePolicy {
  policies.forEach((policy, index) => {
    if (typeof policy !== 'object' || policy === null || typeof policy.execute !== 'function') {
      throw new TypeError(
        `@palisade/core: pipeline() argument ${index + 1} must be a Policy (got ${describe(policy)})`,
      );
    }
  });
  const list = Object.freeze([...policies]);
  const count = list.length;
  const name = `pipeline(${list.map((p) => p.name).join(', ')})`;

  const run = <T>(
    index: number,
    fn: (ctx: Context) => Promise<T> | T,
    options: ExecuteOptions | undefined,
  ): Promise<T> => {
    const policy = list[index] as Policy;
    if (index === count - 1) return policy.execute(fn, options);
    return policy.execute((ctx) => run(index + 1, fn, ctx), options);
  };

  return {
    name,
    policies: list,
    execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
      if (count === 0) return invoke(fn, toContext(options));
      return run(0, fn, options);
    },
  };
}
