import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a test handler sees about a request. */
export interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** True once the client closed the connection or the response ended. */
  closed: boolean;
  /** True when the connection closed before the response ended (the client gave up). */
  aborted: boolean;
  /** True once the socket the request came on has closed. */
  socketClosed: boolean;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => unknown;

/** A real node:http server on 127.0.0.1 that counts its sockets and records every request. */
export interface TestServer {
  readonly url: string;
  readonly host: string;
  readonly server: Server;
  /** Every request received, in order. */
  readonly requests: Seen[];
  /** Sockets currently open (busy or idle: a client may keep idle ones alive, or open spares). */
  readonly openSockets: number;
  /** Requests whose response has neither finished nor been cut off: each holds a socket busy. */
  readonly activeRequests: number;
  /** Sockets ever opened. */
  readonly totalSockets: number;
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Seen[] = [];
  const sockets = new Set<Socket>();
  let total = 0;
  const server = createServer((req, res) => {
    const seen: Seen = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: '',
      closed: false,
      aborted: false,
      socketClosed: false,
    };
    requests.push(seen);
    req.socket.once('close', () => {
      seen.socketClosed = true;
    });
    res.on('close', () => {
      seen.closed = true;
      seen.aborted = !res.writableFinished;
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.body = Buffer.concat(chunks).toString();
      void Promise.resolve(handler(req, res, seen)).catch((error: unknown) => {
        res.destroy(error as Error);
      });
    });
  });
  server.on('connection', (socket) => {
    total++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    server,
    requests,
    get openSockets() {
      return sockets.size;
    },
    get totalSockets() {
      return total;
    },
    get activeRequests() {
      return requests.filter((r) => !r.closed).length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` (real time: the server is real) until it passes or `ms` elapse. */
export async function eventually(check: () => void, ms = 10_000): Promise<void> {
  const start = performance.now();
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (performance.now() - start > ms) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
