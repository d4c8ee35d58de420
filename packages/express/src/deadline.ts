import { type Clock, deadlineHeaderReader } from '@palisade/core';
import { runWithDeadline } from '@palisade/core/deadline';
import type { Request } from 'express';

const header = (req: Request, name: string): unknown => req.headers[name];

/** Reads the inbound deadline header (`palisade-deadline-ms`, sent by an upstream `createFetch`). */
export const inboundDeadlineReader = (clock: Clock | undefined): ((req: Request) => number | undefined) =>
  deadlineHeaderReader(clock, header);

/** Runs the rest of the chain with the request's deadline as the ambient one that `createFetch` reads. */
export const withDeadline = (deadline: number, fn: () => void): void => runWithDeadline(deadline, fn);
