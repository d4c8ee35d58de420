// Overhead of @palisade/retry on a call that succeeds first time, against the bare await and
// cockatiel's and p-retry's retry on the same call, in the same run. Goal: ≤ 2x the bare await.
import { retry } from '@palisade/retry';
import { handleAll, retry as cockatielRetry } from 'cockatiel';
import pRetry from 'p-retry';
import { compare, runAlone } from './_harness.js';

const fn = async () => 1;

const palisadeDefault = retry(); // with its own retry budget (the default)
const palisadeNoBudget = retry({ budget: false });
const palisadeObserved = retry({ onEvent: () => {} });
const cockatiel = cockatielRetry(handleAll, { maxAttempts: 3 });
const signal = new AbortController().signal;
const DEFAULT = 'palisade retry() (default budget)';

if (process.argv.includes('--goal')) {
  // The goal's pair alone, in a fresh process (see runAlone) and more rounds.
  await compare(
    'bare await vs retry(), alone in a fresh process (goal: ≤ 2x)',
    [
      { name: 'bare await fn()', fn },
      { name: 'palisade retry() (default budget)', fn: () => palisadeDefault.execute(fn) },
    ],
    { iterations: 100_000, rounds: 21 },
  );
} else {
  await compare(
    'retry() on a call that succeeds first time',
    [
      { name: 'bare await fn()', fn },
      { name: DEFAULT, fn: () => palisadeDefault.execute(fn) },
      { name: 'palisade retry({ budget: false })', fn: () => palisadeNoBudget.execute(fn) },
      { name: 'palisade retry() + caller signal', fn: () => palisadeDefault.execute(fn, { signal }) },
      { name: 'palisade retry() + onEvent', fn: () => palisadeObserved.execute(fn) },
      {
        name: 'cockatiel retry(handleAll, { maxAttempts: 3 })',
        fn: () => cockatiel.execute(fn),
        peer: 'cockatiel',
        versus: DEFAULT,
      },
      { name: 'p-retry (retries: 2)', fn: () => pRetry(fn, { retries: 2 }), peer: 'p-retry', versus: DEFAULT },
    ],
    { iterations: 100_000, rounds: 7 },
  );
  runAlone(import.meta.url, '--goal');
}
