// Runs the first example of every package's README (the one a new user copies first) exactly as
// written, against the workspace's packages, and checks what it prints or serves. `npm run
// typecheck` already compiles every snippet; this proves the examples also work. They use fixed
// ports (8080, 8081, 8082, 9464) as a reader would, so they run one after the other.
//
// They run on the packages' TypeScript sources, as every test does. With PALISADE_BUILT=1 (after
// `npm run build`; `.ci/run` does it) they run on the built packages instead, as an app that
// installed them would: the only tests of what `dist/` does.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { describeRedis } from '../../packages/redis/test/helpers/redis.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = `${root}docs/.snippets/run/`;
const built = process.env.PALISADE_BUILT === '1';

/** A server example: kept running until `url` answers, then checked and stopped. */
interface Serves {
  url: string;
  check(response: Response, body: string): void;
}

/** What each package's first example must print (`prints`, all of them) or serve. */
interface Case {
  prints?: RegExp[];
  serves?: Serves;
}

const rateLimitHeaders: Serves = {
  url: 'http://127.0.0.1:8080/api/report',
  check(response, body) {
    expect(response.status).toBe(200);
    expect(body).toBe('{"rows":[]}');
    expect(response.headers.get('ratelimit-policy')).toBe('"default";q=100;w=60');
    expect(response.headers.get('ratelimit')).toMatch(/^"default";r=99;t=\d+$/);
  },
};

const CASES: Record<string, Case> = {
  core: { prints: [/\{ users: \[\], stale: true \}/] },
  retry: { prints: [/^hello \(after 3 calls\)$/m] },
  timeout: { prints: [/^gave up after 1000 ms$/m, /^upstream: the client closed the connection$/m] },
  'circuit-breaker': {
    prints: [
      /^call 21: not sent, the circuit is open; come back in (30000|29\d\d\d) ms$/m,
      /^the upstream saw 20 calls$/m,
    ],
  },
  bulkhead: { prints: [/^30 served, 10 refused, at most 10 at once$/m, /^ok$/m] },
  hedge: { prints: [/^slowest call: ([1-9]?\d|[1-4]\d\d) ms; \d+ hedges; 4 stalled requests abandoned$/m] },
  'rate-limit': {
    prints: [/^request 21: 429, retry after (600|5\d\d) ms$/m, /^\[ [01], (99|1\d\d), (199|2\d\d) \]$/m],
  },
  fetch: { prints: [/^200 hello$/m] },
  express: { serves: rateLimitHeaders },
  hono: { serves: rateLimitHeaders },
  metrics: {
    prints: [/^200 2$/m],
    serves: {
      url: 'http://127.0.0.1:9464/metrics',
      check(response, body) {
        expect(response.status).toBe(200);
        expect(body).toContain('palisade_events_total{policy="circuit-breaker",name="payments",type="success"} 1');
      },
    },
  },
  redis: { prints: [/^true 100$/m, /^\[ \d+, (99|1\d\d), (199|2\d\d) \]$/m] },
};

/** The first ```ts block of a package's README. */
function firstExample(pkg: string): string {
  const text = readFileSync(`${root}packages/${pkg}/README.md`, 'utf8');
  const match = /^```ts\n([\s\S]*?)^```$/m.exec(text);
  if (!match) throw new Error(`packages/${pkg}/README.md has no ts example`);
  return match[1] as string;
}

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill();
  child = undefined;
});

/** Runs the example; resolves with its output once it exits (or, for a server, once checked). */
async function run(pkg: string, { prints = [], serves }: Case): Promise<void> {
  mkdirSync(out, { recursive: true });
  const file = `${out}${pkg}.ts`;
  writeFileSync(file, `${firstExample(pkg)}export {};\n`);
  const tsx = `${root}node_modules/tsx/dist/cli.mjs`;
  const proc = spawn(process.execPath, built ? [tsx, file] : [tsx, '--conditions=@palisade/source', file], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  if (serves) {
    // What it prints comes once its own calls are done: wait for that before looking.
    for (let tries = 0; !prints.every((re) => re.test(stdout)) && tries < 200; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    let response: Response | undefined;
    for (let tries = 0; response === undefined; tries++) {
      if (proc.exitCode !== null || tries > 200) throw new Error(`${pkg} never served ${serves.url}:\n${stderr}`);
      response = await fetch(serves.url).catch(() => undefined);
      if (response === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    serves.check(response, await response.text());
    proc.kill();
  } else {
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    expect(stderr, `${pkg} wrote to stderr`).toBe('');
    expect(code, `${pkg} exit code; stdout:\n${stdout}`).toBe(0);
  }
  for (const re of prints) expect(stdout, `${pkg}'s output`).toMatch(re);
}

describe(`the first example of each package README runs as written (${built ? 'built packages' : 'sources'})`, () => {
  it('covers every package', () => {
    const packages = readdirSync(`${root}packages`).sort();
    expect(Object.keys(CASES).sort()).toEqual(packages);
  });

  for (const [pkg, expected] of Object.entries(CASES)) {
    if (pkg === 'redis') continue;
    it(pkg, () => run(pkg, expected), 30_000);
  }
});

describeRedis(`the first example of the @palisade/redis README runs as written (${built ? 'built' : 'source'})`, () => {
  it('redis', () => run('redis', CASES.redis as Case), 30_000);
});
