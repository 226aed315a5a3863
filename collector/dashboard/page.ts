// The dashboard: one self-contained HTML page (no framework, no external requests) whose small
// script reads the JSON endpoints and draws SVG charts. Kept as a string module so a bundled
// `kiln` binary needs no extra files. The read key, when the collector has one, is taken from the
// URL fragment (#key=..., never sent to the server or written to logs) or asked for once.
// Served with a Content-Security-Policy that allows exactly this script and style (by hash) and
// requests to this origin only, so even a string that slipped into markup could not run.
import { createHash } from 'node:crypto';

const STYLE = String.raw`
:root { --bg:#0f1419; --panel:#171d24; --line:#26303b; --text:#e6edf3; --muted:#8b98a5; --accent:#ff7a45;
  --p50:#4cc9f0; --p90:#f8c537; --p99:#ff6b6b; --ok:#3ddc97; --alert:#ff4d5e; }
* { box-sizing:border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
header { display:flex; align-items:center; gap:14px; padding:14px 24px; border-bottom:1px solid var(--line); background:#121820; position:sticky; top:0; z-index:2; }
.logo { width:28px; height:28px; border-radius:7px; background:linear-gradient(135deg,var(--accent),#c2410c); display:grid; place-items:center; font-weight:800; color:#fff; }
header h1 { font-size:17px; margin:0; font-weight:650; letter-spacing:.2px; }
header .sub { color:var(--muted); font-size:12.5px; }
header .right { margin-left:auto; display:flex; gap:12px; align-items:center; color:var(--muted); font-size:12.5px; }
.dot { width:8px; height:8px; border-radius:50%; background:var(--ok); display:inline-block; margin-right:6px; }
.dot.err { background:var(--alert); }
main { padding:20px 24px 40px; max-width:1400px; margin:0 auto; }
.filters { display:flex; flex-wrap:wrap; gap:10px; margin-bottom:18px; }
.filters label { display:flex; flex-direction:column; font-size:11px; color:var(--muted); text-transform:uppercase; letter-spacing:.6px; gap:4px; }
select, input, button { background:var(--panel); color:var(--text); border:1px solid var(--line); border-radius:7px; padding:6px 10px; font:inherit; min-width:130px; }
button { cursor:pointer; min-width:0; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(170px,1fr)); gap:12px; margin-bottom:18px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:14px 16px; }
.card .k { color:var(--muted); font-size:12px; }
.card .v { font-size:24px; font-weight:650; margin-top:2px; font-variant-numeric:tabular-nums; }
.card.alert { border-color:var(--alert); box-shadow:0 0 0 1px var(--alert) inset; }
.card.alert .v { color:var(--alert); }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:16px 18px; margin-bottom:18px; }
.panel h2 { font-size:14.5px; margin:0 0 10px; font-weight:600; display:flex; gap:14px; align-items:center; }
.legend { display:flex; gap:14px; font-size:12px; color:var(--muted); font-weight:400; }
.legend i { display:inline-block; width:14px; height:3px; border-radius:2px; margin-right:5px; vertical-align:middle; }
svg text { fill:var(--muted); font-size:11px; }
.grid { stroke:var(--line); stroke-width:1; }
.empty { color:var(--muted); padding:28px 0; text-align:center; }
.features { display:grid; grid-template-columns:repeat(auto-fill,minmax(300px,1fr)); gap:12px; }
.feature { border:1px solid var(--line); border-radius:9px; padding:10px 12px; }
.feature.alerting { border-color:var(--alert); background:rgba(255,77,94,.06); }
.feature .top { display:flex; justify-content:space-between; align-items:baseline; gap:8px; }
.feature .scores { display:flex; gap:6px; flex-wrap:wrap; margin:4px 0 2px; }
.feature .name { font-weight:600; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.badge { font-size:11px; padding:1px 7px; border-radius:99px; background:#22303c; color:var(--muted); white-space:nowrap; }
.badge.alert { background:var(--alert); color:#fff; font-weight:600; }
table { width:100%; border-collapse:collapse; font-size:13px; }
th, td { text-align:left; padding:7px 8px; border-bottom:1px solid var(--line); }
th { color:var(--muted); font-weight:500; font-size:12px; }
td.num { font-variant-numeric:tabular-nums; }
.tip { position:fixed; pointer-events:none; background:#0b0f14; border:1px solid var(--line); border-radius:7px; padding:7px 9px; font-size:12px; display:none; z-index:5; }
.narrow { min-width:0; }
.push { margin-left:auto; }
.alert-text { color:var(--alert); }
.feature .note { color:var(--muted); font-size:12px; }
.empty.more { padding:10px 0 0; }
.k-p50 { background:var(--p50); } .k-p90 { background:var(--p90); } .k-p99 { background:var(--p99); }
.k-psi { background:var(--accent); } .k-w { background:#b388ff; }
.legend i.k-alert { background:var(--alert); height:8px; width:8px; border-radius:50%; }
.keybox { display:none; gap:8px; align-items:center; margin-bottom:16px; padding:12px 14px; border:1px solid var(--accent); border-radius:9px; }
`;

