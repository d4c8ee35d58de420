import {
  type Clock,
  type Context as PolicyContext,
  type Policy,
  type ResilienceError,
  failedResponse,
  isFailedResponse,
  isPolicyContext,
  toHttpResponse,
} from '@palisade/core';
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { NormalizedHonoOptions } from './options.js';
import { type PalisadeEnv, RequestState, rejectionResponse } from './request-state.js';

/** How {@link guard} runs a policy around the rest of the chain. */
export interface GuardConfig {
  readonly adapter: NormalizedHonoOptions;
  /**
   * The clock of the policy's timeout, when it has one: a handler that returns (or throws) once
   * the deadline has passed waits for the timeout to fire, whose 504 is the answer.
   */
  readonly clock?: Clock | undefined;
  /** Reads the inbound deadline of a request (the deadline header), when the guard honours it. */
  readonly inboundDeadline?: ((c: Context) => number | undefined) | undefined;
  /** Runs the rest of the chain with the Context's deadline visible to outbound calls. */
  readonly withDeadline?: (<T>(deadline: number, fn: () => T) => T) | undefined;
}

const ignore = (): void => {};

const isPast = (clock: Clock | undefined, deadline: number | undefined): boolean =>
  clock !== undefined && deadline !== undefined && clock.now() >= deadline;

/**
 * Settles with `work`, or rejects with the signal's reason as soon as it aborts. Given a `clock`
 * and a `deadline` (the signal's timeout), `work` that settles once the deadline has passed waits
 * for that timeout to abort the signal: whichever timer ran first (the timeout's, or that of an
 * outbound call bounded by the same deadline, whose error the handler passed on), a request
 * whose time is up gets the route's own timeout.
 */
function untilAborted(
  work: Promise<void>,
  signal: AbortSignal,
  clock: Clock | undefined,
  deadline: number | undefined,
): Promise<void> {
  if (signal.aborted) {
    work.catch(ignore);
    return Promise.reject(signal.reason);
  }
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      work.catch(ignore);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        if (isPast(clock, deadline)) return;
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        if (isPast(clock, deadline)) return;
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A response for a client that is gone: never delivered, but Hono needs one. */
const clientClosedRequest = (): Response => new Response(null, { status: 499 });

/**
 * Turns a Policy into Hono middleware: the rest of the chain runs as the policy's `fn`, which
 * settles when the handler has returned its Response, when the policy's signal aborts (a timeout:
 * palisade answers at once, the late Response is ignored) or when the client goes away. A
 * rejection is answered with core's HTTP mapping; a response for which `isFailureResponse` holds is
 * reported to the policy as a failure.
 */
export function guard(policy: Policy, config: GuardConfig): MiddlewareHandler<PalisadeEnv> {
  const { adapter, clock, inboundDeadline, withDeadline } = config;
  const isFailure = adapter.isFailureResponse;

  return async function palisade(c: Context, next: Next): Promise<Response | undefined> {
    const state = RequestState.of(c);
    const outer = state.ctx;
    const options = state.executeOptions(inboundDeadline?.(c));
    const owned = options !== outer && isPolicyContext(options) ? options : undefined;
    const run = async (ctx: PolicyContext): Promise<void> => {
      state.ctx = ctx;
      const work = withDeadline !== undefined && ctx.deadline !== undefined ? withDeadline(ctx.deadline, next) : next();
      await untilAborted(work, ctx.signal, clock, ctx.deadline);
      if (state.answered) throw state.error;
      const status = c.res.status;
      if (isFailure({ status })) throw failedResponse(status);
    };
    try {
      await policy.execute(run, options);
      return undefined;
    } catch (error) {
      if (isFailedResponse(error) || state.answered) return undefined;
      if (state.clientGone) return clientClosedRequest();
      const response = toHttpResponse(error, adapter.http);
      if (response === undefined) throw error;
      state.answered = true;
      state.error = error;
      const answer = await rejectionResponse(c, response, error as ResilienceError, adapter);
      if (c.finalized) c.res = undefined;
      c.res = answer;
      return answer;
    } finally {
      owned?.dispose();
    }
  };
}
