import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabElb } from '../../../lab/elb';
import { deliveredTo, startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { checkCustomNotification } from '../../../lab/sns/chat-contract';
import { cloudWatchState, startCloudWatch, type RunningCloudWatch } from '../../../lab/cloudwatch/server';
import { runElbscope } from '../../helpers/cli';

// watch → events → verify → report, as a user runs them, against the lab, with
// alerts published through the real SDK to a local SNS endpoint.
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const lab = new LabElb({ name: 'watch', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 } });
const sns: SnsState = { messages: [], failNext: [], refused: [] };
let env: Record<string, string>;
let dnsServer: string;
let snsEndpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
// CloudWatch as it answers for a load balancer with no surge queue or spillover: no datapoints.
const cloudwatch = cloudWatchState(() => []);
let cloudwatchEndpoint: RunningCloudWatch;
const store = mkdtempSync(join(tmpdir(), 'elbscope-watch-'));

beforeAll(async () => {
  const started = await lab.start();
  dnsServer = started.dnsServer;
  snsEndpoint = await startSnsEndpoint(sns);
  cloudwatchEndpoint = await startCloudWatch(cloudwatch);
  env = {
    AWS_ENDPOINT_URL_EC2: started.ec2Url,
    AWS_ENDPOINT_URL_SNS: snsEndpoint.url,
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatchEndpoint.url,
  };
});
afterAll(async () => {
  await lab.stop();
  await snsEndpoint.close();
  await cloudwatchEndpoint.close();
});

const alertFile = join(store, 'alerts.jsonl');
const watch = (cycles: number) =>
  runElbscope(
    [
      'watch',
      '--lb',
      lab.dnsName,
      '--dns-server',
      dnsServer,
      '--allow-loopback-nodes',
      '--cycles',
      String(cycles),
      '--interval',
      '1s',
      '--store',
      store,
      '--confirm',
      '2/3',
      '--sns-topic',
      TOPIC,
      '--alert-file',
      alertFile,
    ],
    env,
  );