const SCRIPT = String.raw`
const $ = (id) => document.getElementById(id);
const NS = 'http://www.w3.org/2000/svg';
let readKey = new URLSearchParams(location.hash.slice(1)).get('key') || sessionStorage.getItem('kiln-read-key') || '';
const TEST_COLORS = { psi: 'var(--accent)', js: 'var(--p50)', wasserstein: '#b388ff' };
const RANGES = { '15m': 9e5, '1h': 36e5, '6h': 216e5, '24h': 864e5, '7d': 6048e5, 'all': 0 };

async function api(path, params) {
  const qs = new URLSearchParams(Object.entries(params).filter((e) => e[1] !== '' && e[1] !== undefined)).toString();
  const res = await fetch(path + (qs ? '?' + qs : ''), { headers: readKey ? { Authorization: 'Bearer ' + readKey } : {} });
  if (res.status === 401) { $('keybox').style.display = 'flex'; throw new Error('this collector needs its read key'); }
  const body = await res.json();
  if (!res.ok) throw new Error(body.message || ('HTTP ' + res.status));
  return body;
}

function fmtMs(v) { return v === undefined || v === null ? '–' : v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v >= 10 ? v.toFixed(1) + ' ms' : v.toFixed(2) + ' ms'; }
function fmtN(v) { return v >= 1e6 ? (v / 1e6).toFixed(1) + 'M' : v >= 1e4 ? (v / 1e3).toFixed(1) + 'k' : String(Math.round(v)); }
function fmtT(t, span) { const d = new Date(t); return span > 2 * 864e5 ? d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: span < 6e5 ? '2-digit' : undefined }); }
// HTML is only ever built from elements and text nodes: every string that came from a client
// (model, feature and test names, error messages) is set as textContent, never parsed as markup.
function h(tag, cls, ...kids) { const e = document.createElement(tag); if (cls) e.className = cls; for (const k of kids) if (k !== null && k !== undefined) e.append(k); return e; }
function empty(text) { return h('div', 'empty', text); }
function el(tag, attrs, parent) { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (parent) parent.appendChild(e); return e; }

// One SVG line chart; series = [{ name, color, points: [{ t, v, alert? }] }].
function chart(host, series, opts) {
  host.replaceChildren();
  const all = series.flatMap((s) => s.points);
  if (!all.length) { if (opts.empty) host.append(empty(opts.empty)); return; }
  const W = Math.max(280, host.clientWidth), H = opts.height || 260, L = opts.left || 58, R = 12, T = 10, B = 26;
  const t0 = Math.min(...all.map((p) => p.t)), t1 = Math.max(...all.map((p) => p.t), t0 + 1);
  let y1 = Math.max(...all.map((p) => p.v), opts.threshold || 0) * 1.1 || 1;
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R), y = (v) => T + (1 - v / y1) * (H - T - B);
  const svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H }, host);
  for (let i = 0; i <= 4; i++) {
    const v = (y1 * i) / 4;
    el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }, svg);
    el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, svg).textContent = opts.fmt(v);
  }
  const ticks = Math.min(6, Math.floor((W - L) / 110));
  for (let i = 0; i <= ticks; i++) {
    const t = t0 + ((t1 - t0) * i) / Math.max(1, ticks);
    el('text', { x: x(t), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle' }, svg).textContent = fmtT(t, t1 - t0);
  }
  if (opts.threshold) el('line', { x1: L, x2: W - R, y1: y(opts.threshold), y2: y(opts.threshold), stroke: 'var(--alert)', 'stroke-dasharray': '4 4', 'stroke-width': 1 }, svg);
  for (const s of series) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => (i ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p.v).toFixed(1)).join(' ');
    el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round' }, svg);
    for (const p of s.points) {
      if (p.alert) el('circle', { cx: x(p.t), cy: y(p.v), r: 4.5, fill: 'var(--alert)', stroke: '#fff', 'stroke-width': 1 }, svg);
      else if (s.points.length < 40) el('circle', { cx: x(p.t), cy: y(p.v), r: 2.2, fill: s.color }, svg);
    }
  }
  const cross = el('line', { y1: T, y2: H - B, stroke: 'var(--muted)', 'stroke-width': 1, visibility: 'hidden' }, svg);
  const tip = $('tip');
  svg.addEventListener('mousemove', (ev) => {
    const r = svg.getBoundingClientRect(), t = t0 + ((ev.clientX - r.left - L) / (W - L - R)) * (t1 - t0);
    const near = series.map((s) => s.points.reduce((b, p) => (!b || Math.abs(p.t - t) < Math.abs(b.t - t) ? p : b), null));
    const at = near.find(Boolean);
    if (!at) return;
    cross.setAttribute('x1', x(at.t)); cross.setAttribute('x2', x(at.t)); cross.setAttribute('visibility', 'visible');
    tip.style.display = 'block'; tip.style.left = ev.clientX + 14 + 'px'; tip.style.top = ev.clientY + 10 + 'px';
    tip.replaceChildren(h('b', '', new Date(at.t).toLocaleString()));
    series.forEach((s, i) => {
      const p = near[i];
      if (!p) return;
      const name = h('span', '', s.name);
      name.style.color = s.color;
      tip.append(h('br'), name, ' ' + opts.fmt(p.v), p.alert ? h('b', 'alert-text', ' ALERT') : null, p.n !== undefined ? ' · ' + p.n + ' runs' : null);
    });
  });
  svg.addEventListener('mouseleave', () => { tip.style.display = 'none'; cross.setAttribute('visibility', 'hidden'); });
}

function fillSelect(sel, values, all) {
  const keep = sel.value;
  const first = h('option', '', all);
  first.value = '';
  sel.replaceChildren(first, ...values.map((v) => h('option', '', String(v))));
  if (values.includes(keep)) sel.value = keep;
}

function params() {
  const p = { model: $('model').value, version: $('version').value, backend: $('backend').value, deviceClass: $('device').value };
  const span = RANGES[$('range').value];
  if (span) p.from = String(Date.now() - span);
  return p;
}

function txt(s) { return s === null || s === undefined ? '' : String(s); }

async function refresh() {
  try {
    const f = await api('/api/filters', {});
    fillSelect($('model'), f.models, 'All models'); fillSelect($('version'), f.versions, 'All versions');
    fillSelect($('backend'), f.backends, 'All backends'); fillSelect($('device'), f.deviceClasses, 'All device classes');
    const p = params();
    const [ov, lat, drift] = await Promise.all([
      api('/api/overview', p),
      api('/api/latency', Object.assign({ metric: $('metric').value, phase: $('phase').value }, p)),
      api('/api/drift', p),
    ]);
    $('c-runs').textContent = fmtN(ov.runs);
    $('c-err').textContent = ov.runs ? (100 * ov.runErrors / Math.max(1, ov.runs + ov.runErrors)).toFixed(2) + '%' : '–';
    $('c-p99').textContent = fmtMs(lat.overall.p99);
    $('c-p50').textContent = fmtMs(lat.overall.p50);
    const totalAlerts = drift.alertCount;
    $('c-alerts').textContent = fmtN(totalAlerts);
    $('card-alerts').classList.toggle('alert', drift.alerts.length > 0);
    $('c-batches').textContent = fmtN(ov.batches);
    const pts = (k) => lat.buckets.filter((b) => b[k] !== undefined && b[k] !== null).map((b) => ({ t: b.t, v: b[k], n: b.count }));
    chart($('latency'), [{ name: 'p50', color: 'var(--p50)', points: pts('p50') }, { name: 'p90', color: 'var(--p90)', points: pts('p90') }, { name: 'p99', color: 'var(--p99)', points: pts('p99') }],
      { fmt: fmtMs, empty: 'No latency data for these filters yet. Point a Kiln session\'s telemetry endpoint at ' + location.origin + '/v1/metrics.' });
    $('lat-note').textContent = lat.overall.count ? fmtN(lat.overall.count) + ' observations · bucket ' + (lat.bucketMs >= 6e4 ? lat.bucketMs / 6e4 + ' min' : lat.bucketMs / 1e3 + ' s') : '';
    const fx = $('features');
    fx.replaceChildren();
    if (!drift.features.length) fx.append(empty('No drift scores for these filters yet.'));
    for (const ft of drift.features) {
      const name = h('span', 'name', txt(ft.feature));
      name.title = txt(ft.feature);
      const mini = h('div', 'mini');
      const box = h('div', 'feature' + (ft.alerting ? ' alerting' : ''),
        h('div', 'top', name, ft.alerting ? h('span', 'badge alert', 'ALERT') : null),
        h('div', 'scores', ...ft.tests.map((ts) => h('span', 'badge', txt(ts.test) + ' ' + ts.last.score.toFixed(3)))),
        mini,
        h('div', 'note', ft.alerts ? ft.alerts + ' alerting window' + (ft.alerts > 1 ? 's' : '') : 'no alerts'));
      fx.appendChild(box);
      chart(mini, ft.tests.map((ts) => ({ name: ts.test, color: TEST_COLORS[ts.test] || 'var(--p90)', points: ts.points.map((q) => ({ t: q.t, v: q.score, alert: q.alert })) })), { fmt: (v) => v.toFixed(2), height: 120, left: 40, empty: '' });
    }
    const cell = (text, cls) => h('td', cls || '', text);
    $('alerts').replaceChildren(...(drift.alerts.length
      ? [h('table', '', h('tr', '', ...['Time', 'Feature', 'Scores', 'Model', 'Version', 'Backend', 'Device class'].map((t) => h('th', '', t))),
          ...drift.alerts.slice(0, 12).map((a) => h('tr', '', cell(new Date(a.t).toLocaleString()), cell(txt(a.feature)),
            cell(Object.entries(a.scores).map((e) => e[0] + ' ' + e[1].toFixed(3)).join(' · '), 'num alert-text'),
            cell(txt(a.model)), cell(txt(a.version)), cell(txt(a.backend)), cell(txt(a.deviceClass))))),
        totalAlerts > 12 ? h('div', 'empty more', 'and ' + fmtN(totalAlerts - 12) + ' earlier alerting windows in this range') : '']
      : [empty('No drift alerts.')]));
    $('status').replaceChildren(h('span', 'dot'), 'updated ' + new Date().toLocaleTimeString());
  } catch (e) {
    $('status').replaceChildren(h('span', 'dot err'), txt(e && e.message));
  }
}

for (const id of ['model', 'version', 'backend', 'device', 'range', 'metric', 'phase']) $(id).addEventListener('change', refresh);
$('keysave').addEventListener('click', () => { readKey = $('keyin').value.trim(); sessionStorage.setItem('kiln-read-key', readKey); $('keybox').style.display = 'none'; refresh(); });
let timer = setInterval(refresh, 10000);
$('auto').addEventListener('change', () => { clearInterval(timer); if ($('auto').checked) timer = setInterval(refresh, 10000); });
window.addEventListener('resize', () => { clearTimeout(window.rz); window.rz = setTimeout(refresh, 200); });
refresh();
`;

