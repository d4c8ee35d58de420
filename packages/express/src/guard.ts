import { type Clock, type Context, type Policy, isFailedResponse, isPolicyContext } from '@palisade/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { NormalizedExpressOptions } from './options.js';
import { RequestState } from './request-state.js';

/** How {@link guard} runs a policy around the rest of the chain. */
export interface GuardConfig {
  readonly adapter: NormalizedExpressOptions;
  /**
   * The policy can abort the handler (a timeout): answer as soon as its signal aborts rather than
   * when the handler gives up.
   */
  readonly answerOnAbort: boolean;
  /**
   * The clock of the policy's timeout, when it has one: once its deadline has passed, a response
   * the chain starts waits for the timeout to fire and is replaced by its 504.
   */
  readonly clock?: Clock | undefined;
  /** Reads the inbound deadline of a request (the deadline header), when the guard honours it. */
  readonly inboundDeadline?: ((req: Request) => number | undefined) | undefined;
  /** Runs the rest of the chain with the Context's deadline visible to outbound calls. */
  readonly withDeadline?: ((deadline: number, fn: () => void) => void) | undefined;
}

/**
 * Turns a Policy into Express middleware: the rest of the chain runs as the policy's `fn`, whose
 * promise settles when the response has been ended (or the client went away), so a slot is held
 * exactly as long as the request. A rejection before the handler ran (or a timeout) is answered
 * with core's HTTP mapping; a response for which `isFailureResponse` holds is reported to the
 * policy as a failure.
 */
export function guard(policy: Policy, config: GuardConfig): RequestHandler {
  const { adapter, answerOnAbort, clock, inboundDeadline, withDeadline } = config;
  const isFailure = adapter.isFailureResponse;

  const onAbort = (state: RequestState, signal: AbortSignal): void => {
    state.answer(signal.reason, adapter);
    state.release();
  };

  return function palisade(req: Request, res: Response, next: NextFunction): void {
    const state = RequestState.of(req, res);
    const outer = state.ctx;
    const options = state.executeOptions(inboundDeadline?.(req));
    const owned = options !== outer && isPolicyContext(options) ? options : undefined;
    let started = false;
    const run = (ctx: Context): Promise<void> => {
      started = true;
      state.ctx = ctx;
      if (answerOnAbort) {
        const signal = ctx.signal;
        if (signal.aborted) onAbort(state, signal);
        else {
          signal.addEventListener('abort', () => onAbort(state, signal), { once: true });
          if (clock !== undefined && ctx.deadline !== undefined) state.holdWhenTimeUp(ctx, clock);
        }
      }
      if (!state.answered) {
        state.nextCalled = true;
        if (withDeadline !== undefined && ctx.deadline !== undefined) withDeadline(ctx.deadline, next);
        else next();
      }
      return state.outcome(isFailure);
    };
    policy.execute(run, options).then(
      () => owned?.dispose(),
      (error: unknown) => {
        owned?.dispose();
        if (state.answered || state.aborted || isFailedResponse(error)) return;
        const answered = state.answer(error, adapter);
        state.release();
        if (!answered && !started) next(error);
      },
    );
  };
}
