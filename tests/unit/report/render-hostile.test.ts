import { describe, expect, it } from 'vitest';
import type { ReportData } from '../../../shared/report/build';
import { csvField, markdownText, renderReport } from '../../../shared/report/render';

const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
const FORMULA = "=cmd|'/c calc'!A1.x.com";
const report: ReportData = {
  loadBalancer: 'web<script>alert(1)</script>',
  identity: {
    account: '<b>1</b>',
    region: 'us-east-1',
    name: 'web<script>alert(1)</script>',
    arn: '<img src=x onerror=alert(1)>',
    kind: 'application',
  },
  from: null,
  to: null,
  generatedAt: at(9),
  events: [
    {
      seq: 1,
      id: 'a',
      at: at(1),
      kind: 'scaled',
      status: 'event',
      severity: 'info',
      az: 'us-east-1a',
      backend: null,
      from: 1,
      to: 2,
      summary: 'x <img src=x onerror=alert(1)> | [link](http://evil) *b*\nsecond line',
      published: at(1),
      deliveryError: null,
    },
  ],
  undelivered: 0,
  nodesPerAz: [{ at: at(1), azs: { 'us-east-1a': { provisioned: 2, advertised: 2 } } }],
  nodes: [{ ip: '192.0.2.1', hostname: FORMULA, az: 'us-east-1a', eniId: '-1+1', firstSeen: at(1), lastSeen: at(2) }],
  reading: [],
  prewarms: [],
  tls: [],
  aws: {},
  reservedLcu: [],
  chain: { intact: true, records: 1, firstBreak: null, head: { seq: 2, hash: 'ab'.repeat(32) } },
  gapAfterMs: 22.5 * 60_000,
};

describe('Reports carry untrusted names inertly', () => {
  it('CSV: cells a spreadsheet would run as formulas are neutralised (OWASP), numbers stay numbers', () => {
    const csv = renderReport(report, 'csv');
    expect(csv).toContain(`"'=cmd|'/c calc'!A1.x.com"`);
    expect(csv).not.toMatch(/(^|,)=cmd/m);
    expect([csvField('@SUM(A1)'), csvField('+1'), csvField('\tx'), csvField(-3), csvField('plain')]).toEqual([
      `"'@SUM(A1)"`,
      `"'+1"`,
      `"'\tx"`,
      '-3',
      'plain',
    ]);
  });

  it('Markdown: no raw HTML, no links or emphasis, no broken table rows', () => {
    const md = renderReport(report, 'md');
    expect(md).not.toMatch(/<script|<img/);
    expect(md).toContain('# elbscope report: web&lt;script&gt;alert\\(1\\)&lt;/script&gt;'.replace('\\(1\\)', '(1)'));
    const row = md.split('\n').find((l) => l.startsWith('| 1 |')) ?? '';
    expect(row).toContain('x &lt;img src=x onerror=alert(1)&gt; \\| \\[link\\](http://evil) \\*b\\* second line');
    expect(row.split(/(?<!\\)\|/).length).toBe(9); // 7 cells, no extra column from the summary's |
    expect(markdownText('a_b`c')).toBe('a\\_b\\`c');
  });
});
