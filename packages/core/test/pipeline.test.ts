import { describe, expect, it } from 'vitest';
import { noop } from '../src/noop.js';
import { pipeline } from '../src/pipeline.js';
import type { Context, ExecuteOptions, Policy } from '../src/policy.js';
import { createContext } from '../src/signal.js';

/** A policy that records when it enters and leaves, and hands its child Context down. */
function tracer(name: string, log: string[]): Policy {
  return {
    name,
    async execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
      log.push(`enter ${name}`);
      const ctx = createContext(options);
      try {
        return await fn(ctx);
      } finally {
        ctx.dispose();
        log.push(`leave ${name}`);
      }
    },
  };
}

describe('pipeline()', () => {
  it('runs the first policy outermost', async () => {
    const log: string[] = [];
    const p = pipeline(tracer('a', log), tracer('b', log), tracer('c', log));
    await expect(
      p.execute(() => {
        log.push('fn');
        return 42;
      }),
    ).resolves.toBe(42);
    expect(log).toEqual(['enter a', 'enter b', 'enter c', 'fn', 'leave c', 'leave b', 'leave a']);
    expect(p.name).toBe('pipeline(a, b, c)');
    expect(p.policies.map((x) => x.name)).toEqual(['a', 'b', 'c']);
  });

  it('nests: a pipeline is itself a policy', async () => {
    const log: string[] = [];
    const inner = pipeline(tracer('b', log), tracer('c', log));
    const outer = pipeline(tracer('a', log), inner, tracer('d', log));
    await outer.execute(() => log.push('fn'));
    expect(log).toEqual(['enter a', 'enter b', 'enter c', 'enter d', 'fn', 'leave d', 'leave c', 'leave b', 'leave a']);
  });

  it('passes key, deadline and the caller signal down to fn', async () => {
    const controller = new AbortController();
    const seen: Context[] = [];
    await pipeline(noop(), tracer('t', []), noop()).execute((ctx) => seen.push(ctx), {
      key: 'api.example.com',
      deadline: 12_345,
      signal: controller.signal,
    });
    const ctx = seen[0] as Context;
    expect(ctx.key).toBe('api.example.com');
    expect(ctx.deadline).toBe(12_345);
    expect(ctx.attempt).toBe(1);
    expect(ctx.signal.aborted).toBe(false);
  });

  it('lets errors from fn pass through unchanged, sync or async', async () => {
    const error = new Error('mine');
    const p = pipeline(noop(), tracer('t', []));
    await expect(
      p.execute(() => {
        throw error;
      }),
    ).rejects.toBe(error);
    await expect(p.execute(() => Promise.reject(error))).rejects.toBe(error);
  });

  it('with no policies just runs fn', async () => {
    await expect(pipeline().execute(() => 'x')).resolves.toBe('x');
  });

  it('refuses something that is not a policy, naming its position', () => {
    expect(() => pipeline(noop(), {} as Policy)).toThrow(TypeError);
    expect(() => pipeline(noop(), {} as Policy)).toThrow('pipeline() argument 2 must be a Policy');
  });
});
