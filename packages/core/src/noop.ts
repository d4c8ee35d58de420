import type { Context, ExecuteOptions, Policy } from './policy.js';
import { toContext } from './signal.js';

/** Runs `fn(ctx)` and returns its result as a promise, turning a synchronous throw into a rejection. */
export function invoke<T>(fn: (ctx: Context) => Promise<T> | T, ctx: Context): Promise<T> {
  try {
    const result = fn(ctx);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A policy that does nothing but run `fn`: a placeholder where a policy is required. */
export function noop(options: { name?: string } = {}): Policy {
  const name = options.name ?? 'noop';
  return {
    name,
    execute<T>(fn: (ctx: Context) => Promise<T> | T, executeOptions?: ExecuteOptions): Promise<T> {
      return invoke(fn, toContext(executeOptions));
    },
  };
}