describe('Commands: watch, events, verify, report, prewarm', () => {
  it('records a baseline quietly, then one scaled event and one alert when an AZ scales', async () => {
    const first = await watch(2);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('nodes us-east-1a 1/1  us-east-1b 1/1');
    expect(first.stdout).not.toContain('ALERT');

    const pre = await runElbscope([
      'prewarm',
      '--lb',
      'watch',
      '--nodes-per-az',
      '1',
      '--total',
      '3',
      '--case',
      '1234',
      '--store',
      store,
    ]);
    expect(pre.code).toBe(0);

    lab.addNode('us-east-1b', true);
    const second = await watch(3);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('ALERT');
    expect(second.stdout).toContain('elbscope: watch us-east-1b scaled 1 -> 2 nodes');
    // Each cycle's line carries the audit chain's head after its commit, short (16 hex): an anchor for `verify --anchor`.
    // …and its stored observations' head (`verify --anchor` takes either).
    expect(second.stdout).toMatch(
      /^\S+ {2}watch {2}nodes us-east-1a 1\/1 {2}us-east-1b 2\/2 {2}\| {2}chain #2 [0-9a-f]{16} {2}observations #\d+ [0-9a-f]{16}$/m,
    );
    // The short hash is still an anchor: `verify --anchor` proves the trail up to it.
    const anchor = /chain (#2 [0-9a-f]{16}) /.exec(second.stdout)?.[1] as string;
    const proved = await runElbscope(['verify', '--store', store, '--anchor', anchor]);
    expect(proved.stderr).toBe('');
    expect(proved.code).toBe(0);
    expect(second.stdout).toMatch(/elbscope: watch pre-warm \(case 1234\) complete after \d+ min/);

    expect(sns.messages.map((m) => m.subject)).toEqual([
      'elbscope: watch us-east-1b scaled 1 -> 2 nodes',
      expect.stringMatching(/pre-warm \(case 1234\) complete/),
    ]);
    expect(sns.messages[0]?.attributes).toMatchObject({ loadBalancer: 'watch', kind: 'scaled', az: 'us-east-1b' });
    expect(sns.refused).toEqual([]); // the endpoint holds every Publish to SNS's documented contract
    // One Publish, a message per protocol: plain text for e-mail, a custom notification for chat (https).
    const scaleUp = sns.messages[0]!;
    expect(Object.keys(scaleUp.structure ?? {}).sort()).toEqual(['default', 'email', 'https', 'sms']);
    expect(deliveredTo(scaleUp, 'email')).toMatch(/^watch us-east-1b scaled 1 → 2 nodes\n\nwhat: {10}scaled\n/);
    expect(deliveredTo(scaleUp, 'email')).toBe(deliveredTo(scaleUp, 'sqs')); // default: what every other protocol gets
    const chat = deliveredTo(scaleUp, 'https');
    expect(checkCustomNotification(chat)).toBeNull();
    const card = JSON.parse(chat);
    expect(card.content.title).toBe('🔵 watch us-east-1b scaled 1 → 2 nodes');
    expect(card.content.description).toContain('Change: 1 → 2');
    expect(card.content.description).toMatch(/Since the first sign: \d+ (s|min)/);
    expect(card.content.nextSteps[0]).toMatch(
      /^For the case, the report: `elbscope report --lb watch --from \S+ --to \S+/,
    );
    expect(card.content.keywords).toEqual(['scaled', 'us-east-1', 'info']);
    // Every cycle asked CloudWatch for the Classic ELB's metrics, each request within GetMetricData's contract.
    expect(cloudwatch.requests.length).toBeGreaterThanOrEqual(5);
    expect(cloudwatch.requests[0]?.MetricDataQueries?.map((q) => q.MetricStat?.Metric?.MetricName)).toEqual([
      'SurgeQueueLength',
      'SpilloverCount',
      'HealthyHostCount',
      'UnHealthyHostCount',
      'RequestCount',
      'HTTPCode_ELB_5XX',
    ]);
    expect(cloudwatch.refused).toEqual([]);
    const filed = readFileSync(alertFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(filed.map((a: { subject: string; event: { kind: string } }) => [a.subject, a.event.kind])).toEqual([
      ['elbscope: watch us-east-1b scaled 1 -> 2 nodes', 'scaled'],
      [expect.stringMatching(/pre-warm \(case 1234\) complete/), 'prewarm-complete'],
    ]);
  });

  it('events --json lists them with the documented fields, published', async () => {
    const r = await runElbscope(['events', '--store', store, '--json']);
    expect(r.code).toBe(0);
    const events = JSON.parse(r.stdout);
    expect(events.map((e: { kind: string }) => e.kind)).toEqual(['scaled', 'prewarm-complete']);
    expect(events[0]).toMatchObject({
      kind: 'scaled',
      loadBalancer: 'watch',
      az: 'us-east-1b',
      backend: null,
      from: 1,
      to: 2,
      published: expect.any(String),
    });
    for (const key of ['id', 'kind', 'loadBalancer', 'az', 'backend', 'from', 'to', 'at', 'published'])
      expect(events[0]).toHaveProperty(key);
  });

  it('report renders every format', async () => {
    const md = await runElbscope(['report', '--lb', 'watch', '--store', store]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('# elbscope report: watch');
    // Whose report: the kind from the ENIs, the region from the DNS name, as the last cycle recorded them.
    expect(md.stdout).toContain(
      "Load balancer: watch (Classic Load Balancer), region us-east-1, account the monitor's own.",
    );
    expect(md.stdout).toContain('Audit chain: intact: 2 records');
    expect(md.stdout).toMatch(/\| 1 \| .* \| scaled \| us-east-1b \| 1 → 2 \|/);
    expect(md.stdout).toContain('| 127.1.1.3 | ec2-127-1-1-3.compute-1.amazonaws.com | us-east-1b |');
    expect(md.stdout).toMatch(/\| 1234 \| 1 \| - \| 3 \| - \| complete \|/);
    expect(md.stdout).toContain(
      '## AWS capacity signals (CloudWatch, 1-minute datapoints)\n\nCloudWatch reported no datapoint in this window',
    );
    const csv = await runElbscope(['report', '--lb', 'watch', '--store', store, '--format', 'csv']);
    expect(csv.stdout.split('\n')[0]).toBe('record,at,loadBalancer,kind,status,az,backend,from,to,value,summary');
    const json = await runElbscope(['report', '--lb', 'watch', '--store', store, '--format', 'json']);
    expect(JSON.parse(json.stdout).chain).toEqual({
      intact: true,
      records: 2,
      firstBreak: null,
      head: { seq: 2, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      observations: { verified: expect.any(Number), unchained: 0, expired: 0, uncommitted: 0, firstBreak: null },
      prewarms: { vouched: 1, unvouched: 0, firstBreak: null },
      receipts: { closed: 2, waiting: 0, firstBreak: null },
      seals: {
        key: expect.stringMatching(/^key file /),
        sealed: expect.any(Number),
        beforeKeys: 0,
        unchecked: 0,
        unavailable: null,
        keyedSince: expect.any(String),
        firstBreak: null,
      },
    });
    expect(JSON.parse(json.stdout).chain.observations.verified).toBeGreaterThanOrEqual(2);
    const out = join(store, 'report.html');
    const html = await runElbscope(['report', '--lb', 'watch', '--store', store, '--format', 'html', '--out', out]);
    expect(html.stdout.trim()).toBe(`report written to ${out}`);
    expect(readFileSync(out, 'utf8')).toContain('<script id="report-data" type="application/json">');
  });

  it('verify passes, then names the first record someone changed', async () => {
    expect((await runElbscope(['verify', '--store', store])).code).toBe(0);
    const dir = join(store, 'loadbalancers', 'watch', 'events');
    const [firstFile] = readdirSync(dir).sort();
    const file = join(dir, firstFile as string);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"to": 2', '"to": 5'));
    const r = await runElbscope(['verify', '--store', store]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^elbscope: watch: audit chain broken at record #1 \\([0-9a-f]+\\), ${file.replaceAll('/', '\\/')}: its content does not match its hash`,
      ),
    );
  });

  it('rejects bad usage with one line', async () => {
    const cases: [string[], RegExp][] = [
      [['watch', '--confirm', '3/2', '--lb', lab.dnsName], /"3\/2" is not M\/N/],
      [['watch'], /no configuration/],
      [['report', '--lb', 'nope', '--store', store], /--lb nope: no such load balancer/],
      [['report', '--lb', 'watch', '--store', store, '--format', 'docx'], /argument 'docx' is invalid/],
      [
        ['prewarm', '--lb', 'watch', '--nodes-per-az', '2', '--deadline', 'tomorrow', '--store', store],
        /"tomorrow" is not an ISO date-time/,
      ],
      [['prewarm', '--lb', 'watch', '--store', store], /prewarm: give --nodes-per-az N .*, --lcu N .*, or both/],
    ];
    for (const [args, reason] of cases) {
      const r = await runElbscope(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toMatch(reason);
    }
  });
});
