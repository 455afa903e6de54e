import type { ReportData } from './build';
import { renderHtml } from './html';
import { chainLine, identityLine, sentCell, seriesNames, undeliveredLine } from './text';
import { summarize } from './summary';

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

/** A markdown time-series table: a row per sample, a column per name; `empty` when no sample names any. */
function seriesTable<S extends { at: string }>(
  names: string[],
  samples: S[],
  value: (sample: S, name: string) => string,
  empty: string,
): string[] {
  if (names.length === 0) return [empty];
  return [
    `| time (UTC) | ${names.map(markdownText).join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
    ...samples.map((s) => `| ${s.at} | ${names.map((n) => value(s, n)).join(' | ')} |`),
  ];
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
    '## Summary',
    '',
    ...summarize(r).map((line) => `- ${markdownText(line)}`),
    '',
    '## Timeline',
    '',
    '| # | time (UTC) | event | AZ / backend | change | summary | alert sent |',
    '|---|---|---|---|---|---|---|',
    ...r.events.map(
      (e) =>
        `| ${e.seq} | ${e.at} | ${e.kind}${e.status === 'event' ? '' : ` (${e.status})`} | ${cell(e.az ?? e.backend)} | ${cell(e.from)} → ${cell(e.to)} | ${cell(e.summary)} | ${cell(sentCell(e))} |`,
    ),
    ...(r.events.length === 0 ? ['| | | no events in this window | | | | |'] : []),
    '',
    '## Nodes per AZ (provisioned / advertised)',
    '',
    ...seriesTable(
      azs,
      r.nodesPerAz,
      (s, az) => (s.azs[az] ? `${s.azs[az].provisioned} / ${s.azs[az].advertised}` : '-'),
      'No observation placed nodes in an AZ in this window.',
    ),
    '',
    '## Node IPs and EC2 host names seen',
    '',
    '| IP | EC2 host name | AZ | ENI | first seen | last seen |',
    '|---|---|---|---|---|---|',
    ...r.nodes.map(
      (n) =>
        `| ${cell(n.ip)} | ${cell(n.hostname)} | ${cell(n.az)} | ${cell(n.eniId)} | ${n.firstSeen} | ${n.lastSeen} |`,
    ),
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
    ...r.prewarms.map(
      (p) =>
        `| ${p.requestedAt} | ${cell(p.caseId)} | ${p.nodesPerAz} | ${cell(p.lcu)} | ${cell(p.total)} | ${cell(p.deadline)} | ${p.outcome} | ${cell(p.completedAt)} | ${minutes(p.durationMs)} |`,
    ),
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
  if (metrics.length === 0)
    return [
      Object.keys(r.aws).length === 0
        ? 'No CloudWatch metrics were read in this window.'
        : 'CloudWatch reported no datapoint in this window (these metrics are reported only when non-zero).',
    ];
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
  const rows: unknown[][] = [
    ['record', 'at', 'loadBalancer', 'kind', 'status', 'az', 'backend', 'from', 'to', 'value', 'summary'],
  ];
  for (const e of r.events)
    rows.push(['event', e.at, r.loadBalancer, e.kind, e.status, e.az, e.backend, e.from, e.to, e.seq, e.summary]);
  for (const e of r.events)
    if (e.deliveryError !== null)
      rows.push([
        'undeliverable',
        e.at,
        r.loadBalancer,
        e.kind,
        e.status,
        e.az,
        e.backend,
        '',
        '',
        e.seq,
        e.deliveryError,
      ]);
  for (const s of r.nodesPerAz)
    for (const [az, c] of Object.entries(s.azs))
      rows.push([
        'nodes',
        s.at,
        r.loadBalancer,
        'provisioned',
        '',
        az,
        '',
        '',
        '',
        c.provisioned,
        `advertised ${c.advertised}`,
      ]);
  for (const s of r.reading)
    for (const [b, v] of Object.entries(s.backends))
      rows.push(['reading', s.at, r.loadBalancer, 'reading', '', '', b, '', '', v, '']);
  for (const n of r.nodes)
    rows.push(['node', n.firstSeen, r.loadBalancer, 'node', '', n.az, '', '', n.lastSeen, n.ip, n.hostname]);
  for (const [metric, points] of Object.entries(r.aws))
    for (const [t, v] of points) rows.push(['aws', t, r.loadBalancer, metric, '', '', '', '', '', v, '']);
  for (const p of r.prewarms)
    rows.push([
      'prewarm',
      p.requestedAt,
      r.loadBalancer,
      p.outcome,
      '',
      '',
      '',
      p.nodesPerAz,
      p.total,
      p.durationMs,
      p.caseId,
    ]);
  rows.push([
    'chain',
    r.generatedAt,
    r.loadBalancer,
    r.chain.intact ? 'intact' : r.chain.firstBreak ? 'broken' : 'not checked',
    '',
    '',
    '',
    '',
    '',
    r.chain.records,
    r.chain.intact
      ? ''
      : (r.chain.firstBreak?.reason ?? `seals cannot be checked: ${r.chain.seals?.unavailable ?? ''}`),
  ]);
  return `${rows.map((row) => row.map(csvField).join(',')).join('\n')}\n`;
}
