import { AsyncLocalStorage } from 'node:async_hooks';
import { describe } from '@palisade/core';

const STORE = Symbol.for('palisade.fetch.deadline');

/**
 * One store per process, even if both the ESM and the CJS build of this package are loaded (the
 * middleware may load one and your code the other).
 */
function store(): AsyncLocalStorage<number> {
  const holder = globalThis as { [STORE]?: AsyncLocalStorage<number> };
  let existing = holder[STORE];
  if (existing === undefined) existing = holder[STORE] = new AsyncLocalStorage<number>();
  return existing;
}

/**
 * Runs `fn` with `deadline` (epoch ms) as the ambient deadline: every `createFetch` call made inside
 * it, however deep in async code, ends by then and sends the time left on as the
 * `palisade-deadline-ms` header. A deadline already in force that ends sooner is kept. The Express
 * and Hono middleware call this for you with the inbound request's deadline.
 * @example app.use((req, res, next) => runWithDeadline(Date.now() + 2_000, next));
 */
export function runWithDeadline<T>(deadline: number | undefined, fn: () => T): T {
  if (deadline === undefined) return fn();
  if (typeof deadline !== 'number' || Number.isNaN(deadline)) {
    throw new TypeError(`@palisade/fetch: "deadline" must be epoch milliseconds (got ${describe(deadline)})`);
  }
  const s = store();
  const outer = s.getStore();
  return s.run(outer !== undefined && outer < deadline ? outer : deadline, fn);
}

/** The ambient deadline set by {@link runWithDeadline} (epoch ms), or `undefined` outside one. */
export function currentDeadline(): number | undefined {
  return (globalThis as { [STORE]?: AsyncLocalStorage<number> })[STORE]?.getStore();
}
