/**
 * The dashboard's browser script, inlined into the page. Plain ES2017 with no dependency: it opens
 * an EventSource on the page's own URL (`?stream`), merges each frame into per-policy timelines
 * and redraws cards with inline SVG. (Kept as a string: it runs in the browser, not in Node.)
 */
export const DASHBOARD_SCRIPT = `
(function () {
  'use strict';
  var CFG = JSON.parse(document.getElementById('palisade-config').textContent);
  var C = { success: '#22c55e', failure: '#ef4444', retry: '#60a5fa', rejected: '#f59e0b', timeout: '#c084fc',
    p50: '#38bdf8', p90: '#a78bfa', p99: '#f472b6' };
  var STATE = { closed: '#22c55e', 'half-open': '#f59e0b', open: '#ef4444', isolated: '#c084fc' };
  var NS = 'http://www.w3.org/2000/svg';
  var S = { policies: new Map(), time: 0, res: 1000, hist: 300000, received: 0 };
  var grid = document.getElementById('grid');
  var cards = new Map();

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function pad(n) { return n < 10 ? '0' + n : '' + n; }
  function fmtRate(v) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    if (v === 0) return '0';
    if (v < 0.1) return v.toFixed(2);
    if (v < 10) return v.toFixed(1);
    if (v < 1000) return String(Math.round(v));
    return (v / 1000).toFixed(1) + 'k';
  }
  function fmtMs(v) {
    if (v === null || v === undefined) return '–';
    if (v < 1) return v.toFixed(2) + ' ms';
    if (v < 10) return v.toFixed(1) + ' ms';
    if (v < 1000) return Math.round(v) + ' ms';
    if (v < 10000) return (v / 1000).toFixed(2) + ' s';
    return (v / 1000).toFixed(1) + ' s';
  }
  function fmtPct(v) {
    if (v === null || v === undefined) return '–';
    var p = v * 100;
    return (p === 0 ? '0' : p < 1 ? p.toFixed(2) : p < 10 ? p.toFixed(1) : String(Math.round(p))) + '%';
  }
  function fmtCount(n) { return n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(1) + 'k' : String(n); }
  function fmtAgo(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + pad(s % 60) + 's';
    return Math.floor(m / 60) + 'h ' + pad(m % 60) + 'm';
  }
  function fmtSpan(ms) { return ms >= 60000 ? Math.round(ms / 60000) + 'm' : Math.round(ms / 1000) + 's'; }
  function fmtClock(t) { var d = new Date(t); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var e = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / e;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * e;
  }

  /* ---- charts ---------------------------------------------------------------------------- */

  // spec: { x0, x1, yMax, fmt, series: [{ name, color, area, values: [[t, v | null], ...] }] }
  function drawChart(box, spec) {
    var svg = box.querySelector('svg');
    var W = Math.max(120, Math.round(svg.getBoundingClientRect().width) || 400);
    var H = 104, L = 44, R = 8, T = 8, B = 16;
    var pw = W - L - R, ph = H - T - B;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    clear(svg);
    var sx = function (t) { return L + ((t - spec.x0) / (spec.x1 - spec.x0)) * pw; };
    var sy = function (v) { return T + ph - Math.min(1, v / spec.yMax) * ph; };
    var axis = sv('g', { class: 'axis' });
    [0, 0.5, 1].forEach(function (f) {
      var y = T + ph - f * ph;
      svg.appendChild(sv('line', { class: 'grid-line', x1: L, x2: W - R, y1: y, y2: y }));
      axis.appendChild(sv('text', { x: L - 6, y: y + 3, 'text-anchor': 'end' }, f === 0 ? '0' : spec.fmt(spec.yMax * f)));
    });
    var span = spec.x1 - spec.x0;
    var step = span > 900000 ? 300000 : span > 150000 ? 60000 : span > 40000 ? 15000 : 5000;
    for (var k = step; k < span - step / 3; k += step) {
      axis.appendChild(sv('text', { x: sx(spec.x1 - k), y: H - 3, 'text-anchor': 'middle' }, '-' + fmtSpan(k)));
    }
    axis.appendChild(sv('text', { x: W - R, y: H - 3, 'text-anchor': 'end' }, 'now'));
    svg.appendChild(axis);
    spec.series.forEach(function (s) {
      var line = '', fill = '', seg = [];
      var flush = function () {
        if (seg.length === 0) return;
        line += 'M' + seg.join('L');
        if (s.area) {
          fill += 'M' + seg[0].split(',')[0] + ',' + (T + ph) + 'L' + seg.join('L') + 'L' +
            seg[seg.length - 1].split(',')[0] + ',' + (T + ph) + 'Z';
        }
        seg = [];
      };
      s.values.forEach(function (p) {
        if (p[1] === null || p[1] === undefined) { flush(); return; }
        seg.push(sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1));
      });
      flush();
      if (fill) svg.appendChild(sv('path', { d: fill, fill: s.color, 'fill-opacity': 0.13, stroke: 'none' }));
      if (line) {
        svg.appendChild(sv('path', { d: line, fill: 'none', stroke: s.color, 'stroke-width': s.width || 1.6,
          'stroke-linejoin': 'round', 'stroke-linecap': 'round' }));
      }
    });
    box._chart = { spec: spec, sx: sx, L: L, pw: pw, W: W, svg: svg };
  }

  function hover(box, event) {
    var ch = box._chart;
    if (!ch) return;
    var rect = ch.svg.getBoundingClientRect();
    var x = ((event.clientX - rect.left) / rect.width) * ch.W;
    var t = ch.spec.x0 + ((x - ch.L) / ch.pw) * (ch.spec.x1 - ch.spec.x0);
    var vals = ch.spec.series[0] ? ch.spec.series[0].values : [];
    if (vals.length === 0 || x < ch.L) { unhover(box); return; }
    var best = 0;
    for (var i = 1; i < vals.length; i++) if (Math.abs(vals[i][0] - t) < Math.abs(vals[best][0] - t)) best = i;
    var at = vals[best][0];
    var hl = ch.svg.querySelector('.hover-line');
    if (!hl) { hl = sv('line', { class: 'hover-line', y1: 8, y2: 88 }); ch.svg.appendChild(hl); }
    hl.setAttribute('x1', ch.sx(at)); hl.setAttribute('x2', ch.sx(at));
    var tip = box.querySelector('.tip');
    if (!tip) { tip = el('div', 'tip'); box.appendChild(tip); }
    clear(tip);
    tip.appendChild(el('div', 't', fmtClock(at)));
    ch.spec.series.forEach(function (s) {
      var row = el('div');
      var sw = el('i'); sw.style.background = s.color;
      row.appendChild(sw);
      row.appendChild(document.createTextNode(s.name + '  ' + ch.spec.fmt(s.values[best] ? s.values[best][1] : null)));
      tip.appendChild(row);
    });
    var px = (ch.sx(at) / ch.W) * rect.width;
    tip.style.left = Math.min(px + 12, rect.width - tip.offsetWidth - 4) + 'px';
    tip.style.top = '6px';
  }
  function unhover(box) {
    var tip = box.querySelector('.tip'); if (tip) tip.remove();
    var hl = box.querySelector('.hover-line'); if (hl) hl.remove();
  }

  function drawBand(box, circuit, x0, x1) {
    var svg = box.querySelector('svg');
    var W = Math.max(120, Math.round(svg.getBoundingClientRect().width) || 400);
    var H = 30, L = 44, R = 8, y = 3, h = 12;
    var pw = W - L - R;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    clear(svg);
    var sx = function (t) { return L + ((Math.max(x0, Math.min(x1, t)) - x0) / (x1 - x0)) * pw; };
    var chrono = circuit.transitions.slice().reverse();
    var state = 'closed';
    var cuts = [];
    chrono.forEach(function (tr) { if (tr.time <= x0) state = tr.state; else cuts.push(tr); });
    if (chrono.length === 0) state = circuit.state;
    var from = x0;
    svg.appendChild(sv('rect', { x: L, y: y, width: pw, height: h, rx: 3, fill: '#0e1628' }));
    var seg = function (a, b, st) {
      if (b <= a) return;
      var r = sv('rect', { x: sx(a), y: y, width: Math.max(1.5, sx(b) - sx(a)), height: h, fill: STATE[st] || '#5d6d88',
        'fill-opacity': st === 'closed' ? 0.45 : 0.95 });
      r.appendChild(sv('title', {}, st + ' ' + fmtClock(a) + ' – ' + fmtClock(b)));
      svg.appendChild(r);
    };
    cuts.forEach(function (tr) { seg(from, tr.time, state); from = tr.time; state = tr.state; });
    // The state as of now can be newer than the last transition: an open breaker past its openMs.
    if (circuit.state !== state) {
      var at = Math.max(from, Math.min(x1, circuit.since));
      seg(from, at, state); from = at; state = circuit.state;
    }
    seg(from, x1, state);
    cuts.forEach(function (tr) { svg.appendChild(sv('line', { x1: sx(tr.time), x2: sx(tr.time), y1: y - 2, y2: y + h + 2,
      stroke: '#e5ecf6', 'stroke-width': 1, 'stroke-opacity': 0.7 })); });
    var ax = sv('g', { class: 'axis' });
    ax.appendChild(sv('text', { x: L - 6, y: y + 10, 'text-anchor': 'end' }, 'state'));
    ax.appendChild(sv('text', { x: L, y: H - 2 }, '-' + fmtSpan(x1 - x0)));
    ax.appendChild(sv('text', { x: W - R, y: H - 2, 'text-anchor': 'end' }, 'now'));
    svg.appendChild(ax);
  }

  /* ---- cards ----------------------------------------------------------------------------- */

  function section(card, title, legend) {
    var sec = el('div', 'section');
    var head = el('div', 'section-head');
    var name = el('span', '', title);
    head.appendChild(name);
    if (legend) {
      var lg = el('span', 'legend');
      head.appendChild(lg);
      sec._legend = lg;
      setLegend(sec, legend.map(function (l) { return { name: l[0], color: l[1] }; }));
    }
    sec.appendChild(head);
    card.appendChild(sec);
    sec._title = name;
    return sec;
  }
  function setLegend(sec, series) {
    var lg = sec._legend;
    var text = series.map(function (s) { return s.name; }).join(',');
    if (!lg || lg._text === text) return;
    lg._text = text;
    clear(lg);
    series.forEach(function (s) {
      var item = el('span'); var sw = el('i'); sw.style.background = s.color;
      item.appendChild(sw); item.appendChild(document.createTextNode(s.name)); lg.appendChild(item);
    });
  }
  function chartBox(sec, cls) {
    var box = el('div', cls);
    box.appendChild(sv('svg', { role: 'img' }));
    box.addEventListener('mousemove', function (e) { hover(box, e); });
    box.addEventListener('mouseleave', function () { unhover(box); });
    sec.appendChild(box);
    return box;
  }

  function ensureCard(id, meta) {
    var c = cards.get(id);
    if (c) return c;
    var card = el('article', 'card');
    card.dataset.policy = id; card.dataset.name = meta.name; card.dataset.kind = meta.policy;
    var head = el('header', 'card-head');
    var ident = el('div', 'ident');
    ident.appendChild(el('h2', '', meta.name));
    ident.appendChild(el('div', 'kind', meta.policy));
    head.appendChild(ident);
    var pill = el('span', 'pill');
    pill.hidden = true;
    head.appendChild(pill);
    card.appendChild(head);
    var stats = el('div', 'stats');
    card.appendChild(stats);
    var rates = section(card, 'Rate / s', []);
    var ratesBox = chartBox(rates, 'chart rates');
    var lat = section(card, 'Latency', [['p50', C.p50], ['p90', C.p90], ['p99', C.p99]]);
    var latBox = chartBox(lat, 'chart latency');
    var br = section(card, 'Breaker state');
    var band = el('div', 'band');
    band.appendChild(sv('svg', { role: 'img' }));
    br.appendChild(band);
    var list = el('ol', 'transitions');
    br.appendChild(list);
    var keys = section(card, 'Busiest keys');
    var table = el('table', 'keys');
    keys.appendChild(table);
    c = { card: card, pill: pill, stats: stats, rates: ratesBox, ratesSec: rates, lat: lat, latBox: latBox, br: br, band: band,
      list: list, keys: keys, table: table };
    cards.set(id, c);
    grid.appendChild(card);
    return c;
  }

  function stat(parent, label, value, tone) {
    var s = el('div', 'stat');
    s.appendChild(el('label', '', label));
    s.appendChild(el('b', '', value));
    if (tone) s.dataset.tone = tone;
    parent.appendChild(s);
  }

  function renderCard(entry) {
    var m = entry.meta;
    var c = ensureCard(m.id, m);
    var r = m.recent.perSecond;
    var x1 = S.time, x0 = S.time - S.hist;
    var complete = entry.points.filter(function (p) { return p[0] + S.res <= S.time; });
    var sec = S.res / 1000;

    if (m.circuit) {
      c.card.dataset.state = m.circuit.state;
      c.pill.hidden = false;
      c.pill.dataset.state = m.circuit.state;
      clear(c.pill);
      c.pill.appendChild(el('span', 'dot'));
      c.pill.appendChild(document.createTextNode(m.circuit.state));
      c.pill.appendChild(el('span', 'since', fmtAgo(S.time - m.circuit.since)));
      // Open: when probes will be let through (after that the sink shows half-open).
      if (m.circuit.until !== undefined && m.circuit.until !== null) {
        c.pill.appendChild(el('span', 'until', 'probes in ' + fmtAgo(m.circuit.until - S.time)));
      }
    } else {
      delete c.card.dataset.state;
      c.pill.hidden = true;
    }

    // Show what this policy actually reports: a rate limiter has no latency, a breaker no retries.
    var t = m.totals, kind = m.policy;
    var has = {
      calls: t.calls > 0,
      retry: t.retry > 0 || kind === 'retry',
      shed: t.rejected > 0 || kind === 'circuit-breaker' || kind === 'bulkhead' || kind === 'rate-limit',
      timeout: t.timeout > 0 || kind === 'timeout',
    };
    clear(c.stats);
    var err = m.recent.errorRate;
    if (has.calls) {
      stat(c.stats, 'calls/s', fmtRate(r.success + r.failure));
      stat(c.stats, 'errors', fmtPct(err), err > 0.05 ? 'bad' : err > 0.01 ? 'warn' : '');
    }
    if (has.retry) stat(c.stats, 'retries/s', fmtRate(r.retry), r.retry > 0 ? 'warn' : '');
    if (has.shed) stat(c.stats, 'shed/s', fmtRate(r.rejected), r.rejected > 0 ? 'bad' : '');
    if (has.timeout) stat(c.stats, 'timeouts/s', fmtRate(r.timeout), r.timeout > 0 ? 'warn' : '');
    if (m.latency.count > 0) stat(c.stats, 'p99', fmtMs(m.recent.p99));
    if (m.bulkhead) {
      var bh = m.bulkhead;
      stat(c.stats, 'queued', String(bh.queued), bh.queued > 0 ? 'warn' : '');
      if (bh.executing !== undefined && bh.executing !== null) stat(c.stats, 'running', String(bh.executing));
    }
    if (m.limit !== undefined && m.limit !== null) stat(c.stats, 'limit', String(m.limit));
    if (has.shed) stat(c.stats, 'shed total', fmtCount(t.rejected));
    if (has.timeout) stat(c.stats, 'timeouts', fmtCount(t.timeout));
    if (has.retry && !has.calls) stat(c.stats, 'retries', fmtCount(t.retry));

    var per = function (i) { return complete.map(function (p) { return [p[0], p[i] / sec]; }); };
    var rs = [];
    if (has.calls) {
      rs.push({ name: 'success', color: C.success, area: true, values: per(1) });
      rs.push({ name: 'failure', color: C.failure, area: true, values: per(2) });
    }
    if (has.retry) rs.push({ name: 'retry', color: C.retry, values: per(3) });
    if (has.shed) rs.push({ name: 'shed', color: C.rejected, area: !has.calls, values: per(4) });
    if (has.timeout) rs.push({ name: 'timeout', color: C.timeout, area: !has.calls, values: per(5) });
    setLegend(c.ratesSec, rs);
    var ymax = 0;
    rs.forEach(function (s) { s.values.forEach(function (p) { if (p[1] > ymax) ymax = p[1]; }); });
    drawChart(c.rates, { x0: x0, x1: x1, yMax: niceMax(ymax), fmt: fmtRate, series: rs });

    c.lat.hidden = m.latency.count === 0;
    if (!c.lat.hidden) {
      c.lat._title.textContent = 'Latency · rolling ' + fmtSpan(CFG.latencyWindowMs);
      var q = function (i) { return complete.map(function (p) { return [p[0], p[i]]; }); };
      var ls = [
        { name: 'p50', color: C.p50, values: q(6) },
        { name: 'p90', color: C.p90, values: q(7) },
        { name: 'p99', color: C.p99, values: q(8), width: 2 },
      ];
      var lmax = 0;
      ls.forEach(function (s) { s.values.forEach(function (p) { if (p[1] > lmax) lmax = p[1]; }); });
      drawChart(c.latBox, { x0: x0, x1: x1, yMax: niceMax(lmax), fmt: function (v) { return v === null ? '–' : fmtMs(v); }, series: ls });
    }

    c.br.hidden = !m.circuit;
    if (m.circuit) {
      drawBand(c.band, m.circuit, x0, x1);
      clear(c.list);
      m.circuit.transitions.slice(0, 4).forEach(function (tr) {
        var li = el('li');
        var b = el('b');
        var d = el('span', 'sdot'); d.style.background = STATE[tr.state];
        b.appendChild(d); b.appendChild(document.createTextNode(tr.state));
        li.appendChild(b);
        li.appendChild(el('span', 'when', fmtClock(tr.time) + ' · ' + fmtAgo(S.time - tr.time) + ' ago'));
        var why = [];
        if (tr.state === 'open') {
          if (tr.failureRate !== undefined) why.push('failures ' + fmtPct(tr.failureRate));
          if (tr.slowCallRate) why.push('slow ' + fmtPct(tr.slowCallRate));
          if (tr.openMs !== undefined) why.push('for ' + fmtSpan(tr.openMs));
        }
        if (tr.key) why.push('key ' + tr.key);
        li.appendChild(el('span', 'why', why.join(' · ')));
        c.list.appendChild(li);
      });
      if (m.circuit.transitions.length === 0) c.list.appendChild(el('li', 'muted', 'no state change yet'));
    }

    c.keys.hidden = m.topKeys.length === 0;
    if (!c.keys.hidden) {
      c.keys._title.textContent = 'Busiest keys · ' + m.trackedKeys + ' tracked' + (m.evictedKeys ? ' · ' + fmtCount(m.evictedKeys) + ' evicted' : '');
      clear(c.table);
      var anyCalls = m.topKeys.some(function (k) { return k.calls > 0; });
      var anyShed = m.topKeys.some(function (k) { return k.rejected > 0; });
      var cols = [['key', function (k) { var td = el('td', 'mono', k.key); td.title = k.key; return td; }]];
      if (anyCalls) {
        cols.push(['calls', function (k) { return el('td', '', fmtCount(k.calls)); }]);
        cols.push(['errors', function (k) { return el('td', '', k.calls ? fmtPct(k.failure / k.calls) : '–'); }]);
      }
      if (anyShed) cols.push(['shed', function (k) { return el('td', '', fmtCount(k.rejected)); }]);
      if (anyCalls) cols.push(['p99', function (k) { return el('td', '', fmtMs(k.p99)); }]);
      var hr = el('tr');
      cols.forEach(function (col) { hr.appendChild(el('th', '', col[0])); });
      c.table.appendChild(hr);
      m.topKeys.forEach(function (k) {
        var tr = el('tr');
        cols.forEach(function (col) { tr.appendChild(col[1](k)); });
        c.table.appendChild(tr);
      });
    }
  }

  /* ---- summary --------------------------------------------------------------------------- */

  function tile(id, value, small, flag) {
    var t = document.getElementById(id);
    t.querySelector('b').textContent = value;
    t.querySelector('small').textContent = small;
    t.dataset.alert = String(flag === 'alert');
    t.dataset.warn = String(flag === 'warn');
  }

  function renderSummary(list) {
    var states = { closed: 0, 'half-open': 0, open: 0, isolated: 0 }, breakers = 0, openNames = [];
    var retry = 0, shed = 0, timeouts = 0, worstErr = null, worstP99 = null;
    list.forEach(function (e) {
      var m = e.meta, r = m.recent.perSecond;
      if (m.circuit) {
        breakers++; states[m.circuit.state]++;
        if (m.circuit.state === 'open' || m.circuit.state === 'isolated') openNames.push(m.name);
      }
      retry += r.retry; shed += r.rejected; timeouts += r.timeout;
      if (m.recent.errorRate !== undefined && m.recent.errorRate !== null && (!worstErr || m.recent.errorRate > worstErr.v)) worstErr = { v: m.recent.errorRate, n: m.name };
      if (m.recent.p99 !== undefined && m.recent.p99 !== null && (!worstP99 || m.recent.p99 > worstP99.v)) worstP99 = { v: m.recent.p99, n: m.name };
    });
    var kinds = new Set(list.map(function (e) { return e.meta.policy; }));
    tile('t-policies', String(list.length), kinds.size + (kinds.size === 1 ? ' kind' : ' kinds'));
    if (breakers === 0) tile('t-breakers', '–', 'no breakers');
    else {
      var bad = states.open + states.isolated;
      tile('t-breakers', bad > 0 ? bad + ' open' : 'all closed',
        bad > 0 ? openNames.join(', ') : states.closed + ' closed' + (states['half-open'] ? ' · ' + states['half-open'] + ' half-open' : ''),
        bad > 0 ? 'alert' : states['half-open'] > 0 ? 'warn' : '');
    }
    tile('t-retries', fmtRate(retry), 'per second, last ' + fmtSpan(CFG.recentMs || 60000), retry > 0 ? 'warn' : '');
    tile('t-shed', fmtRate(shed), 'rejected by breakers, bulkheads, limits', shed > 0 ? 'alert' : '');
    tile('t-timeouts', fmtRate(timeouts), 'per second', timeouts > 0 ? 'warn' : '');
    tile('t-errors', worstErr ? fmtPct(worstErr.v) : '–', worstErr ? worstErr.n : 'no calls yet', worstErr && worstErr.v > 0.05 ? 'alert' : '');
    tile('t-p99', worstP99 ? fmtMs(worstP99.v) : '–', worstP99 ? worstP99.n : 'no latency yet');
  }

  /* ---- frames ---------------------------------------------------------------------------- */

  function merge(points, incoming) {
    incoming.forEach(function (p) {
      var n = points.length;
      if (n === 0 || p[0] > points[n - 1][0]) { points.push(p); return; }
      for (var i = n - 1; i >= 0; i--) {
        if (points[i][0] === p[0]) { points[i] = p; return; }
        if (points[i][0] < p[0]) { points.splice(i + 1, 0, p); return; }
      }
    });
    var cutoff = S.time - S.hist;
    while (points.length && points[0][0] < cutoff) points.shift();
  }

  function render() {
    var list = Array.from(S.policies.values());
    document.getElementById('empty').hidden = list.length > 0;
    list.forEach(renderCard);
    renderSummary(list);
    document.getElementById('clock').textContent = S.time ? 'server ' + fmtClock(S.time) : '';
    document.getElementById('window').textContent = 'window ' + fmtSpan(S.hist) + ' · slot ' + fmtSpan(S.res);
  }

  function onFrame(f) {
    S.time = f.time; S.res = f.resolutionMs; S.hist = f.historyMs; S.received = Date.now();
    var ids = new Set();
    f.policies.forEach(function (p) {
      ids.add(p.id);
      var entry = S.policies.get(p.id);
      if (!entry || f.full) entry = { points: [] };
      merge(entry.points, p.points);
      entry.meta = p;
      S.policies.set(p.id, entry);
    });
    if (f.full) {
      S.policies.forEach(function (_v, id) {
        if (!ids.has(id)) { S.policies.delete(id); var c = cards.get(id); if (c) { c.card.remove(); cards.delete(id); } }
      });
    }
    render();
    setConn('live', 'live');
  }

  var conn = document.getElementById('conn');
  function setConn(state, text) { conn.dataset.state = state; document.getElementById('conn-text').textContent = text; }

  function connect() {
    var es = new EventSource(location.pathname + '?stream');
    es.addEventListener('frame', function (e) {
      try { onFrame(JSON.parse(e.data)); } catch (err) { console.error('palisade dashboard:', err); }
    });
    es.onopen = function () { setConn('live', 'live'); };
    es.onerror = function () { setConn('reconnecting', 'reconnecting…'); };
  }
  setInterval(function () {
    if (S.received && Date.now() - S.received > CFG.intervalMs * 3 + 2000) setConn('stale', 'no update for ' + fmtAgo(Date.now() - S.received));
  }, 1000);
  var resizeTimer = 0;
  window.addEventListener('resize', function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(render, 120); });
  connect();
})();
`;
