// Overhead of core composition and @palisade/timeout on an always-resolving call, against the
// bare await and cockatiel's timeout/wrap in the same run.
import { noop, pipeline } from '@palisade/core';
import { timeout } from '@palisade/timeout';
import { TimeoutStrategy, noop as cockatielNoop, timeout as cockatielTimeout, wrap } from 'cockatiel';
import { compare } from './_harness.js';

const fn = async () => 1;

const palisadeTimeout = timeout({ ms: 10_000 });
const palisadeTimeoutPipeline = pipeline(timeout({ ms: 10_000 }));
const palisadeAggressive = timeout({ ms: 10_000, strategy: 'aggressive' });
const palisadeNoops = pipeline(noop(), noop(), noop(), noop());
const cockatielCooperative = cockatielTimeout(10_000, TimeoutStrategy.Cooperative);
const cockatielWrap = wrap(cockatielNoop, cockatielNoop, cockatielNoop, cockatielNoop);
const signal = new AbortController().signal;

await compare('timeout() on an always-resolving call', [
  { name: 'bare await fn()', fn },
  { name: 'palisade timeout (cooperative)', fn: () => palisadeTimeout.execute(fn) },
  { name: 'palisade pipeline(timeout)', fn: () => palisadeTimeoutPipeline.execute(fn) },
  { name: 'palisade timeout (aggressive)', fn: () => palisadeAggressive.execute(fn) },
  { name: 'palisade timeout + caller signal', fn: () => palisadeTimeout.execute(fn, { signal }) },
  {
    name: 'cockatiel timeout (cooperative)',
    fn: () => cockatielCooperative.execute(fn),
    peer: 'cockatiel',
    versus: 'palisade timeout (cooperative)',
  },
]);

await compare('4-deep no-op pipeline', [
  { name: 'bare await fn()', fn },
  { name: 'palisade pipeline(noop ×4)', fn: () => palisadeNoops.execute(fn) },
  {
    name: 'cockatiel wrap(noop ×4)',
    fn: () => cockatielWrap.execute(fn),
    peer: 'cockatiel',
    versus: 'palisade pipeline(noop ×4)',
  },
]);
