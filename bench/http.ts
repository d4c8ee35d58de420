// Requests/s of bare Express and Hono vs the same app behind palisade's rateLimit() and behind the
// peers (express-rate-limit; hono-rate-limiter), on the allow path (a limit nobody reaches) and
// the 429 path (every request refused). Each server runs in its own process; autocannon loads
// one at a time, in alternating rounds; the median is reported with its share of the bare
// framework's requests/s measured in the same round. Beside them, a middleware that limits nothing
// and sends palisade's answer written out by hand (see _http-server.ts): the share a limiter that
// answers with these headers and this 429 can keep at best. Where `taskset` exists and there are two
// cores or more, the servers share the last core and this process (autocannon) the others, so a
// server's requests/s and CPU are not those of the load generator competing with it. A last table
// measures every variant again inside one process per framework (see sameProcess).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { type PeerMark, machine, median, onCore, peerCells, peerHeader, pinToAllButLastCore } from './_harness.js';

const ROUNDS = 7;
const DURATION_S = 2;
const CONNECTIONS = 32;

type Server = {
  framework: 'express' | 'hono';
  variant: 'bare' | 'noop' | 'byhand' | 'palisade' | 'peer' | 'all';
  name: string;
  child: ChildProcess;
  port: number;
} & PeerMark;

const server = fileURLToPath(new URL('./_http-server.ts', import.meta.url));

/** The core the servers run on, when pinning is possible (and this process then keeps off it). */
const serverCore = pinToAllButLastCore();

async function start(
  framework: Server['framework'],
  variant: Server['variant'],
  name: string,
  mark: PeerMark = {},
): Promise<Server> {
  const node = [process.execPath, '--import', 'tsx', '--conditions=@palisade/source', server, framework, variant];
  const [command, ...args] = onCore(serverCore, node);
  const child = spawn(command as string, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { ...mark, framework, variant, name, child, port };
}

interface Run {
  rps: number;
  /** Server CPU time (user + system) per request, in µs. */
  cpuUsPerRequest: number;
  statuses: Record<string, number>;
}

/** The server's CPU time so far, in µs. */
function cpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve((message as { cpuUs: number }).cpuUs));
    child.send('cpu');
  });
}

async function load(s: Server, path: string, duration: number): Promise<Run> {
  const before = await cpu(s.child);
  const port = s.port;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    duration,
  });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
    statuses[code] = (stat as { count: number }).count;
  const used = (await cpu(s.child)) - before;
  return { rps: result.requests.average, cpuUsPerRequest: used / Math.max(1, result.requests.total), statuses };
}

/** One process per framework serving every variant under /<variant>/…: see {@link sameProcess}. */
const together = await Promise.all([
  start('express', 'all', 'Express, all variants'),
  start('hono', 'all', 'Hono, all variants'),
]);

const servers = await Promise.all([
  start('express', 'bare', 'bare Express'),
  start('express', 'noop', 'Express + a no-op middleware'),
  start('express', 'byhand', "Express + palisade's answer by hand (no limiter)"),
  start('express', 'palisade', 'Express + palisade rateLimit'),
  start('express', 'peer', 'Express + express-rate-limit', {
    peer: 'express-rate-limit',
    versus: 'Express + palisade rateLimit',
  }),
  start('hono', 'bare', 'bare Hono'),
  start('hono', 'noop', 'Hono + a no-op middleware'),
  start('hono', 'byhand', "Hono + palisade's answer by hand (no limiter)"),
  start('hono', 'palisade', 'Hono + palisade rateLimit'),
  start('hono', 'peer', 'Hono + hono-rate-limiter', { peer: 'hono-rate-limiter', versus: 'Hono + palisade rateLimit' }),
]);

