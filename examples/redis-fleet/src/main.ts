// A fleet of 3 service processes sharing two limits through Redis: 200 requests per hour per API
// key (inbound, @palisade/express rateLimit) and 40 calls per second to a pricing API (outbound,
// throttle). main.ts starts the pricing API and the services, sends them more than both limits
// allow, and prints what each process admitted against what the fleet may.
import { randomBytes } from 'node:crypto';
import { DEFAULT_REDIS_URL, INBOUND, OUTBOUND } from './config.js';
import { busiestWindow, peakShareOfQuota, startPricingApi } from './pricing.js';
import { type ServiceProcess, startService, stopService } from './processes.js';
import { deleteKeys, redisAnswers } from './redis.js';

/** Requests each client sends: alice twice her hourly limit, bob half of his. */
export const LOAD = { alice: 400, bob: 100 } as const;
export type Client = keyof typeof LOAD;
const CLIENTS = Object.keys(LOAD) as Client[];
/**
 * Requests in flight at once, over the whole fleet. Admitted requests wait for their pricing slot,
 * so this is also how far ahead the fleet's throttle is booked: 48 × 25 ms = 1.2 s of calls queued,
 * enough to keep the quota busy while a loaded machine delays the next requests.
 */
const CONCURRENCY = 48;

export interface FleetOptions {
  /** @default process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' */
  redisUrl?: string;
  /** Service processes to start. @default 3 */
  services?: number;
  /** Print the table (and progress) to stdout. @default true */
  print?: boolean;
}

export interface ServiceResult {
  name: string;
  pid: number;
  /** 200s per client. */
  admitted: Record<Client, number>;
  /** 429s per client. */
  refused: Record<Client, number>;
  /** Any other status (a call refused by the pricing quota, an error): 0 when all went well. */
  other: number;
  /** Calls this process made to the pricing API, as the pricing API counted them. */
  pricingCalls: number;
  /** `ratelimit.store-error` events: Redis did not answer within the store's timeout. */
  storeErrors: number;
}

export interface FleetRun {
  skipped?: undefined;
  redisUrl: string;
  /** This run's Redis key prefix (its keys are deleted at the end). */
  prefix: string;
  services: ServiceResult[];
  fleet: Omit<ServiceResult, 'name' | 'pid'>;
  /**
   * What the pricing API saw from the whole fleet: calls, the time from the first to the last,
   * their rate over it, the most calls within any 1 s, and `peakShare`, the most the fleet was ever
   * ahead of the quota (calls arrived so far ÷ calls allowed since the load started; ≤ 1 when it held).
   */
  pricing: { calls: number; spanMs: number; perSecond: number; busiestSecond: number; peakShare: number };
  /** Keys of this run found (and deleted) in Redis at the end. */
  keysDeleted: number;
}

export interface FleetSkipped {
  skipped: string;
  redisUrl: string;
}

export type FleetResult = FleetRun | FleetSkipped;

const zero = (): Record<Client, number> => ({ alice: 0, bob: 0 });

