// Requests/s of bare Express and Hono vs the same app behind palisade's rateLimit() and behind the
// peers (express-rate-limit; hono-rate-limiter), on the allow path (a limit nobody reaches) and
// the 429 path (every request refused). Each server runs in its own process; autocannon loads
// one at a time, in alternating rounds; the median is reported with its share of the bare
// framework's requests/s measured in the same run.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { machine } from './_harness.js';

const ROUNDS = 3;
const DURATION_S = 2;
const CONNECTIONS = 32;

interface Server {
  framework: 'express' | 'hono';
  variant: 'bare' | 'palisade' | 'peer';
  label: string;
  child: ChildProcess;
  port: number;
}

const server = fileURLToPath(new URL('./_http-server.ts', import.meta.url));

async function start(framework: Server['framework'], variant: Server['variant'], label: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@palisade/source', server, framework, variant],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}`)));
  });
  return { framework, variant, label, child, port };
}

interface Run {
  rps: number;
  statuses: Record<string, number>;
}

async function load(port: number, path: string, duration: number): Promise<Run> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    duration,
  });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
    statuses[code] = (stat as { count: number }).count;
  return { rps: result.requests.average, statuses };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const servers = await Promise.all([
  start('express', 'bare', 'bare Express'),
  start('express', 'palisade', 'Express + palisade rateLimit'),
  start('express', 'peer', 'Express + express-rate-limit'),
  start('hono', 'bare', 'bare Hono'),
  start('hono', 'palisade', 'Hono + palisade rateLimit'),
  start('hono', 'peer', 'Hono + hono-rate-limiter'),
]);

try {
  process.stdout.write(`${machine()}; autocannon ${CONNECTIONS} connections, ${DURATION_S} s × ${ROUNDS} rounds\n\n`);
  for (const [title, path] of [
    ['allow path (limit never reached)', '/allow'],
    ['429 path (every request refused; bare answers 200)', '/limited'],
  ] as const) {
    for (const s of servers) await load(s.port, path, 1); // warm up (and spend the one allowed request)
    const samples = new Map<Server, number[]>(servers.map((s) => [s, []]));
    const statuses = new Map<Server, Record<string, number>>();
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        const run = await load(s.port, path, DURATION_S);
        samples.get(s)?.push(run.rps);
        statuses.set(s, run.statuses);
      }
    }
    const lines = [`### ${title}`, '', '| server | req/s | × bare | statuses |', '| --- | ---: | ---: | --- |'];
    for (const framework of ['express', 'hono'] as const) {
      const bare = median(
        samples.get(servers.find((s) => s.framework === framework && s.variant === 'bare') as Server) ?? [],
      );
      for (const s of servers.filter((x) => x.framework === framework)) {
        const rps = median(samples.get(s) ?? []);
        const codes = Object.entries(statuses.get(s) ?? {})
          .map(([code, count]) => `${code}: ${count}`)
          .join(', ');
        lines.push(`| ${s.label} | ${rps.toFixed(0)} | ${(rps / bare).toFixed(2)} | ${codes} |`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n\n`);
  }
} finally {
  for (const s of servers) s.child.kill();
}
