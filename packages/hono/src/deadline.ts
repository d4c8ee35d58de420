import { type Clock, deadlineHeaderReader } from '@palisade/core';
import type { Context } from 'hono';
import { requestHeader } from './request-header.js';

/**
 * Runs `fn` with `deadline` (epoch ms) as the ambient deadline of outbound calls: pass
 * `runWithDeadline` from `@palisade/core/deadline` (which uses `AsyncLocalStorage`) on runtimes
 * that have it. This package imports nothing runtime-specific, so it does not reach for it itself.
 */
export type RunWithDeadline = <T>(deadline: number, fn: () => T) => T;

/** Reads the inbound deadline header (`palisade-deadline-ms`, sent by an upstream `createFetch`). */
export const inboundDeadlineReader = (clock: Clock | undefined): ((c: Context) => number | undefined) =>
  deadlineHeaderReader(clock, requestHeader);
