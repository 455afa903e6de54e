import type { ReportData } from './build';

export type ReportFormat = 'md' | 'csv' | 'json' | 'html';

/** Render a report in one of the four formats. */
export function renderReport(report: ReportData, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return renderCsv(report);
    case 'html':
      return renderHtml(report);
    default:
      return renderMarkdown(report);
  }
}

const minutes = (ms: number | null) => (ms === null ? '-' : `${Math.round(ms / 60_000)} min`);
/**
 * Untrusted text (load balancer, AZ and backend names, PTR host names, summaries,
 * errors) as inert Markdown: HTML's special characters as entities (no `<script>`
 * or `<img onerror>` reaches a renderer), Markdown's punctuation backslash-escaped
 * (no links, emphasis or table breaks), line breaks as spaces.
 */
export function markdownText(v: unknown): string {
  return String(v)
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] as string)
    .replace(/[\\`*_[\]|]/g, '\\$&');
}
const cell = (v: unknown) => (v === null || v === undefined ? '-' : markdownText(v));

/** The "alert sent" cell: when it was published, why it could not be, or that it is still queued. */
function sentCell(e: ReportData['events'][number]): string | null {
  return e.deliveryError !== null ? `UNDELIVERABLE: ${e.deliveryError}` : e.published;
}

/** A line saying how many alerts were never delivered (empty when none). */
function undeliveredLine(r: ReportData): string {
  return r.undelivered === 0 ? '' : `Alerts: ${r.undelivered} of this window's events could not be delivered (a sink refused them; \`elbscope events --undelivered\`, \`elbscope redeliver --id ID\`).`;
}

function chainLine(r: ReportData): string {
  return r.chain.intact
    ? `intact: ${r.chain.records} records, every hash and link recomputed`
    : `BROKEN at record #${r.chain.firstBreak?.seq} (${r.chain.firstBreak?.location}): ${r.chain.firstBreak?.reason}`;
}

/** The AZs and backends the window's time series name, sorted: the columns of the node and R tables and charts. */
function seriesNames(r: ReportData): { azs: string[]; backends: string[] } {
  return {
    azs: [...new Set(r.nodesPerAz.flatMap((s) => Object.keys(s.azs)))].sort(),
    backends: [...new Set(r.reading.flatMap((s) => Object.keys(s.backends)))].sort(),
  };
}

/** A markdown time-series table: a row per sample, a column per name; `empty` when no sample names any. */
function seriesTable<S extends { at: string }>(names: string[], samples: S[], value: (sample: S, name: string) => string, empty: string): string[] {
  if (names.length === 0) return [empty];
  return [
    `| time (UTC) | ${names.map(markdownText).join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
    ...samples.map((s) => `| ${s.at} | ${names.map((n) => value(s, n)).join(' | ')} |`),
  ];
}

/** Who the report is about: kind, name, region, account and ARN, as far as recorded. */
function identityLine(r: ReportData): string {
  const id = r.identity;
  if (!id) return `${r.loadBalancer} (no cycle recorded yet: account, region and kind unknown)`;
  const kind = id.kind === 'application' ? 'Application Load Balancer' : id.kind === 'network' ? 'Network Load Balancer' : id.kind === 'classic' ? 'Classic Load Balancer' : 'kind not yet known';
  return `${id.name} (${kind}), region ${id.region ?? 'unknown'}, account ${id.account ?? "the monitor's own"}${id.arn ? `, ${id.arn}` : ''}`;
}

function renderMarkdown(r: ReportData): string {
  const { azs, backends } = seriesNames(r);
  const lines = [
    `# elbscope report: ${markdownText(r.loadBalancer)}`,
    '',
    `Load balancer: ${markdownText(identityLine(r))}.`,
    `Window: ${r.from ?? 'start'} to ${r.to ?? 'now'} (UTC). Generated ${r.generatedAt}.`,
    `Audit chain: ${markdownText(chainLine(r))}.`,
    ...(r.undelivered > 0 ? [undeliveredLine(r)] : []),
    '',
    '## Timeline',
    '',
    '| # | time (UTC) | event | AZ / backend | change | summary | alert sent |',
    '|---|---|---|---|---|---|---|',
    ...r.events.map((e) => `| ${e.seq} | ${e.at} | ${e.kind}${e.status === 'event' ? '' : ` (${e.status})`} | ${cell(e.az ?? e.backend)} | ${cell(e.from)} → ${cell(e.to)} | ${cell(e.summary)} | ${cell(sentCell(e))} |`),
    ...(r.events.length === 0 ? ['| | | no events in this window | | | | |'] : []),
    '',
    '## Nodes per AZ (provisioned / advertised)',
    '',
    ...seriesTable(azs, r.nodesPerAz, (s, az) => (s.azs[az] ? `${s.azs[az].provisioned} / ${s.azs[az].advertised}` : '-'), 'No observation placed nodes in an AZ in this window.'),
    '',
    '## Node IPs and EC2 host names seen',
    '',
    '| IP | EC2 host name | AZ | ENI | first seen | last seen |',
    '|---|---|---|---|---|---|',
    ...r.nodes.map((n) => `| ${cell(n.ip)} | ${cell(n.hostname)} | ${cell(n.az)} | ${cell(n.eniId)} | ${n.firstSeen} | ${n.lastSeen} |`),
    '',
    '## Pre-opened connections (R) per backend',
    '',
    ...seriesTable(backends, r.reading, (s, b) => cell(s.backends[b]), 'No backend status pages in this window.'),
    '',
    '## AWS capacity signals (CloudWatch, 1-minute datapoints)',
    '',
    ...awsTable(r),
    '',
    '## Pre-warm targets',
    '',
    '| requested (UTC) | case | target nodes/AZ | target LCUs | total | deadline | outcome | completed | took |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.prewarms.map((p) => `| ${p.requestedAt} | ${cell(p.caseId)} | ${p.nodesPerAz} | ${cell(p.lcu)} | ${cell(p.total)} | ${cell(p.deadline)} | ${p.outcome} | ${cell(p.completedAt)} | ${minutes(p.durationMs)} |`),
    '',
    '## TLS findings',
    '',
    ...(r.tls.length === 0 ? ['None in this window.'] : r.tls.map((e) => `- ${e.at} ${markdownText(e.summary)}`)),
    '',
  ];
  return lines.join('\n');
}

/** Per metric: datapoints, the highest, the total (for counts), and the minute of the highest. */
function awsTable(r: ReportData): string[] {
  const metrics = Object.entries(r.aws).filter(([, points]) => points.length > 0);
  if (metrics.length === 0) return [Object.keys(r.aws).length === 0 ? 'No CloudWatch metrics were read in this window.' : 'CloudWatch reported no datapoint in this window (these metrics are reported only when non-zero).'];
  const reserved = [...new Set(r.reservedLcu.map((x) => x.lcu).filter((x) => x !== null))];
  return [
    '| metric | datapoints | highest | at (UTC) | total |',
    '|---|---|---|---|---|',
    ...metrics.map(([metric, points]) => {
      const top = points.reduce((a, b) => (b[1] > a[1] ? b : a));
      return `| ${metric} | ${points.length} | ${top[1]} | ${top[0]} | ${Math.round(points.reduce((a, [, v]) => a + v, 0) * 1000) / 1000} |`;
    }),
    ...(reserved.length > 0 ? ['', `LCUs reserved in this window: ${reserved.join(', ')}.`] : []),
  ];
}

/**
 * One CSV cell. Text a spreadsheet would run as a formula (starting with `=`,
 * `+`, `-`, `@`, tab or carriage return: a PTR name such as `=cmd|'/c calc'!A1.x.com`)
 * is prefixed with `'` and quoted, per OWASP's CSV-injection guidance; numbers
 * stay numbers.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n']/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function renderCsv(r: ReportData): string {
  const rows: unknown[][] = [['record', 'at', 'loadBalancer', 'kind', 'status', 'az', 'backend', 'from', 'to', 'value', 'summary']];
  for (const e of r.events) rows.push(['event', e.at, r.loadBalancer, e.kind, e.status, e.az, e.backend, e.from, e.to, e.seq, e.summary]);
  for (const e of r.events) if (e.deliveryError !== null) rows.push(['undeliverable', e.at, r.loadBalancer, e.kind, e.status, e.az, e.backend, '', '', e.seq, e.deliveryError]);
  for (const s of r.nodesPerAz) for (const [az, c] of Object.entries(s.azs)) rows.push(['nodes', s.at, r.loadBalancer, 'provisioned', '', az, '', '', '', c.provisioned, `advertised ${c.advertised}`]);
  for (const s of r.reading) for (const [b, v] of Object.entries(s.backends)) rows.push(['reading', s.at, r.loadBalancer, 'reading', '', '', b, '', '', v, '']);
  for (const n of r.nodes) rows.push(['node', n.firstSeen, r.loadBalancer, 'node', '', n.az, '', '', n.lastSeen, n.ip, n.hostname]);
  for (const [metric, points] of Object.entries(r.aws)) for (const [t, v] of points) rows.push(['aws', t, r.loadBalancer, metric, '', '', '', '', '', v, '']);
  for (const p of r.prewarms) rows.push(['prewarm', p.requestedAt, r.loadBalancer, p.outcome, '', '', '', p.nodesPerAz, p.total, p.durationMs, p.caseId]);
  rows.push(['chain', r.generatedAt, r.loadBalancer, r.chain.intact ? 'intact' : 'broken', '', '', '', '', '', r.chain.records, r.chain.intact ? '' : r.chain.firstBreak?.reason]);
  return `${rows.map((row) => row.map(csvField).join(',')).join('\n')}\n`;
}

const escapeHtml = (s: unknown) => String(s ?? '-').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/**
 * A self-contained HTML page: inline CSS, the data as JSON, and a small inline
 * script that draws the charts as SVG, so it renders in a browser with no network
 * (and can be attached to a support case as one file).
 */
function renderHtml(r: ReportData): string {
  const { azs, backends } = seriesNames(r);
  const nodeSeries = azs.map((az) => ({ name: az, points: r.nodesPerAz.map((s) => [Date.parse(s.at), s.azs[az]?.provisioned ?? null]) }));
  const readingSeries = backends.map((b) => ({ name: b, points: r.reading.map((s) => [Date.parse(s.at), s.backends[b] ?? null]) }));
  const awsSeries = Object.entries(r.aws).filter(([, points]) => points.length > 0).map(([metric, points]) => ({ name: metric, points: points.map(([t, v]) => [Date.parse(t), v]) }));
  const data = JSON.stringify({ nodes: nodeSeries, reading: readingSeries, aws: awsSeries }).replaceAll('<', '\\u003c');
  const rows = (cells: unknown[]) => `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>elbscope report: ${escapeHtml(r.loadBalancer)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.chart{border:1px solid #ddd;margin:1em 0}.broken{color:#b00;font-weight:bold}.intact{color:#070}.legend span{margin-right:1.5em}
</style></head><body>
<h1>elbscope report: ${escapeHtml(r.loadBalancer)}</h1>
<p id="identity">Load balancer: ${escapeHtml(identityLine(r))}</p>
<p>Window: ${escapeHtml(r.from ?? 'start')} to ${escapeHtml(r.to ?? 'now')} (UTC). Generated ${escapeHtml(r.generatedAt)}.</p>
<p id="chain" class="${r.chain.intact ? 'intact' : 'broken'}">Audit chain: ${escapeHtml(chainLine(r))}</p>
${r.undelivered > 0 ? `<p id="undelivered" class="broken">${escapeHtml(undeliveredLine(r))}</p>` : ''}
<h2>Nodes per AZ (provisioned)</h2><div id="chart-nodes" class="chart-box"></div>
<h2>AWS capacity signals (CloudWatch: surge queue, spillover, LCUs)</h2><div id="chart-aws" class="chart-box"></div>
<h2>Pre-opened connections (R) per backend</h2><div id="chart-reading" class="chart-box"></div>
<h2>Timeline</h2>
<table><tr><th>#</th><th>time (UTC)</th><th>event</th><th>AZ / backend</th><th>from</th><th>to</th><th>summary</th><th>alert sent</th></tr>
${r.events.map((e) => rows([e.seq, e.at, e.status === 'event' ? e.kind : `${e.kind} (${e.status})`, e.az ?? e.backend, e.from, e.to, e.summary, sentCell(e)])).join('\n')}
</table>
<h2>Node IPs and EC2 host names</h2>
<table><tr><th>IP</th><th>EC2 host name</th><th>AZ</th><th>ENI</th><th>first seen</th><th>last seen</th></tr>
${r.nodes.map((n) => rows([n.ip, n.hostname, n.az, n.eniId, n.firstSeen, n.lastSeen])).join('\n')}
</table>
<h2>Pre-warm targets</h2>
<table><tr><th>requested</th><th>case</th><th>nodes/AZ</th><th>deadline</th><th>outcome</th><th>completed</th><th>took (min)</th></tr>
${r.prewarms.map((p) => rows([p.requestedAt, p.caseId, p.nodesPerAz, p.deadline, p.outcome, p.completedAt, p.durationMs === null ? null : Math.round(p.durationMs / 60_000)])).join('\n')}
</table>
<h2>TLS findings</h2>
<ul>${r.tls.map((e) => `<li>${escapeHtml(e.at)} ${escapeHtml(e.summary)}</li>`).join('') || '<li>None in this window.</li>'}</ul>
<script id="report-data" type="application/json">${data}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
  var NS = 'http://www.w3.org/2000/svg';
  // One time axis for every chart: nodes, AWS's metrics and R line up minute for minute.
  var all = [].concat.apply([], [data.nodes, data.aws, data.reading].map(function (ss) { return [].concat.apply([], ss.map(function (s) { return s.points.filter(function (p) { return p[1] !== null; }).map(function (p) { return p[0]; }); })); }));
  var X0 = Math.min.apply(null, all), X1 = Math.max.apply(null, all);
  function chart(id, series) {
    var box = document.getElementById(id), w = 760, h = 220, pad = 36;
    var pts = [].concat.apply([], series.map(function (s) { return s.points.filter(function (p) { return p[1] !== null; }); }));
    if (!pts.length) { box.textContent = 'No data in this window.'; return; }
    var ys = pts.map(function (p) { return p[1]; });
    var x0 = X0, x1 = X1, y1 = Math.max(1, Math.max.apply(null, ys));
    var sx = function (x) { return pad + (x1 === x0 ? 0 : (x - x0) / (x1 - x0)) * (w - 2 * pad); };
    var sy = function (y) { return h - pad - (y / y1) * (h - 2 * pad); };
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('width', w); svg.setAttribute('height', h); svg.setAttribute('class', 'chart');
    [0, y1].forEach(function (v) {
      var t = document.createElementNS(NS, 'text'); t.setAttribute('x', 4); t.setAttribute('y', sy(v) + 4); t.textContent = v; svg.appendChild(t);
    });
    var legend = document.createElement('div'); legend.className = 'legend';
    series.forEach(function (s, i) {
      var line = document.createElementNS(NS, 'polyline');
      line.setAttribute('fill', 'none'); line.setAttribute('stroke', colours[i % colours.length]); line.setAttribute('stroke-width', '2');
      line.setAttribute('data-series', s.name);
      line.setAttribute('points', s.points.filter(function (p) { return p[1] !== null; }).map(function (p) { return sx(p[0]) + ',' + sy(p[1]); }).join(' '));
      svg.appendChild(line);
      var key = document.createElement('span'); key.style.color = colours[i % colours.length]; key.textContent = '\\u25A0 ' + s.name; legend.appendChild(key);
    });
    box.appendChild(svg); box.appendChild(legend);
  }
  chart('chart-nodes', data.nodes);
  chart('chart-aws', data.aws);
  chart('chart-reading', data.reading);
})();
</script>
</body></html>
`;
}
