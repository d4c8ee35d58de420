import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { DASHBOARD_CSS } from './dashboard-style.js';

/** What the page needs to know from the server. */
export interface PageConfig {
  title: string;
  intervalMs: number;
  latencyWindowMs: number;
  recentMs: number;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON that is safe inside a `<script>` element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

/** A palisade (a row of pointed stakes), drawn inline. */
const LOGO = `<svg width="26" height="26" viewBox="0 0 26 26" aria-hidden="true">
<g fill="#60a5fa"><path d="M3 8 5.5 3 8 8v15H3z"/><path d="M10.5 8 13 3l2.5 5v15h-5z" fill-opacity=".8"/><path d="M18 8l2.5-5L23 8v15h-5z" fill-opacity=".6"/></g>
<rect x="1" y="12" width="24" height="2.4" rx="1" fill="#93c5fd"/><rect x="1" y="18" width="24" height="2.4" rx="1" fill="#93c5fd"/></svg>`;

const TILES: readonly [id: string, label: string][] = [
  ['t-policies', 'Policies'],
  ['t-breakers', 'Breakers'],
  ['t-retries', 'Retries / s'],
  ['t-shed', 'Shed / s'],
  ['t-timeouts', 'Timeouts / s'],
  ['t-errors', 'Highest error rate'],
  ['t-p99', 'Slowest p99'],
];

/** The dashboard: one self-contained HTML page (inline CSS, JS and SVG; nothing loaded from elsewhere). */
export function renderDashboardPage(config: PageConfig): string {
  const title = escapeHtml(config.title);
  const tiles = TILES.map(
    ([id, label]) => `<div class="tile" id="${id}"><label>${label}</label><b>–</b><small>&nbsp;</small></div>`,
  ).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>${title} · resilience</title>
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header class="top">
  <div class="brand">${LOGO}<h1>${title}</h1><span class="sub">resilience · live</span></div>
  <div class="top-right"><span id="window"></span><span class="clock" id="clock"></span>
    <span class="conn" id="conn" data-state="connecting"><span class="dot"></span><span id="conn-text">connecting…</span></span></div>
</header>
<main>
  <section class="summary" aria-label="Summary">${tiles}</section>
  <section class="grid" id="grid" aria-label="Policies">
    <div class="empty" id="empty">Waiting for events. Pass <code>metrics.onEvent</code> as the <code>onEvent</code> of your policies.</div>
  </section>
</main>
<footer><span>palisade · rates and percentiles from the last ${Math.round(config.recentMs / 1000)} s; charts from the server's timeline</span><span>this page loads nothing from outside this service</span></footer>
<script type="application/json" id="palisade-config">${scriptJson(config)}</script>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}
