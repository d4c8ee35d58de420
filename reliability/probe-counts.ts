// What the service's probes count per outbound policy (see service.ts), shared with the harness
// that reads them: a module of its own, since importing service.ts would start the service.

/** One outbound policy's calls, as its probe classified them. */
export interface ProbeCounts {
  /** Calls that entered the policy. */
  entered: number;
  /** Calls that settled, resolved or rejected (each one of the four below). */
  settled: number;
  /** Resolved. */
  ok: number;
  /** Rejected after `fn` ran at least once. */
  failed: number;
  /** Rejected before `fn` ran, not by an abort: the policy's own rejection. */
  refused: number;
  /** Rejected before `fn` ran with the abort reason: aborted on entry or while it waited. */
  abandoned: number;
  /** Runs of `fn` (attempts and hedges for retry and hedge), and those still running. */
  runs: number;
  running: number;
  /** Settled while the caller (or an outer policy) had aborted. */
  aborted: number;
  /** …of which with a `DeadlineExceededError` (createFetch's deadline guard fired). */
  abortedByDeadline: number;
  /** Timeouts: calls on which this timeout fired (its own error aborted the Context `fn` got). */
  timedOut: number;
  /** Hedge: calls that resolved after it had sent a hedge (it emits `hedge.won` for each, whoever won). */
  hedgeWon: number;
  /** Retry: calls aborted in a backoff (after a `retry` event, before the attempt it announced). */
  backoffAborted: number;
  /** Breaker: failed calls whose error one of its `failure` events carried. */
  failedWithEvent: number;
  /** Breaker: failed calls with no event, as documented: an abort, or an inner policy's rejection. */
  neither: number;
  /** Breaker: failed calls with no event and no documented reason (a bug if ever > 0). */
  unexplained: number;
}

/** Counts of a policy no call has reached yet. */
export function zeroProbeCounts(): ProbeCounts {
  return {
    entered: 0,
    settled: 0,
    ok: 0,
    failed: 0,
    refused: 0,
    abandoned: 0,
    runs: 0,
    running: 0,
    aborted: 0,
    abortedByDeadline: 0,
    timedOut: 0,
    hedgeWon: 0,
    backoffAborted: 0,
    failedWithEvent: 0,
    neither: 0,
    unexplained: 0,
  };
}