export async function run(options: FleetOptions = {}): Promise<FleetResult> {
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const print = options.print === false ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  if (!(await redisAnswers(redisUrl))) {
    const skipped = `Redis does not answer at ${redisUrl}: start redis-server or set REDIS_URL. Nothing was run.`;
    print(`redis-fleet: ${skipped}`);
    return { skipped, redisUrl };
  }

  // A prefix of its own: this run never meets the keys of another run, or of anything else.
  const prefix = `palisade-example:redis-fleet:${process.pid}-${randomBytes(4).toString('hex')}:`;
  const pricingApi = await startPricingApi();
  const services: ServiceProcess[] = [];
  try {
    const count = options.services ?? 3;
    const env = { REDIS_URL: redisUrl, FLEET_PREFIX: prefix, PRICING_URL: pricingApi.url };
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => startService(`service-${i + 1}`, env)),
    );
    for (const s of started) if (s.status === 'fulfilled') services.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;

    print(`redis-fleet: ${count} service processes on 127.0.0.1 sharing Redis at ${redisUrl} (keys ${prefix}*)`);
    print(`  inbound:  ${INBOUND.limit} requests per hour per API key (@palisade/express rateLimit + redisStore)`);
    print(
      `  outbound: ${OUTBOUND.limit} calls per second to the pricing API for the whole fleet (throttle + redisStore)`,
    );
    print(
      `sending ${CLIENTS.map((c) => `${LOAD[c]} requests as ${c}`).join(' and ')}, round-robin over the processes…\n`,
    );

    const results = services.map((s) => ({
      name: s.name,
      pid: s.pid,
      admitted: zero(),
      refused: zero(),
      other: 0,
      pricingCalls: 0,
      storeErrors: 0,
    }));
    const startedAt = performance.now(); // the pricing API's clock: it runs in this process
    await drive(services, results);

    for (const [i, service] of services.entries()) {
      const stats = (await (await fetch(`${service.url}/stats`)).json()) as { storeErrors: number };
      const result = results[i] as ServiceResult;
      result.storeErrors = stats.storeErrors;
      result.pricingCalls = pricingApi.calls.filter((c) => c.service === service.name).length;
    }
    const times = pricingApi.calls.map((c) => c.at).sort((a, b) => a - b);
    const spanMs = times.length > 1 ? (times.at(-1) as number) - (times[0] as number) : 0;
    const pricing = {
      calls: times.length,
      spanMs,
      // n calls spaced by the quota span n - 1 intervals.
      perSecond: spanMs > 0 ? ((times.length - 1) * 1_000) / spanMs : 0,
      busiestSecond: busiestWindow(times, 1_000),
      peakShare: peakShareOfQuota(times, startedAt, {
        burst: OUTBOUND.burst,
        intervalMs: OUTBOUND.windowMs / OUTBOUND.limit,
      }),
    };
    const fleet = {
      admitted: sumBy(results, (r) => r.admitted),
      refused: sumBy(results, (r) => r.refused),
      other: results.reduce((n, r) => n + r.other, 0),
      pricingCalls: results.reduce((n, r) => n + r.pricingCalls, 0),
      storeErrors: results.reduce((n, r) => n + r.storeErrors, 0),
    };
    await Promise.all(services.map(stopService));
    const keysDeleted = await deleteKeys(redisUrl, prefix);
    const result: FleetRun = { redisUrl, prefix, services: results, fleet, pricing, keysDeleted };
    print(table(result));
    return result;
  } finally {
    // Also on failure: no process, server or key outlives the run.
    await Promise.all(services.map(stopService));
    await pricingApi.close();
    await deleteKeys(redisUrl, prefix).catch(() => 0);
  }
}

/** Sends the load: alice and bob interleaved, round-robin over the processes, CONCURRENCY at once. */
async function drive(services: ServiceProcess[], results: ServiceResult[]): Promise<void> {
  const plan: Client[] = [];
  for (let i = 0; plan.length < LOAD.alice + LOAD.bob; i++) {
    for (const client of CLIENTS) if (i < LOAD[client]) plan.push(client);
  }
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const i = next++;
      const client = plan[i] as Client;
      const target = i % services.length;
      const res = await fetch(`${(services[target] as ServiceProcess).url}/api/quote/${i}`, {
        headers: { 'x-api-key': client },
      });
      await res.arrayBuffer();
      const result = results[target] as ServiceResult;
      if (res.status === 200) result.admitted[client]++;
      else if (res.status === 429) result.refused[client]++;
      else result.other++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function sumBy(results: ServiceResult[], pick: (r: ServiceResult) => Record<Client, number>): Record<Client, number> {
  const total = zero();
  for (const r of results) for (const c of CLIENTS) total[c] += pick(r)[c];
  return total;
}

/** The table main.ts prints: per process, the fleet, and the limits. */
export function table(result: FleetRun): string {
  const header = ['process', 'pid', 'alice 200', 'alice 429', 'bob 200', 'bob 429', 'pricing calls', 'store errors'];
  const row = (name: string, pid: string, r: Omit<ServiceResult, 'name' | 'pid'>) => [
    name,
    pid,
    String(r.admitted.alice),
    String(r.refused.alice),
    String(r.admitted.bob),
    String(r.refused.bob),
    String(r.pricingCalls),
    String(r.storeErrors),
  ];
  const { pricing } = result;
  const rows = [
    ...result.services.map((s) => row(s.name, String(s.pid), s)),
    row('fleet', '', result.fleet),
    ['limit', '', `${INBOUND.limit}/h`, '', `${INBOUND.limit}/h`, '', `${OUTBOUND.limit}/s`, ''],
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  const other = result.fleet.other > 0 ? `\n${result.fleet.other} responses were neither 200 nor 429.` : '';
  return [
    line(header),
    ...rows.slice(0, -2).map(line),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(-2).map(line),
    '',
    `pricing API: ${pricing.calls} calls in ${(pricing.spanMs / 1_000).toFixed(2)} s = ${pricing.perSecond.toFixed(1)}/s ` +
      `(quota ${OUTBOUND.limit}/s); ${pricing.peakShare <= 1 ? 'never ahead of the quota' : 'AHEAD of the quota'} ` +
      `(at most ${(pricing.peakShare * 100).toFixed(1)}% of the calls it allowed so far); ` +
      `busiest second: ${pricing.busiestSecond}.${other}`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const result = await run();
  if (result.skipped) process.exitCode = 0; // by hand, no Redis is not an error: the line above says why
}
