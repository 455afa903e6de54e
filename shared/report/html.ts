import { UPLOT_CSS, UPLOT_JS } from './assets/uplot';
import type { ReportData } from './build';
import { summarize } from './summary';
import { chainLine, identityLine, sentCell, seriesNames, undeliveredLine } from './text';

/** Text as inert HTML (names, summaries and host names are untrusted input). */
const escapeHtml = (s: unknown) =>
  String(s ?? '-').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/**
 * A chart's series: a name and `[epoch seconds, value | null]` points (null: a gap), and its y scale when not the
 * chart's first.
 */
interface Series {
  name: string;
  points: [number, number | null][];
  scale?: string;
}

/**
 * Which y scale an AWS metric is drawn on: requests queued, requests or connections refused, LCUs, bytes (an NLB's
 * ProcessedBytes).
 */
const METRIC_SCALE: Record<string, string> = {
  SurgeQueueLength: 'queue',
  SpilloverCount: 'refused',
  RejectedConnectionCount: 'refused',
  PeakLCUs: 'lcu',
  ConsumedLCUs: 'lcu',
  ProcessedBytes: 'bytes',
};

/**
 * Points with a gap (null) wherever consecutive observations are further apart
 * than `gapMs`: a stored observation stands for the cycles up to the next only
 * while it is not stale; a longer silence is drawn as no data, never a line.
 */
