// Overhead of an uncontended @palisade/bulkhead (a slot is always free) on an always-resolving
// call, against the bare await, cockatiel 3's bulkhead and p-limit 7 in the same run.
import { bulkhead, concurrencyLimit } from '@palisade/bulkhead';
import { bulkhead as cockatielBulkhead } from 'cockatiel';
import pLimit from 'p-limit';
import { compare } from './_harness.js';

const fn = async () => 1;

const palisade = bulkhead({ maxConcurrent: 10, maxQueue: 10 });
const adaptive = concurrencyLimit({ algorithm: 'gradient', maxQueue: 10 });
const cockatiel = cockatielBulkhead(10, 10);
const limit = pLimit(10);
const signal = new AbortController().signal;
const PALISADE = 'palisade bulkhead';

await compare(
  'bulkhead, uncontended, on an always-resolving call',
  [
    { name: 'bare await fn()', fn },
    { name: PALISADE, fn: () => palisade.execute(fn) },
    { name: 'palisade bulkhead + caller signal', fn: () => palisade.execute(fn, { signal }) },
    { name: 'palisade concurrencyLimit (gradient)', fn: () => adaptive.execute(fn) },
    { name: 'cockatiel bulkhead(10, 10)', fn: () => cockatiel.execute(fn), peer: 'cockatiel', versus: PALISADE },
    // p-limit has no queue bound: the nearest palisade policy is still the bulkhead.
    { name: 'p-limit(10)', fn: () => limit(fn), peer: 'p-limit', versus: PALISADE },
  ],
  { rounds: 11 },
);
