// Overhead of @palisade/hedge when the first attempt answers before the delay (the hot path),
// against the bare await and a hand-written hedge (Promise.race + setTimeout + AbortController).
import { hedge } from '@palisade/hedge';
import { compare } from './_harness.js';

const fn = async () => 1;
const attempt = async (_signal: AbortSignal) => 1;

const fixed = hedge({ delayMs: 1_000 });
// The floor keeps the delay far above this call's latency: what is measured is the path where
// the first attempt wins, with the adaptive bookkeeping (one timer, one histogram record).
const adaptive = hedge({ delayMs: { percentile: 95, minMs: 1_000, maxMs: 2_000 } });
const signal = new AbortController().signal;

/** What people write by hand: race the call against a timer that starts a second one. */
function handRolled<T>(call: (signal: AbortSignal) => Promise<T>, delayMs: number): Promise<T> {
  const first = new AbortController();
  let second: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hedged = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      second = new AbortController();
      call(second.signal).then(resolve, reject);
    }, delayMs);
  });
  return Promise.race([call(first.signal), hedged]).finally(() => {
    clearTimeout(timer);
    first.abort();
    second?.abort();
  });
}

await compare(
  'hedge() when the first attempt answers before the delay',
  [
    { name: 'bare await fn()', fn },
    { name: 'palisade hedge (fixed delay)', fn: () => fixed.execute(fn) },
    { name: 'palisade hedge (fixed delay) + caller signal', fn: () => fixed.execute(fn, { signal }) },
    {
      name: 'palisade hedge (fixed delay), fn reads ctx.signal',
      fn: () => fixed.execute((ctx) => (ctx.signal.aborted ? 0 : fn())),
    },
    { name: 'palisade hedge (adaptive delay)', fn: () => adaptive.execute(fn) },
    { name: 'palisade hedge (adaptive delay, keyed)', fn: () => adaptive.execute(fn, { key: 'api.example.com' }) },
    { name: 'hand-rolled race + setTimeout + AbortController', fn: () => handRolled(attempt, 1_000) },
  ],
  { iterations: 50_000, rounds: 7 },
);
