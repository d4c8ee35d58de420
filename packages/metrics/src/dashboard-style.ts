/** The dashboard's stylesheet, inlined into the page (no external font, image or sheet). */
export const DASHBOARD_CSS = `
:root {
  --bg: #0b1120; --panel: #111a2e; --panel-2: #0e1628; --border: #1e2a44; --border-2: #26365a;
  --text: #e5ecf6; --muted: #93a3bd; --dim: #5d6d88;
  --ok: #22c55e; --fail: #ef4444; --retry: #60a5fa; --shed: #f59e0b; --timeout: #c084fc;
  --p50: #38bdf8; --p90: #a78bfa; --p99: #f472b6;
  --closed: #22c55e; --half-open: #f59e0b; --open: #ef4444; --isolated: #c084fc;
  --radius: 10px;
  color-scheme: dark;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body {
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", Arial, sans-serif;
  font-variant-numeric: tabular-nums; min-height: 100vh;
}
.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
.top {
  position: sticky; top: 0; z-index: 5; display: flex; align-items: center; justify-content: space-between;
  gap: 16px; padding: 12px 22px; background: rgba(11, 17, 32, 0.92); backdrop-filter: blur(6px);
  border-bottom: 1px solid var(--border);
}
.brand { display: flex; align-items: center; gap: 12px; min-width: 0; }
.brand svg { flex: none; }
.brand h1 { margin: 0; font-size: 16px; font-weight: 650; letter-spacing: 0.2px; white-space: nowrap; }
.brand .sub { color: var(--muted); font-size: 12px; white-space: nowrap; }
.top-right { display: flex; align-items: center; gap: 18px; color: var(--muted); font-size: 12px; }
.conn { display: inline-flex; align-items: center; gap: 7px; padding: 4px 10px; border-radius: 999px;
  border: 1px solid var(--border-2); background: var(--panel-2); color: var(--text); }
.conn .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--dim); }
.conn[data-state="live"] .dot { background: var(--ok); box-shadow: 0 0 0 3px rgba(34, 197, 94, 0.18); animation: pulse 2s infinite; }
.conn[data-state="stale"] .dot, .conn[data-state="reconnecting"] .dot { background: var(--shed); }
@keyframes pulse { 50% { box-shadow: 0 0 0 6px rgba(34, 197, 94, 0.05); } }
main { padding: 18px 22px 28px; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-bottom: 18px; }
.tile { background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius); padding: 11px 14px; min-width: 0; }
.tile label { display: block; color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: 0.6px; }
.tile b { display: block; font-size: 22px; font-weight: 650; margin-top: 2px; white-space: nowrap; }
.tile small { display: block; color: var(--dim); font-size: 11.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile[data-alert="true"] { border-color: rgba(239, 68, 68, 0.6); background: linear-gradient(180deg, rgba(239, 68, 68, 0.14), var(--panel) 70%); }
.tile[data-alert="true"] b { color: #fca5a5; }
.tile[data-warn="true"] b { color: #fcd34d; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(430px, 1fr)); gap: 16px; align-items: start; }
.card {
  position: relative; background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius);
  padding: 14px 16px 12px; overflow: hidden;
}
.card::before { content: ""; position: absolute; inset: 0 0 auto 0; height: 3px; background: var(--border-2); }
.card[data-state="closed"]::before { background: var(--closed); }
.card[data-state="half-open"]::before { background: var(--half-open); }
.card[data-state="isolated"]::before { background: var(--isolated); }
.card[data-state="open"]::before { background: var(--open); }
.card[data-state="open"] { border-color: rgba(239, 68, 68, 0.55); box-shadow: 0 0 0 1px rgba(239, 68, 68, 0.25), 0 8px 30px rgba(239, 68, 68, 0.10); }
.card-head { display: flex; align-items: flex-start; justify-content: space-between; gap: 10px; }
.ident { min-width: 0; }
.ident h2 { margin: 0; font-size: 15px; font-weight: 650; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ident .kind { color: var(--muted); font-size: 11.5px; }
.pill { flex: none; display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px;
  font-size: 11px; font-weight: 700; letter-spacing: 0.7px; text-transform: uppercase; border: 1px solid transparent; }
.pill .dot { width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
.pill[data-state="closed"] { color: #86efac; background: rgba(34, 197, 94, 0.12); border-color: rgba(34, 197, 94, 0.35); }
.pill[data-state="half-open"] { color: #fcd34d; background: rgba(245, 158, 11, 0.13); border-color: rgba(245, 158, 11, 0.4); }
.pill[data-state="open"] { color: #fecaca; background: rgba(239, 68, 68, 0.22); border-color: rgba(239, 68, 68, 0.6); }
.pill[data-state="open"] .dot { animation: blink 1s steps(2) infinite; }
.pill[data-state="isolated"] { color: #e9d5ff; background: rgba(192, 132, 252, 0.15); border-color: rgba(192, 132, 252, 0.45); }
.pill .since, .pill .until { font-weight: 500; letter-spacing: 0; text-transform: none; opacity: 0.85; }
@keyframes blink { 50% { opacity: 0.25; } }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(68px, 1fr)); gap: 6px; margin: 12px 0 6px; }
.stat { background: var(--panel-2); border: 1px solid var(--border); border-radius: 8px; padding: 6px 9px; min-width: 0; }
.stat label { display: block; color: var(--dim); font-size: 10.5px; text-transform: uppercase; letter-spacing: 0.5px; white-space: nowrap; }
.stat b { display: block; font-size: 15px; font-weight: 650; white-space: nowrap; }
.stat[data-tone="bad"] b { color: #fca5a5; }
.stat[data-tone="warn"] b { color: #fcd34d; }
.section { margin-top: 10px; }
.section-head { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; color: var(--muted);
  font-size: 11px; text-transform: uppercase; letter-spacing: 0.6px; margin-bottom: 3px; }
.legend { display: flex; gap: 10px; text-transform: none; letter-spacing: 0; font-size: 11.5px; flex-wrap: wrap; justify-content: flex-end; }
.legend i { display: inline-block; width: 9px; height: 3px; border-radius: 2px; margin-right: 4px; vertical-align: middle; }
.chart { position: relative; }
.chart svg { display: block; width: 100%; height: 104px; }
.chart .axis text, .band text { fill: var(--dim); font-size: 10px; }
.chart .grid-line { stroke: var(--border); stroke-width: 1; }
.chart .hover-line { stroke: var(--muted); stroke-width: 1; stroke-dasharray: 2 3; }
.tip { position: absolute; pointer-events: none; z-index: 3; background: #0a1020; border: 1px solid var(--border-2);
  border-radius: 7px; padding: 6px 8px; font-size: 11.5px; white-space: nowrap; box-shadow: 0 6px 18px rgba(0, 0, 0, 0.4); }
.tip .t { color: var(--muted); margin-bottom: 2px; }
.tip i { display: inline-block; width: 8px; height: 8px; border-radius: 2px; margin-right: 5px; }
.band svg { display: block; width: 100%; height: 30px; }
.transitions { list-style: none; margin: 6px 0 0; padding: 0; display: grid; gap: 3px; }
.transitions li { display: flex; gap: 8px; align-items: baseline; font-size: 12px; color: var(--muted); min-width: 0; }
.transitions li b { color: var(--text); font-weight: 600; min-width: 70px; }
.transitions li .when { color: var(--dim); min-width: 118px; }
.transitions li .why { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.sdot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; vertical-align: 0; }
table.keys { width: 100%; border-collapse: collapse; font-size: 12px; }
table.keys th { color: var(--dim); font-weight: 500; text-align: right; padding: 2px 4px; font-size: 10.5px; text-transform: uppercase; letter-spacing: 0.5px; }
table.keys td { text-align: right; padding: 3px 4px; border-top: 1px solid var(--border); }
table.keys th:first-child, table.keys td:first-child { text-align: left; max-width: 200px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.muted { color: var(--dim); }
.empty { grid-column: 1 / -1; text-align: center; padding: 60px 20px; color: var(--muted); border: 1px dashed var(--border-2); border-radius: var(--radius); }
.empty code { color: var(--text); background: var(--panel-2); padding: 2px 6px; border-radius: 5px; }
footer { color: var(--dim); font-size: 11.5px; padding: 0 22px 20px; display: flex; justify-content: space-between; gap: 12px; flex-wrap: wrap; }
@media (max-width: 520px) { .grid { grid-template-columns: 1fr; } .top-right .clock { display: none; } }
`;
