import { type Clock, DEADLINE_HEADER, parseDeadlineHeader, systemClock } from '@palisade/core';
import { runWithDeadline } from '@palisade/core/deadline';
import type { Request } from 'express';

/** Reads the inbound deadline header (`palisade-deadline-ms`, sent by an upstream `createFetch`). */
export function inboundDeadlineReader(clock: Clock | undefined): (req: Request) => number | undefined {
  const c = clock ?? systemClock;
  return (req) => {
    const value = req.headers[DEADLINE_HEADER];
    return value === undefined ? undefined : parseDeadlineHeader(value, c.now());
  };
}

/** Runs the rest of the chain with the request's deadline as the ambient one that `createFetch` reads. */
export const withDeadline = (deadline: number, fn: () => void): void => runWithDeadline(deadline, fn);
