// The self-contained HTML report: per scenario, success rate and latency over time, both runs
// overlaid, and the summary table. No script, no CDN: inline SVG only.
import type { RunResult } from './run.js';
import type { Scenario } from './scenarios.js';
import { type Bucket, type RunSummary, timeSeries } from './stats.js';

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
): string {
  const w = 560;
  const h = 180;
  const pad = { l: 48, r: 10, t: 24, b: 24 };
  const x = (t: number) => pad.l + (t / durationMs) * (w - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - Math.min(v, max) / max) * (h - pad.t - pad.b);
  const lines = series
    .map(({ mode, buckets }) => {
      const pts = buckets
        .filter((b) => Number.isFinite(value(b)))
        .map((b) => `${x(b.t).toFixed(1)},${y(value(b)).toFixed(1)}`)
        .join(' ');
      return `<polyline fill="none" stroke="${COLORS[mode]}" stroke-width="2" points="${pts}"/>`;
    })
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
          return `<tr><td><span class="dot" style="background:${COLORS[m]}"></span>${m}</td><td>${fmtPct(s.successRate)}</td><td>${Number.isFinite(s.p50) ? s.p50.toFixed(0) : '–'}</td><td>${s.p99.toFixed(0)}</td><td>${s.p999.toFixed(0)}</td><td>${s.upstreamCalls} (${s.amplification.toFixed(2)}x)</td><td>${s.upstreamDuringOutage ?? '–'}</td><td>${s.recoverMs === undefined ? '–' : Number.isNaN(s.recoverMs) ? 'never' : `${s.recoverMs.toFixed(0)} ms`}</td></tr>`;
        })
        .join('');
      return `<section><h2>${esc(scenario.title)}</h2><p>${esc(scenario.story)}</p>
<table><tr><th>run</th><th>served</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>upstream calls</th><th>during outage</th><th>recovered after</th></tr>${rows}</table>
<div class="charts">${chart('success rate', series, (b) => b.successRate, 1, '%', durationMs, band)}${chart('p99 latency', series, (b) => b.p99, p99max, ' ms', durationMs, band)}</div></section>`;
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
.legend span{margin-right:1rem}
</style></head><body>
<h1>palisade lab</h1><p class="meta">${esc(meta)}</p>
<p class="legend"><span><span class="dot" style="background:${COLORS.baseline}"></span>baseline: plain fetch, no protection</span><span><span class="dot" style="background:${COLORS.palisade}"></span>palisade: createFetch + per-route policies + inbound middleware</span></p>
${sections}
</body></html>`;
}
