// The self-contained HTML report: per scenario, success rate and latency over time, both runs
// overlaid, and the summary table. No script, no CDN: inline SVG only.
import type { RunResult } from './run.js';
import type { Scenario } from './scenarios.js';
import { type Bucket, RECOVERY_SHARE, RECOVERY_WINDOW, type RunSummary, type Tally, timeSeries } from './stats.js';

const COLORS = { baseline: '#d9534f', palisade: '#2e86de' } as const;
const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

function chart(
  title: string,
  series: { mode: 'baseline' | 'palisade'; buckets: Bucket[] }[],
  value: (b: Bucket) => number,
  max: number,
  unit: string,
  durationMs: number,
  band?: [number, number],
  /** A second value per bucket, drawn dashed in the same colour. */
  dashed?: (b: Bucket) => number,
): string {
  const w = 560;
  const h = 180;
  const pad = { l: 48, r: 10, t: 24, b: 24 };
  const x = (t: number) => pad.l + (t / durationMs) * (w - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - Math.min(v, max) / max) * (h - pad.t - pad.b);
  const polyline = (mode: 'baseline' | 'palisade', buckets: Bucket[], of: (b: Bucket) => number, dash: string) => {
    const pts = buckets
      .filter((b) => Number.isFinite(of(b)))
      .map((b) => `${x(b.t).toFixed(1)},${y(of(b)).toFixed(1)}`)
      .join(' ');
    return `<polyline fill="none" stroke="${COLORS[mode]}" stroke-width="2"${dash} points="${pts}"/>`;
  };
  const lines = series
    .map(
      ({ mode, buckets }) =>
        polyline(mode, buckets, value, '') + (dashed ? polyline(mode, buckets, dashed, ' stroke-dasharray="4 3"') : ''),
    )
    .join('');
  const ticks = [0, 0.5, 1]
    .map(
      (f) =>
        `<text x="${pad.l - 6}" y="${y(f * max) + 4}" text-anchor="end">${unit === '%' ? `${Math.round(f * max * 100)}%` : `${Math.round(f * max)}${unit}`}</text><line x1="${pad.l}" x2="${w - pad.r}" y1="${y(f * max)}" y2="${y(f * max)}" stroke="#eee"/>`,
    )
    .join('');
  const shade = band
    ? `<rect x="${x(band[0])}" y="${pad.t}" width="${x(band[1]) - x(band[0])}" height="${h - pad.t - pad.b}" fill="#f6e3b4" opacity="0.6"/>`
    : '';
  return `<svg viewBox="0 0 ${w} ${h}" class="chart"><text x="${pad.l}" y="14" class="t">${esc(title)}</text>${shade}${ticks}${lines}<text x="${w - pad.r}" y="${h - 6}" text-anchor="end">${(durationMs / 1000).toFixed(0)} s</text></svg>`;
}

export function fmtPct(rate: number): string {
  return `${(rate * 100).toFixed(rate >= 0.999 ? 2 : 1)}%`;
}

/** "3.1", or "≥2.1" (rounded down) when nothing failed and the sample size caps what it shows. */
export const fmtNines = (s: Pick<RunSummary, 'nines' | 'ninesBound'>): string =>
  s.ninesBound ? `≥${(Math.floor(s.nines * 10) / 10).toFixed(1)}` : s.nines.toFixed(1);

export const fmtRecovery = (ms: number | undefined): string =>
  ms === undefined ? '–' : Number.isNaN(ms) ? 'never' : `${ms.toFixed(0)} ms`;

/** What the columns mean: printed under the tables and in the report. */
export const LEGEND = [
  'served: answered 2xx, stale copies included (availability); fresh: 2xx with a fresh answer from the upstream;',
  '  stale: stale copies the fallback served (last good answer, header x-stale: 1). Reads and 20% orders, both services.',
  'nines: -log10(1 - served); "≥x" when no request failed: n requests can show at most x = log10(n) nines.',
  'upstream calls: every call that reached the upstream (retries, hedges, orders), and per client request;',
  '  in outage: those made while the outage lasted.',
  `recovered: from the end of the outage to the first request from which on every ${RECOVERY_WINDOW} requests in a row are`,
  `  ≥ ${RECOVERY_SHARE * 100}% fresh successes (not bucketed); "never": not within the run.`,
];

