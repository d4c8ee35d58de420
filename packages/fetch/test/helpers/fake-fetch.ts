import { type Context, type ExecuteOptions, type Policy, createContext } from '@palisade/core';

/** A response whose body records whether it was cancelled. */
export interface Tracked {
  response: Response;
  readonly cancelled: boolean;
}

export function tracked(status: number, headers?: HeadersInit): Tracked {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(`status ${status}`));
    },
    cancel() {
      cancelled = true;
    },
  });
  const response = new Response(body, { status, ...(headers ? { headers } : {}) });
  return {
    response,
    get cancelled() {
      return cancelled;
    },
  };
}

export interface FakeCall {
  input: RequestInfo | URL;
  init: RequestInit;
}

/**
 * A stand-in for the `fetch` that createFetch wraps (its `fetch` option), for logic tests driven by
 * FakeClock. Each call takes the next reply: a Response, an error to reject with, or `'hang'` (a
 * call that settles only when its signal aborts, like a real fetch).
 */
export function fakeFetch(replies: (Response | Tracked | Error | 'hang' | (() => Promise<Response>))[]) {
  const calls: FakeCall[] = [];
  let index = 0;
  const fn = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls.push({ input, init: init ?? {} });
    const reply = replies[Math.min(index++, replies.length - 1)];
    const signal = init?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (reply === 'hang') {
      return new Promise((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    if (typeof reply === 'function') return reply();
    if (reply instanceof Error) return Promise.reject(reply);
    if (reply instanceof Response) return Promise.resolve(reply);
    return Promise.resolve((reply as Tracked).response);
  };
  return Object.assign(fn as typeof fetch, { calls });
}

/**
 * A hand-written retry for tests that must not depend on @palisade/retry: runs `fn` up to
 * `maxAttempts` times in a fresh child Context, no delay, rethrowing the last error.
 */
export function testRetry(maxAttempts: number, seen: unknown[] = []): Policy & { seen: unknown[] } {
  return {
    name: 'test-retry',
    seen,
    async execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
      let last: unknown;
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const ctx = createContext(options, attempt);
        try {
          return await fn(ctx);
        } catch (error) {
          seen.push(error);
          last = error;
          if (ctx.aborted) throw error;
        } finally {
          ctx.dispose();
        }
      }
      throw last;
    },
  };
}

/** A Policy that counts its calls and runs `fn` once. */
export function counting(name: string): Policy & { calls: (ExecuteOptions | undefined)[] } {
  const calls: (ExecuteOptions | undefined)[] = [];
  return {
    name,
    calls,
    execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
      calls.push(options);
      const ctx = createContext(options);
      return Promise.resolve(fn(ctx)).finally(() => ctx.dispose());
    },
  };
}
