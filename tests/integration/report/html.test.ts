import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ReportData } from '../../../shared/report/build';
import { renderReport } from '../../../shared/report/render';
import { requireBinary } from '../../helpers/servers';

// The HTML report in a real browser (Debian's chromium, headless) with no network:
// its inline script must draw the charts from the embedded data.
const chromium = requireBinary(['chromium', 'chromium-browser']);
const run = promisify(execFile);

const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
const report: ReportData = {
  loadBalancer: 'test',
  identity: { account: null, region: 'us-east-1', name: 'test', arn: null, kind: 'classic' },
  from: at(0),
  to: at(10),
  generatedAt: at(11),
  events: [{ seq: 1, id: 'abc', at: at(3), kind: 'scaled', status: 'event', severity: 'info', az: 'us-east-1a', backend: null, from: 1, to: 3, summary: 'test us-east-1a scaled 1 → 3 nodes <b>', published: at(3), deliveryError: null },
    { seq: 2, id: 'def', at: at(4), kind: 'az-added', status: 'event', severity: 'info', az: 'us-east-1c', backend: null, from: 0, to: 1, summary: 'test us-east-1c added', published: null, deliveryError: 'SNS arn:x: NotFoundException: Topic <gone>' }],
  undelivered: 1,
  nodesPerAz: [0, 1, 2, 3, 4].map((m) => ({ at: at(m), azs: { 'us-east-1a': { provisioned: m < 2 ? 1 : 3, advertised: 1 }, 'us-east-1b': { provisioned: 1, advertised: 1 } } })),
  nodes: [{ ip: '50.19.115.50', hostname: 'ec2-50-19-115-50.compute-1.amazonaws.com', az: 'us-east-1a', eniId: 'eni-1', firstSeen: at(0), lastSeen: at(4) }],
  reading: [0, 1, 2, 3, 4].map((m) => ({ at: at(m), backends: { 'i-0abc': m === 0 ? 1 : 7, 'i-0def': m === 2 ? null : 1 } })),
  prewarms: [],
  tls: [],
  aws: { SurgeQueueLength: [[at(2), 1024], [at(3), 700]], SpilloverCount: [[at(2), 40], [at(3), 25], [at(4), 5]] },
  reservedLcu: [],
  chain: { intact: true, records: 1, firstBreak: null },
};

describe.skipIf(!chromium)('HTML report in headless Chromium', () => {
  it('draws one line per AZ and per backend, offline, and escapes what it shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReport(report, 'html'));
    const { stdout: dom } = await run(chromium as string, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${file}`,
    ], { timeout: 60_000, maxBuffer: 10_000_000 });

    const lines = [...dom.matchAll(/<polyline[^>]*data-series="([^"]+)"[^>]*points="([^"]*)"/g)].map((m) => [m[1], (m[2] ?? '').trim().split(/\s+/).length]);
    // Nodes, then AWS's metrics, then R: one series each, on the one time axis.
    expect(lines).toEqual([['us-east-1a', 5], ['us-east-1b', 5], ['SurgeQueueLength', 2], ['SpilloverCount', 3], ['i-0abc', 5], ['i-0def', 4]]);
    expect(dom).toContain('class="intact"');
    expect(dom).toContain("<p id=\"identity\">Load balancer: test (Classic Load Balancer), region us-east-1, account the monitor's own</p>");
    expect(dom).toContain('scaled 1 → 3 nodes &lt;b&gt;');
    expect(dom).not.toMatch(/class="chart-box">No data/);
    expect(dom).toContain('<td>UNDELIVERABLE: SNS arn:x: NotFoundException: Topic &lt;gone&gt;</td>');
    expect(dom).toMatch(/<p id="undelivered" class="broken">Alerts: 1 of this window's events could not be delivered/);
  }, 90_000);
});