const fmtTallies = (tallies: Record<string, Tally>) =>
  Object.entries(tallies)
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([name, t]) => `${name}: ${t.served}/${t.requests} served, ${t.fresh} fresh`)
    .join(' · ');

export function renderReport(
  entries: { scenario: Scenario; runs: RunResult[]; summaries: Record<string, RunSummary> }[],
  meta: string,
): string {
  const sections = entries
    .map(({ scenario, runs, summaries }) => {
      const durationMs = runs[0]?.durationMs ?? 1;
      const series = runs.map((r) => ({
        mode: r.mode,
        buckets: timeSeries(r.samples, Math.max(100, durationMs / 60)),
      }));
      const p99max = Math.max(50, ...series.flatMap((s) => s.buckets.map((b) => b.p99)));
      const band = runs[0]?.outage ? ([runs[0].outage.fromMs, runs[0].outage.toMs] as [number, number]) : undefined;
      const rows = (['baseline', 'palisade'] as const)
        .filter((m) => summaries[m])
        .map((m) => {
          const s = summaries[m] as RunSummary;
          return `<tr><td><span class="dot" style="background:${COLORS[m]}"></span>${m}</td><td>${fmtPct(s.successRate)}</td><td>${fmtPct(s.freshRate)}</td><td>${s.stale}</td><td>${esc(fmtNines(s))}</td><td>${Number.isFinite(s.p50) ? s.p50.toFixed(0) : '–'}</td><td>${s.p99.toFixed(0)}</td><td>${s.p999.toFixed(0)}</td><td>${s.upstreamCalls} (${s.amplification.toFixed(2)}x)</td><td>${s.upstreamDuringOutage ?? '–'}</td><td>${fmtRecovery(s.recoverMs)}</td></tr>`;
        })
        .join('');
      const details = (['baseline', 'palisade'] as const)
        .filter((m) => summaries[m])
        .map((m) => {
          const s = summaries[m] as RunSummary;
          return `<li>${m} — ${esc(fmtTallies(s.byRoute))} · ${esc(fmtTallies(s.byFramework))}</li>`;
        })
        .join('');
      return `<section><h2>${esc(scenario.title)}</h2><p>${esc(scenario.story)}</p>
<table><tr><th>run</th><th>served</th><th>fresh</th><th>stale</th><th>nines</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>upstream calls</th><th>in outage</th><th>recovered</th></tr>${rows}</table>
<ul class="details">${details}</ul>
<div class="charts">${chart(
        'served (solid) and fresh (dashed)',
        series,
        (b) => b.successRate,
        1,
        '%',
        durationMs,
        band,
        (b) => b.freshRate,
      )}${chart('p99 latency', series, (b) => b.p99, p99max, ' ms', durationMs, band)}</div></section>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>palisade lab report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1180px;color:#1d2330;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{margin-top:2.2rem;font-size:1.2rem} .meta{color:#667}
table{border-collapse:collapse;margin:.6rem 0} td,th{padding:.3rem .7rem;border-bottom:1px solid #e3e6ee;text-align:right} td:first-child,th:first-child{text-align:left}
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.4rem}
.charts{display:flex;gap:1rem;flex-wrap:wrap} .chart{width:560px;max-width:100%;background:#fbfcfe;border:1px solid #e3e6ee;border-radius:6px}
.chart text{font-size:11px;fill:#667} .chart .t{font-size:12px;fill:#1d2330;font-weight:600}
.legend span{margin-right:1rem} .details{color:#445;font-size:12px;margin:.2rem 0 .6rem;padding-left:1.2rem}
</style></head><body>
<h1>palisade lab</h1><p class="meta">${esc(meta)}</p>
<p class="legend"><span><span class="dot" style="background:${COLORS.baseline}"></span>baseline: plain fetch, no protection</span><span><span class="dot" style="background:${COLORS.palisade}"></span>palisade: createFetch + per-route policies + inbound middleware</span></p>
${sections}
<h2>What the columns mean</h2><p class="meta">${LEGEND.map(esc).join('<br>')}</p>
</body></html>`;
}
