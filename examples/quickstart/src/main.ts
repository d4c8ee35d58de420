// Runs the quick start against a local server that fails every third request and hangs every tenth.
import { createServer } from 'node:http';
import { getUser } from './policy.js';

let n = 0;
const server = createServer((req, res) => {
  n++;
  if (n % 3 === 0) {
    res.writeHead(503).end();
    return;
  }
  if (n % 10 === 0) return; // hangs: the per-attempt timeout aborts it
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: req.url?.split('/').pop(), name: 'Ada' }));
});

export async function main(): Promise<unknown[]> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  try {
    const users = [];
    for (let id = 1; id <= 10; id++) users.push(await getUser(base, id));
    process.stdout.write(
      `got ${users.length} users in ${n} requests to a server failing every third request and hanging every tenth\n`,
    );
    return users;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) await main();
