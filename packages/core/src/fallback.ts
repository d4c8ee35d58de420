import { createValidator, optionsObject } from './validate.js';
import { isAborted } from './signal.js';
import type { Context, ExecuteOptions, Policy, PolicyOptions } from './policy.js';
import { resolvePolicyOptions } from './policy.js';
import { invoke } from './noop.js';
import { toContext } from './signal.js';

/** What a fallback handler and `shouldHandle` are told about the failure. */
export interface FallbackInfo {
  /** The error the call failed with. */
  error: unknown;
  /** The call's Context. */
  context: Context;
}

/** Options of {@link fallback}. */
export interface FallbackOptions extends PolicyOptions {
  /**
   * Produces the value returned instead of the failure. It must return what the wrapped call
   * returns (TypeScript cannot check it across a pipeline). Throwing from it rejects the call.
   * @example handler: () => cachedUsers
   */
  handler: (info: FallbackInfo) => unknown;
  /**
   * Decides which failures the handler takes; the others pass through unchanged.
   * An abort by the caller is never handled.
   * @default every error
   * @example shouldHandle: ({ error }) => isResilienceError(error)
   */
  shouldHandle?: (info: FallbackInfo) => boolean;
}

/** Frozen defaults of {@link fallback}. */
export const FALLBACK_DEFAULTS = Object.freeze({ name: 'fallback' });

const check = createValidator('@palisade/core');

/** On failure, returns `handler({ error, context })` instead (when `shouldHandle` agrees). */
export function fallback(options: FallbackOptions): Policy {
  const opts = optionsObject('@palisade/core', 'fallback', options);
  const handler = check.func<FallbackOptions['handler']>('handler', opts.handler);
  if (!handler) check.fail('handler', 'a function', opts.handler);
  const shouldHandle = check.func<NonNullable<FallbackOptions['shouldHandle']>>('shouldHandle', opts.shouldHandle);
  const { name, emit } = resolvePolicyOptions('@palisade/core', 'fallback', opts);

  return {
    name,
    async execute<T>(fn: (ctx: Context) => Promise<T> | T, executeOptions?: ExecuteOptions): Promise<T> {
      const ctx = toContext(executeOptions);
      try {
        return await invoke(fn, ctx);
      } catch (error) {
        if (isAborted(ctx)) throw error;
        const info: FallbackInfo = { error, context: ctx };
        if (shouldHandle && !shouldHandle(info)) throw error;
        if (emit) emit({ type: 'fallback', key: ctx.key, error });
        return (await (handler as FallbackOptions['handler'])(info)) as T;
      }
    },
  };
}
