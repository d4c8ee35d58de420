// Overhead of core composition and @palisade/timeout on an always-resolving call, against the
// bare await and cockatiel's timeout/wrap in the same run; then timeout + retry + breaker, run
// fused (as pipeline() runs palisade's own policies) and layered (the same policies, each wrapped
// in a plain Policy so that the pipeline cannot fuse them), against cockatiel's wrap of the three.
import { circuitBreaker } from '@palisade/circuit-breaker';
import { type Policy, noop, pipeline } from '@palisade/core';
import { retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import {
  ExponentialBackoff,
  TimeoutStrategy,
  noop as cockatielNoop,
  handleAll,
  retry as cockatielRetry,
  timeout as cockatielTimeout,
  wrap,
} from 'cockatiel';
import { cockatielBreaker } from './_cockatiel.js';
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

/** `policy` as a plain Policy: what a pipeline runs layered, each around the next one's promise. */
const layered = (policy: Policy): Policy => ({ name: policy.name, execute: (f, o) => policy.execute(f, o) });
const three = () => [timeout({ ms: 10_000 }), retry(), circuitBreaker()];
const palisadeFused = pipeline(...three());
const palisadeLayered = pipeline(...three().map(layered));
const cockatielThree = wrap(
  cockatielTimeout(10_000, TimeoutStrategy.Cooperative),
  cockatielRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
  cockatielBreaker(),
);

await compare('timeout + retry + breaker on an always-resolving call', [
  { name: 'bare await fn()', fn },
  { name: 'palisade pipeline(timeout, retry, breaker), fused', fn: () => palisadeFused.execute(fn) },
  { name: 'the same policies, layered', fn: () => palisadeLayered.execute(fn) },
  { name: 'fused, with a caller signal', fn: () => palisadeFused.execute(fn, { signal }) },
  { name: 'layered, with a caller signal', fn: () => palisadeLayered.execute(fn, { signal }) },
  {
    name: 'cockatiel wrap(timeout, retry, breaker)',
    fn: () => cockatielThree.execute(fn),
    peer: 'cockatiel',
    versus: 'palisade pipeline(timeout, retry, breaker), fused',
  },
]);