try {
  process.stdout.write(
    `${machine()}; autocannon ${CONNECTIONS} connections, ${DURATION_S} s runs, ${ROUNDS} rounds per framework; ` +
      (serverCore === undefined
        ? 'servers and autocannon not pinned; '
        : `servers pinned to core ${serverCore}, autocannon to the other${serverCore > 1 ? 's' : ''}; `) +
      '"× bare req/s" is the median over rounds of (req/s ÷ the bare server\'s req/s in the same round); ' +
      '"bare CPU ÷ CPU" is the share of the bare server\'s capacity kept: the median over rounds of (the bare ' +
      "server's CPU time per request ÷ this server's) in the same round; the peer columns are the median over rounds " +
      "of the same-round ratio between the peer's server and palisade's\n\n",
  );
  for (const [title, path] of [
    ['allow path (limit never reached)', '/allow'],
    ['429 path (every request refused; bare answers 200)', '/limited'],
  ] as const) {
    for (const s of servers) await load(s, path, 1); // warm up (and spend the one allowed request)
    const lines = [
      `### ${title}`,
      '',
      `| server | req/s | × bare req/s | server CPU µs/req | bare CPU ÷ CPU | ${peerHeader('rate')} | ${peerHeader('cpu')} | statuses |`,
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ];
    for (const framework of ['express', 'hono'] as const) {
      const group = servers.filter((s) => s.framework === framework);
      const rps = new Map<Server, number[]>(group.map((s) => [s, []]));
      const ratios = new Map<Server, number[]>(group.map((s) => [s, []]));
      const cpus = new Map<Server, number[]>(group.map((s) => [s, []]));
      const statuses = new Map<Server, Record<string, number>>();
      for (let round = 0; round < ROUNDS; round++) {
        // Rotate the order so no server always runs first (or right after another's load).
        const order = group.map((_, i) => group[(i + round) % group.length] as Server);
        const measured = new Map<Server, number>();
        for (const s of order) {
          const run = await load(s, path, DURATION_S);
          measured.set(s, run.rps);
          cpus.get(s)?.push(run.cpuUsPerRequest);
          statuses.set(s, run.statuses);
        }
        const bare = measured.get(group[0] as Server) as number;
        for (const s of group) {
          rps.get(s)?.push(measured.get(s) as number);
          ratios.get(s)?.push((measured.get(s) as number) / bare);
        }
      }
      const bareCpus = cpus.get(group[0] as Server) ?? [];
      const rateCells = peerCells(group, (s) => rps.get(s) ?? [], 'rate');
      const cpuCells = peerCells(group, (s) => cpus.get(s) ?? [], 'cpu');
      for (const [i, s] of group.entries()) {
        const own = cpus.get(s) ?? [];
        const cpuPerRequest = median(own);
        const cpuShare = median(own.map((us, round) => (bareCpus[round] as number) / us));
        const codes = Object.entries(statuses.get(s) ?? {})
          .map(([code, count]) => `${code}: ${count}`)
          .join(', ');
        lines.push(
          `| ${s.name} | ${median(rps.get(s) ?? []).toFixed(0)} | ${median(ratios.get(s) ?? []).toFixed(2)} | ${cpuPerRequest.toFixed(1)} | ${cpuShare.toFixed(2)} | ${rateCells[i]} | ${cpuCells[i]} | ${codes} |`,
        );
      }
    }
    process.stdout.write(`${lines.join('\n')}\n\n`);
  }
  await sameProcess();
} finally {
  for (const s of [...servers, ...together]) s.child.kill();
}

/**
 * The same comparison with every variant in one process (one route each), measured in turn: two
 * processes of the same server can differ by several percent (up to 20% was seen here), which
 * blurs the tables above at the scale of the goal; within one process that difference is gone.
 * Server CPU per request only (requests/s would be the same measure, less steady).
 */
async function sameProcess(): Promise<void> {
  const variants = ['bare', 'noop', 'byhand', 'palisade', 'peer'] as const;
  const labels: Record<(typeof variants)[number], string> = {
    bare: 'bare route',
    noop: 'a no-op middleware',
    byhand: "palisade's answer by hand (no limiter)",
    palisade: 'palisade rateLimit',
    peer: 'the peer',
  };
  const peerOf = { express: 'express-rate-limit', hono: 'hono-rate-limiter' } as const;
  const lines = [
    '### the same, every variant in one process',
    '',
    `One server process per framework, one route per variant, ${ROUNDS} rounds of ${DURATION_S} s runs in rotating order; the median over rounds of the server's CPU time per request, and of (the bare route's ÷ this route's) in the same round.`,
    '',
    `| framework | path | route | server CPU µs/req | bare CPU ÷ CPU | ${peerHeader('cpu')} |`,
    '| --- | --- | --- | ---: | ---: | ---: |',
  ];
  for (const s of together) {
    for (const [kind, path] of [
      ['allow', '/allow'],
      ['429', '/limited'],
    ] as const) {
      for (const v of variants) await load(s, `/${v}${path}`, 1); // warm up (and spend the one allowed request)
      const cpus = new Map<string, number[]>(variants.map((v) => [v, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < variants.length; i++) {
          const v = variants[(i + round) % variants.length] as (typeof variants)[number];
          cpus.get(v)?.push((await load(s, `/${v}${path}`, DURATION_S)).cpuUsPerRequest);
        }
      }
      const bare = cpus.get('bare') ?? [];
      const rows = variants.map((v) =>
        v === 'peer'
          ? { v, name: peerOf[s.framework], peer: peerOf[s.framework], versus: labels.palisade }
          : { v, name: labels[v] },
      );
      const cells = peerCells(rows, (r) => cpus.get(r.v) ?? [], 'cpu');
      for (const [i, { v, name }] of rows.entries()) {
        const own = cpus.get(v) ?? [];
        const share = median(own.map((us, round) => (bare[round] as number) / us));
        lines.push(
          `| ${s.framework} | ${kind} | ${name} | ${median(own).toFixed(1)} | ${share.toFixed(2)} | ${cells[i]} |`,
        );
      }
    }
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
