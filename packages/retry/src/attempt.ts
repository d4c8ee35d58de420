import { type Context, type ExecuteOptions, type PolicyContext, createContext, isAborted } from '@palisade/core';
import type { NormalizedRetryOptions } from './options.js';

/** What `execute` runs. */
export type Fn<T> = (ctx: Context) => Promise<T> | T;

/** The judged outcome of one attempt. */
export class Attempt<T> {
  constructor(
    readonly attempt: number,
    readonly failed: boolean,
    readonly error: unknown,
    readonly value: T | undefined,
    /** Worth another attempt, per `retryOn` (an abort never is). */
    readonly retry: boolean,
  ) {}
}

export function failedAttempt<T>(
  p: NormalizedRetryOptions,
  options: ExecuteOptions | undefined,
  ctx: PolicyContext,
  error: unknown,
): Attempt<T> {
  const retry = !isAborted(options) && p.retryOn({ error, attempt: ctx.attempt, context: ctx });
  return new Attempt<T>(ctx.attempt, true, error, undefined, retry);
}

export function succeededAttempt<T>(
  p: NormalizedRetryOptions,
  options: ExecuteOptions | undefined,
  ctx: PolicyContext,
  value: T,
): Attempt<T> {
  const retry = p.checkValues && !isAborted(options) && p.retryOn({ value, attempt: ctx.attempt, context: ctx });
  return new Attempt<T>(ctx.attempt, false, undefined, value, retry);
}

/** Runs attempt number `n` in a Context of its own, disposed when it settles. */
export async function runAttempt<T>(
  p: NormalizedRetryOptions,
  fn: Fn<T>,
  options: ExecuteOptions | undefined,
  n: number,
): Promise<Attempt<T>> {
  const ctx = createContext(options, n);
  try {
    let value: T;
    try {
      value = await fn(ctx);
    } catch (error) {
      return failedAttempt<T>(p, options, ctx, error);
    }
    return succeededAttempt(p, options, ctx, value); // a throwing retryOn is not fn's failure
  } finally {
    ctx.dispose();
  }
}
