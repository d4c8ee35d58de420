import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResilienceEvent } from '@palisade/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hedge } from '../src/index.js';

/** Real replicas on 127.0.0.1 (real timers: the network is the point here). */
interface Replica {
  url: string;
  server: Server;
  requests: number;
  /** Resolves when a request's connection closes before its response was sent. */
  abandoned: Promise<void>;
}

function start(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Replica> {
  let onAbandoned!: () => void;
  const replica = {
    requests: 0,
    abandoned: new Promise<void>((resolve) => {
      onAbandoned = resolve;
    }),
  } as Replica;
  replica.server = createServer((req, res) => {
    replica.requests++;
    res.on('close', () => {
      if (!res.writableEnded) onAbandoned();
    });
    handler(req, res);
  });
  return new Promise((resolve) => {
    replica.server.listen(0, '127.0.0.1', () => {
      replica.url = `http://127.0.0.1:${(replica.server.address() as AddressInfo).port}/`;
      resolve(replica);
    });
  });
}

describe('hedge() against real HTTP replicas', () => {
  let slow: Replica;
  let fast: Replica;
  beforeAll(async () => {
    // The slow replica answers only after a minute (the hedge must not wait for it).
    slow = await start((_, res) => {
      const timer = setTimeout(() => res.end('slow'), 60_000);
      res.on('close', () => clearTimeout(timer));
    });
    fast = await start((_, res) => res.end('fast'));
  });
  afterAll(() => {
    for (const { server } of [slow, fast]) {
      server.closeAllConnections();
      server.close();
    }
  });

  it('the hedge to the fast replica wins and the slow replica sees its request abandoned', async () => {
    const events: ResilienceEvent[] = [];
    const h = hedge({ delayMs: 50, onEvent: (e) => events.push(e) });
    const body = await h.execute(async ({ attempt, signal }) => {
      const res = await fetch(attempt === 1 ? slow.url : fast.url, { signal });
      return res.text();
    });
    expect(body).toBe('fast');
    // The loser's fetch was aborted, so its connection closes before the slow replica answers.
    await slow.abandoned;
    expect([slow.requests, fast.requests]).toEqual([1, 1]);
    expect(events.map((e) => e.type)).toEqual(['hedge.sent', 'hedge.won']);
    expect(events[1]).toMatchObject({ attempt: 2 });
  });
});
