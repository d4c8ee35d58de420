import { describe, expect, it } from 'vitest';
import type { Context, ExecuteOptions, Policy } from '../src/policy.js';
import { type SpecFactory, type SpecFactoryInput, fromSpec } from '../src/spec.js';

const built: SpecFactoryInput[] = [];
const fake =
  (kind: string): SpecFactory =>
  (options) => {
    if (options.bad !== undefined) throw new TypeError(`@palisade/${kind}: "bad" must be good (got ${options.bad})`);
    built.push(options);
    return {
      name: options.name ?? kind,
      execute<T>(fn: (ctx: Context) => Promise<T> | T, o?: ExecuteOptions) {
        order.push(options.name ?? kind);
        return Promise.resolve(fn({ ...(o as object), attempt: 1 } as Context));
      },
    } satisfies Policy;
  };
let order: string[] = [];
const factories = {
  timeout: fake('timeout'),
  retry: fake('retry'),
  circuitBreaker: fake('circuit-breaker'),
  bulkhead: fake('bulkhead'),
  rateLimit: fake('rate-limit'),
  hedge: fake('hedge'),
};

describe('fromSpec()', () => {
  it('composes in the documented order whatever the key order', async () => {
    order = [];
    const policy = fromSpec(
      { circuitBreaker: true, retry: { maxAttempts: 3 }, timeout: '2s', rateLimit: { limit: 5 }, attemptTimeout: 500 },
      { factories },
    );
    await policy.execute(() => 1);
    expect(order).toEqual(['rateLimit', 'timeout', 'retry', 'circuitBreaker', 'attemptTimeout']);
    expect(built.find((o) => o.name === 'timeout')).toMatchObject({ ms: '2s' });
    expect(built.find((o) => o.name === 'attemptTimeout')).toMatchObject({ ms: 500 });
  });

  it('names the path and the field when a spec is bad', () => {
    const path = 'route "GET /users/:id"';
    expect(() => fromSpec({ retyr: {} } as never, { factories, path })).toThrow(
      `@palisade/core: route "GET /users/:id": unknown policy "retyr" in spec`,
    );
    expect(() => fromSpec({ retry: { bad: 1 } }, { factories, path })).toThrow(
      'route "GET /users/:id": retry: @palisade/retry: "bad" must be good (got 1)',
    );
    expect(() => fromSpec({ hedge: true }, { factories: {}, path })).toThrow('"hedge" needs the hedge() factory');
    expect(() => fromSpec({ retry: 3 } as never, { factories })).toThrow('"retry" must be an options object (got 3)');
    expect(() => fromSpec(null as never, { factories })).toThrow('a policy spec must be an object');
  });
});