function withGaps(points: [number, number | null][], gapMs: number): [number, number | null][] {
  const out: [number, number | null][] = [];
  points.forEach((p, i) => {
    const prev = points[i - 1];
    if (prev && (p[0] - prev[0]) * 1000 > gapMs) out.push([prev[0] + 1, null]);
    out.push(p);
  });
  return out;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

/**
 * The support-case page: one self-contained file (uPlot, the data and the code
 * inline; no network), light and printable on A4. A header says whose load
 * balancer, which window and what the audit chain verified; a plain-language
 * summary; charts on one UTC time axis (nodes per AZ, AWS's capacity metrics, R per
 * backend) drawn as steps, with gaps where cycles were missed, every series
 * distinguishable by colour and dash, a legend that toggles, and a marker per
 * event that links to its row in the timeline.
 */
export function renderHtml(r: ReportData): string {
  const { azs, backends } = seriesNames(r);
  const nodes: Series[] = azs.map((az) => ({
    name: az,
    points: withGaps(
      r.nodesPerAz.map((s) => [seconds(s.at), s.azs[az]?.provisioned ?? null]),
      r.gapAfterMs,
    ),
  }));
  const reading: Series[] = backends.map((b) => ({
    name: b,
    points: withGaps(
      r.reading.map((s) => [seconds(s.at), s.backends[b] ?? null]),
      r.gapAfterMs,
    ),
  }));
  // CloudWatch datapoints are per minute: a missing minute is one AWS did not report (0 for the distress metrics).
  const aws: Series[] = Object.entries(r.aws)
    .filter(([, points]) => points.length > 0)
    .map(([metric, points]) => ({
      name: metric,
      scale: METRIC_SCALE[metric] ?? 'y',
      points: withGaps(
        points.map(([t, v]) => [seconds(t), v]),
        Math.max(r.gapAfterMs, 120_000),
      ),
    }));
  const times = [...nodes, ...reading, ...aws].flatMap((s) => s.points.map((p) => p[0]));
  const window = [r.from ? seconds(r.from) : Math.min(...times), r.to ? seconds(r.to) : Math.max(...times)];
  const events = r.events.map((e) => ({
    seq: e.seq,
    t: seconds(e.at),
    kind: e.kind,
    status: e.status,
    severity: e.severity,
    label: e.summary,
  }));
  const data = JSON.stringify({
    window: times.length > 0 || (r.from && r.to) ? window : null,
    nodes,
    reading,
    aws,
    events,
  }).replaceAll('<', '\\u003c');
  const rows = (id: string | null, cells: unknown[]) =>
    `<tr${id ? ` id="${id}"` : ''}>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>elbscope report: ${escapeHtml(r.loadBalancer)}</title>
<script>window.__elbscopeErrors = []; window.addEventListener('error', function (e) { window.__elbscopeErrors.push(String(e.message)); document.documentElement.setAttribute('data-errors', JSON.stringify(window.__elbscopeErrors)); });</script>
<style>${UPLOT_CSS}</style>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1d2327;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dcdcde;padding-bottom:4px}
header p{margin:2px 0}.meta{color:#50575e}.hash{font-family:ui-monospace,monospace;font-size:12px;overflow-wrap:anywhere}
.broken{color:#b32d2e;font-weight:bold}.intact{color:#00712e}
#summary li{margin:3px 0}
table{border-collapse:collapse;margin:8px 0;width:100%;table-layout:fixed}td,th{border:1px solid #dcdcde;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere;word-break:break-word}
th{background:#f6f7f7}tr:target{background:#fff3c4}
.chart-box{position:relative;margin:6px 0 14px}.chart-empty{color:#50575e;font-style:italic}
.ev{position:absolute;top:0;bottom:0;width:9px;margin-left:-4px;cursor:pointer;text-decoration:none}
.ev::before{content:'';position:absolute;left:4px;top:0;bottom:0;border-left:1px dashed #8c8f94}
.ev::after{content:'';position:absolute;left:0;top:-2px;width:9px;height:9px;border-radius:50%;background:#2271b1}
.ev.critical::after{background:#d63638}.ev.warning::after{background:#dba617}
@page{size:A4;margin:12mm}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}.chart-box,tr{break-inside:avoid}.ev::after{print-color-adjust:exact;-webkit-print-color-adjust:exact}}
</style></head><body>
<header>
<h1>elbscope report: ${escapeHtml(r.loadBalancer)}</h1>
<p id="identity">Load balancer: ${escapeHtml(identityLine(r))}</p>
<p class="meta">Window: ${escapeHtml(r.from ?? 'start')} to ${escapeHtml(r.to ?? 'now')} (UTC). Generated ${escapeHtml(r.generatedAt)}.</p>
<p id="chain" class="${r.chain.intact ? 'intact' : 'broken'}">Audit chain: <span class="hash">${escapeHtml(chainLine(r))}</span></p>
${r.undelivered > 0 ? `<p id="undelivered" class="broken">${escapeHtml(undeliveredLine(r))}</p>` : ''}
</header>
<h2>Summary</h2>
<ul id="summary">${summarize(r)
    .map((line) => `<li>${escapeHtml(line)}</li>`)
    .join('')}</ul>
<h2>Nodes per AZ (provisioned ENIs)</h2><div id="chart-nodes" class="chart-box"></div>
<h2>AWS capacity signals (CloudWatch: surge queue, spillover, LCUs)</h2><div id="chart-aws" class="chart-box"></div>
<h2>Pre-opened connections (R) per backend</h2><div id="chart-reading" class="chart-box"></div>
<h2>Timeline</h2>
<table id="timeline"><colgroup><col style="width:4%"><col style="width:15%"><col style="width:13%"><col style="width:10%"><col style="width:8%"><col style="width:8%"><col style="width:28%"><col style="width:14%"></colgroup>
<tr><th>#</th><th>time (UTC)</th><th>event</th><th>AZ / backend</th><th>from</th><th>to</th><th>summary</th><th>alert sent</th></tr>
${r.events.map((e) => rows(`event-${e.seq}`, [e.seq, e.at, e.status === 'event' ? e.kind : `${e.kind} (${e.status})`, e.az ?? e.backend, e.from, e.to, e.summary, sentCell(e)])).join('\n')}
</table>
<h2>Node IPs and EC2 host names</h2>
<table><tr><th>IP</th><th>EC2 host name</th><th>AZ</th><th>ENI</th><th>first seen</th><th>last seen</th></tr>
${r.nodes.map((n) => rows(null, [n.ip, n.hostname, n.az, n.eniId, n.firstSeen, n.lastSeen])).join('\n')}
</table>
<h2>Pre-warm targets</h2>
<table><tr><th>requested</th><th>case</th><th>nodes/AZ</th><th>LCUs</th><th>deadline</th><th>outcome</th><th>completed</th><th>took (min)</th></tr>
${r.prewarms.map((p) => rows(null, [p.requestedAt, p.caseId, p.nodesPerAz || '-', p.lcu, p.deadline, p.outcome, p.completedAt, p.durationMs === null ? null : Math.round(p.durationMs / 60_000)])).join('\n')}
</table>
<h2>TLS findings</h2>
<ul>${r.tls.map((e) => `<li>${escapeHtml(e.at)} ${escapeHtml(e.summary)}</li>`).join('') || '<li>None in this window.</li>'}</ul>
<script id="report-data" type="application/json">${data}</script>
<script>${UPLOT_JS.replaceAll('</', '<\\/')}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}

/**
 * Draws the charts with uPlot. Series differ by colour and by dash (so two equal
 * series both show), counts are steps, nulls are gaps; the x scale is the report's
 * window on every chart, labelled in UTC; each chart records its tick labels and
 * series styles in data attributes (what the browser tests read), and gets a
 * marker per event linking to its timeline row.
 */
const CHART_SCRIPT = `
(function () {
  var D = JSON.parse(document.getElementById('report-data').textContent);
  var COLOURS = ['#2271b1', '#d63638', '#00a32a', '#8c5ac8', '#dba617', '#3c434a', '#e26f56', '#007cba'];
  var DASHES = [[], [8, 4], [2, 3], [12, 3, 3, 3], [5, 5], [1, 4], [10, 2, 2, 2, 2, 2], [6, 2]];
  var pad = function (n) { return (n < 10 ? '0' : '') + n; };
  function label(t, span) {
    var d = new Date(t * 1000);
    var hm = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
    return span > 86400 ? pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' + hm : span < 600 ? hm + ':' + pad(d.getUTCSeconds()) : hm;
  }
  function draw(id, series) {
    var box = document.getElementById(id);
    if (!D.window || !series.length || !series.some(function (s) { return s.points.some(function (p) { return p[1] !== null; }); })) {
      box.className += ' chart-empty'; box.textContent = 'No data in this window.'; return;
    }
    var xs = []; var seen = {};
    series.forEach(function (s) { s.points.forEach(function (p) { if (!seen[p[0]]) { seen[p[0]] = 1; xs.push(p[0]); } }); });
    xs.sort(function (a, b) { return a - b; });
    var data = [xs].concat(series.map(function (s) {
      var at = {}; s.points.forEach(function (p) { at[p[0]] = p[1]; });
      return xs.map(function (x) { return x in at ? at[x] : null; });
    }));
    var span = D.window[1] - D.window[0];
    var width = Math.max(480, Math.min(1180, box.clientWidth || 1100));
    box.setAttribute('data-series', JSON.stringify(series.map(function (s, i) { return { name: s.name, stroke: COLOURS[i % COLOURS.length], dash: DASHES[i % DASHES.length] }; })));
    // Series of very different magnitudes (a surge queue of 1,024 beside 50,000 dropped requests) get their own
    // scale: the first on the left axis, any other on the right, each named by its series.
    var scaleOf = function (s) { return s.scale || 'y'; };
    var scales = []; series.forEach(function (s) { if (scales.indexOf(scaleOf(s)) < 0) scales.push(scaleOf(s)); });
    var yAxes = scales.slice(0, 2).map(function (sc, i) {
      return { scale: sc, side: i === 0 ? 3 : 1, size: 64, grid: { show: i === 0 }, label: scales.length > 1 ? series.filter(function (s) { return scaleOf(s) === sc; }).map(function (s) { return s.name; }).join(', ') : undefined, labelSize: 16 };
    });
    var opts = {
      width: width, height: 230,
      scales: scales.reduce(function (acc, sc) { acc[sc] = { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } }; return acc; },
        { x: { time: true, range: function () { return [D.window[0], Math.max(D.window[1], D.window[0] + 60)]; } } }),
      axes: [{ space: 90, values: function (u, splits) {
        var labels = splits.map(function (t) { return label(t, span); });
        box.setAttribute('data-ticks', JSON.stringify(splits.map(function (t, i) { return [t, labels[i]]; })));
        return labels;
      }, label: 'UTC', labelSize: 18 }].concat(yAxes),
      series: [{ label: 'time (UTC)', value: function (u, t) { return t == null ? '-' : new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' '); } }].concat(series.map(function (s, i) {
        return { label: s.name, scale: scaleOf(s), stroke: COLOURS[i % COLOURS.length], dash: DASHES[i % DASHES.length], width: 2 + (i % 2), spanGaps: false,
          paths: uPlot.paths.stepped({ align: 1 }), points: { show: true, size: 5 + (i % 3) * 2 } };
      })),
      hooks: { ready: [function (u) { markers(u, box); }] },
    };
    new uPlot(opts, data, box);
  }
  function markers(u, box) {
    var n = 0;
    D.events.forEach(function (e) {
      if (e.t < D.window[0] || e.t > D.window[1]) return;
      var a = document.createElement('a');
      a.className = 'ev ' + e.severity; a.href = '#event-' + e.seq;
      a.title = '#' + e.seq + ' ' + e.label; a.setAttribute('data-seq', e.seq);
      a.style.left = u.valToPos(e.t, 'x') + 'px';
      u.over.appendChild(a); n++;
    });
    box.setAttribute('data-markers', n);
  }
  draw('chart-nodes', D.nodes);
  draw('chart-aws', D.aws);
  draw('chart-reading', D.reading);
  document.documentElement.setAttribute('data-rendered', 'true');
})();
`;