const BODY = String.raw`
<header>
  <div class="logo">K</div>
  <div><h1>Kiln telemetry</h1><div class="sub">latency and drift from your models in the field</div></div>
  <div class="right"><span id="status">loading…</span><label><input type="checkbox" id="auto" checked class="narrow"> auto-refresh</label></div>
</header>
<main>
  <div class="keybox" id="keybox">This collector's read side needs its read key: <input id="keyin" type="password" placeholder="read key"><button id="keysave">Use key</button></div>
  <div class="filters">
    <label>Model<select id="model"></select></label>
    <label>Version<select id="version"></select></label>
    <label>Backend<select id="backend"></select></label>
    <label>Device class<select id="device"></select></label>
    <label>Time range<select id="range"><option value="15m">Last 15 minutes</option><option value="1h">Last hour</option><option value="6h">Last 6 hours</option><option value="24h" selected>Last 24 hours</option><option value="7d">Last 7 days</option><option value="all">All data</option></select></label>
  </div>
  <div class="cards">
    <div class="card"><div class="k">Runs</div><div class="v" id="c-runs">–</div></div>
    <div class="card"><div class="k">Error rate</div><div class="v" id="c-err">–</div></div>
    <div class="card"><div class="k">Latency p50</div><div class="v" id="c-p50">–</div></div>
    <div class="card"><div class="k">Latency p99</div><div class="v" id="c-p99">–</div></div>
    <div class="card" id="card-alerts"><div class="k">Drift alerts</div><div class="v" id="c-alerts">–</div></div>
    <div class="card"><div class="k">Batches received</div><div class="v" id="c-batches">–</div></div>
  </div>
  <section class="panel">
    <h2>Latency
      <select id="metric" class="narrow"><option value="run">per run</option><option value="coldStart">cold start</option></select>
      <select id="phase" class="narrow"><option value="total">total</option><option value="queue">queue</option><option value="gpu">gpu</option><option value="readback">readback</option><option value="fetch">fetch</option><option value="parse">parse</option><option value="upload">upload</option><option value="compile">compile</option><option value="first_run">first run</option><option value="all">all phases</option></select>
      <span class="legend"><span><i class="k-p50"></i>p50</span><span><i class="k-p90"></i>p90</span><span><i class="k-p99"></i>p99</span></span>
      <span class="legend push" id="lat-note"></span>
    </h2>
    <div id="latency"></div>
  </section>
  <section class="panel">
    <h2>Drift per feature <span class="legend"><span><i class="k-psi"></i>PSI</span><span><i class="k-p50"></i>Jensen-Shannon</span><span><i class="k-w"></i>Wasserstein</span><span>highest score per interval</span><span><i class="k-alert"></i>alerting window</span></span></h2>
    <div class="features" id="features"></div>
  </section>
  <section class="panel">
    <h2>Recent drift alerts</h2>
    <div id="alerts"></div>
  </section>
</main>
<div class="tip" id="tip"></div>
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kiln telemetry</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script></body>
</html>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Headers the page must be served with. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'none'",
    `script-src ${sha256(SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function dashboardHtml(): string {
  return PAGE;
}
