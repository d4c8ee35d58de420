import { AsyncLocalStorage } from 'node:async_hooks';
import { describe } from '../duration.js';

// The ambient deadline of the work in progress: what the inbound middleware (@palisade/express,
// or @palisade/hono given `runWithDeadline`) sets for a request, and what outbound `createFetch`
// calls read. It lives behind core's `./deadline` subpath, never imported by core's main entry,
// because it needs `AsyncLocalStorage` (Node, Bun, Deno; Workers with `nodejs_compat`): what
// imports only `@palisade/core` stays runtime-agnostic.

// The key predates this module (it was @palisade/fetch's): kept, so that every copy of palisade
// loaded in one process, old or new, ESM or CJS, shares one store.
const STORE = Symbol.for('palisade.fetch.deadline');

type Holder = { [STORE]?: AsyncLocalStorage<number> };

/** One store per process, even if both the ESM and the CJS build are loaded. */
function store(): AsyncLocalStorage<number> {
  const holder = globalThis as Holder;
  let existing = holder[STORE];
  if (existing === undefined) existing = holder[STORE] = new AsyncLocalStorage<number>();
  return existing;
}

/**
 * Runs `fn` with `deadline` (epoch ms) as the ambient deadline: every `createFetch` call made inside
 * it, however deep in async code, ends by then and sends the time left on as the
 * `palisade-deadline-ms` header. A deadline already in force that ends sooner is kept; `undefined`
 * runs `fn` as it is. The Express middleware calls this for you with the inbound request's
 * deadline (Hono's, when you hand it this function as `runWithDeadline`).
 * @example app.use((req, res, next) => runWithDeadline(Date.now() + 2_000, next));
 */
export function runWithDeadline<T>(deadline: number | undefined, fn: () => T): T {
  if (deadline === undefined) return fn();
  if (typeof deadline !== 'number' || Number.isNaN(deadline)) {
    throw new TypeError(`@palisade/core: "deadline" must be epoch milliseconds (got ${describe(deadline)})`);
  }
  const s = store();
  const outer = s.getStore();
  return s.run(outer !== undefined && outer < deadline ? outer : deadline, fn);
}

/** The ambient deadline set by {@link runWithDeadline} (epoch ms), or `undefined` outside one. */
export function currentDeadline(): number | undefined {
  return (globalThis as Holder)[STORE]?.getStore();
}
