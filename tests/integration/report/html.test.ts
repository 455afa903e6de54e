import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
const HOSTILE = '<img src=x onerror="document.title=1">';
const report: ReportData = {
  loadBalancer: 'test',
  identity: { account: null, region: 'us-east-1', name: 'test', arn: null, kind: 'classic' },
  from: at(0),
  to: at(40),
  generatedAt: at(41),
  events: [
    {
      seq: 1,
      id: 'abc',
      at: at(3),
      kind: 'scaled',
      status: 'event',
      severity: 'info',
      az: 'us-east-1a',
      backend: null,
      from: 1,
      to: 3,
      summary: 'test us-east-1a scaled 1 → 3 nodes <b>',
      published: at(3),
      deliveryError: null,
    },
    {
      seq: 2,
      id: 'def',
      at: at(4),
      kind: 'az-added',
      status: 'event',
      severity: 'info',
      az: 'us-east-1c',
      backend: null,
      from: 0,
      to: 1,
      summary: 'test us-east-1c added',
      published: null,
      deliveryError: 'SNS arn:x: NotFoundException: Topic <gone>',
    },
    {
      seq: 3,
      id: 'ghi',
      at: at(5),
      kind: 'spillover',
      status: 'firing',
      severity: 'critical',
      az: null,
      backend: null,
      from: null,
      to: 40,
      summary: `test: 40 requests dropped ${HOSTILE}`,
      published: at(5),
      deliveryError: null,
    },
  ],
  undelivered: 1,
  // us-east-1b and us-east-1c hold the same counts throughout: both must still show. No observation from 5 to 35: a
  // gap.
  nodesPerAz: [0, 1, 2, 3, 4, 35, 36].map((m) => ({
    at: at(m),
    azs: {
      'us-east-1a': { provisioned: m < 2 ? 1 : 3, advertised: 1 },
      'us-east-1b': { provisioned: 1, advertised: 1 },
      'us-east-1c': { provisioned: 1, advertised: 1 },
    },
  })),
  nodes: [
    {
      ip: '50.19.115.50',
      hostname: `ec2-50-19-115-50.compute-1.amazonaws.com-${'x'.repeat(200)}`,
      az: 'us-east-1a',
      eniId: 'eni-1',
      firstSeen: at(0),
      lastSeen: at(4),
    },
  ],
  reading: [0, 1, 2, 3, 4].map((m) => ({
    at: at(m),
    backends: { 'i-0abc': m === 0 ? 1 : 7, [HOSTILE]: m === 2 ? null : 1 },
  })),
  prewarms: [],
  tls: [],
  aws: {
    SurgeQueueLength: [
      [at(2), 1024],
      [at(3), 700],
    ],
    SpilloverCount: [
      [at(2), 40],
      [at(3), 25],
      [at(4), 5],
    ],
  },
  reservedLcu: [],
  chain: { intact: true, records: 3, firstBreak: null, head: { seq: 3, hash: 'ab'.repeat(32) } },
  gapAfterMs: 22.5 * 60_000,
};

/**
 * Headless Chromium with no network and no profile of the user's: a page's DOM after its scripts ran, or a screenshot.
 */
const browse = (dir: string, args: string[]) =>
  run(
    chromium as string,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--proxy-server=127.0.0.1:9',
      `--user-data-dir=${join(dir, 'profile')}`,
      ...args,
    ],
    { timeout: 60_000, maxBuffer: 20_000_000 },
  );

describe.skipIf(!chromium)('HTML report in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-html-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, renderReport(report, 'html'));
  const attr = (dom: string, id: string, name: string) => {
    const tag = new RegExp(`<div id="${id}"[^>]*>`).exec(dom)?.[0] ?? '';
    const raw = new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1];
    return raw === undefined
      ? undefined
      : raw.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  };

  it('renders offline with no script error: every chart on the window, ticks in UTC, equal series told apart, a marker per event, hostile names inert', async () => {
    const { stdout: dom } = await browse(dir, ['--window-size=1300,2400', '--dump-dom', `file://${file}`]);
    expect(dom).toContain('data-rendered="true"');
    expect(dom).not.toMatch(/<html[^>]* data-errors=/);
    for (const id of ['chart-nodes', 'chart-aws', 'chart-reading']) {
      // Tick labels of the time axis: HH:MM in UTC, every tick inside the report's window.
      const ticks = JSON.parse(attr(dom, id, 'data-ticks') ?? '[]') as [number, string][];
      expect(ticks.length, id).toBeGreaterThanOrEqual(3);
      for (const [t, label] of ticks) {
        expect(t * 1000).toBeGreaterThanOrEqual(Date.parse(at(0)));
        expect(t * 1000).toBeLessThanOrEqual(Date.parse(at(40)));
        expect(label).toBe(new Date(t * 1000).toISOString().slice(11, 16));
      }
      // A marker per event, each a link to its timeline row.
      expect(attr(dom, id, 'data-markers'), id).toBe('3');
    }
    const series = JSON.parse(attr(dom, 'chart-nodes', 'data-series') ?? '[]') as {
      name: string;
      stroke: string;
      dash: number[];
    }[];
    expect(series.map((s) => s.name)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    const [b, c] = [series[1]!, series[2]!];
    expect(JSON.stringify([b.stroke, b.dash])).not.toBe(JSON.stringify([c.stroke, c.dash]));
    expect(b.dash).not.toEqual(c.dash); // the same values, still two visible lines: one solid, one dashed
    for (const seq of [1, 2, 3]) {
      expect(dom).toMatch(new RegExp(`<a class="ev [a-z]+" href="#event-${seq}"`));
      expect(dom).toContain(`<tr id="event-${seq}">`);
    }
    expect(dom).toMatch(/<a class="ev critical" href="#event-3"/);
    // The legend names every series (uPlot's, which toggles a series on click).
    expect(dom).toMatch(/class="u-legend/);
    // Hostile text stays text: no element made of it.
    expect(dom).not.toMatch(/<img src="?x/);
    expect(dom).toContain('&lt;img src=x onerror="document.title=1"&gt;');
    expect(dom).toContain('scaled 1 → 3 nodes &lt;b&gt;');
    expect(dom).toContain(
      '<p id="identity">Load balancer: test (Classic Load Balancer), region us-east-1, account the monitor\'s own</p>',
    );
    expect(dom).toContain(`head #3 ${'ab'.repeat(32)}`);
    expect(dom).toMatch(
      /<ul id="summary"><li>Scaling: 1 scale-up \(us-east-1a 1 → 3 at 2026-11-25 10:03 UTC\) and 0 scale-downs\.<\/li>/,
    );
    expect(dom).toContain('<td>UNDELIVERABLE: SNS arn:x: NotFoundException: Topic &lt;gone&gt;</td>');
    expect(dom).toMatch(/<p id="undelivered" class="broken">Alerts: 1 of this window's events could not be delivered/);
  }, 90_000);

  it('takes a screenshot of the page at 1300 px: a PNG of that width', async () => {
    const png = join(dir, 'report.png');
    await browse(dir, ['--window-size=1300,2400', '--hide-scrollbars', `--screenshot=${png}`, `file://${file}`]);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(bytes.readUInt32BE(16)).toBe(1300);
    expect(bytes.readUInt32BE(20)).toBe(2400);
    expect(bytes.length).toBeGreaterThan(30_000); // charts and tables drawn, not a blank page
  }, 90_000);
});
