// The upstream the example's service calls: a server on 127.0.0.1 that misbehaves on purpose.
//   GET /quotes/:id     flaky: every third request answers 503, every tenth never answers
//   GET /inventory/:id  down: every request answers 503
import { type Server, createServer } from 'node:http';

export interface Upstream {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** What the upstream has seen so far (each attempt of a call is one request). */
  readonly seen: { quotes: number; quotesFailed: number; quotesHung: number; inventory: number };
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const seen = { quotes: 0, quotesFailed: 0, quotesHung: 0, inventory: 0 };
  const server: Server = createServer((req, res) => {
    const [, route, id] = (req.url ?? '').split('/');
    if (route === 'inventory') {
      seen.inventory++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"inventory is down"}');
      return;
    }
    if (route !== 'quotes') {
      res.writeHead(404).end();
      return;
    }
    const n = ++seen.quotes;
    if (n % 3 === 0) {
      seen.quotesFailed++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
      return;
    }
    if (n % 10 === 0) {
      seen.quotesHung++;
      return; // never answers: the attempt timeout aborts it and the connection closes
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, price: 100 + (n % 7) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
