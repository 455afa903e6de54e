import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabElb } from '../../lab/elb';
import { cloudWatchState, startCloudWatch, type RunningCloudWatch } from '../../lab/cloudwatch/server';
import type { GetMetricDataAnswer } from '../../lab/cloudwatch/contract';
import { runElbscope } from '../helpers/cli';

// `elbscope watch`, as a user runs it, fed each malformed AWS answer for one cycle
// after a good baseline: no event (not az-removed, not resolved, not scaled), the
// error named on the cycle's line, and the audit trail still verifies. The answers
// go through the real SDK from the lab's EC2 and CloudWatch stand-ins.
const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const lab = new LabElb({ name: 'hostile', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 } });
/** The lab's own ENIs, as EC2 would list them, with `edit` applied to each item's XML. */
const enisXml = (edit: (item: string) => string, prolog = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>${prolog}<DescribeNetworkInterfacesResponse xmlns="${NS}"><requestId>r</requestId><networkInterfaceSet>${lab.ec2.enis
    .map((e) =>
      edit(
        `<item><networkInterfaceId>${e.eniId}</networkInterfaceId><availabilityZone>${e.az}</availabilityZone><description>${e.description}</description><requesterManaged>true</requesterManaged><privateIpAddress>${e.privateIp}</privateIpAddress>${e.publicIp ? `<association><publicIp>${e.publicIp}</publicIp></association>` : ''}</item>`,
      ),
    )
    .join('')}</networkInterfaceSet></DescribeNetworkInterfacesResponse>`;
// CloudWatch as it answers for a quiet load balancer: no datapoints.
const cloudwatch = cloudWatchState(() => []);
let cloudwatchEndpoint: RunningCloudWatch;
let env: Record<string, string>;
let dnsServer: string;
const store = mkdtempSync(join(tmpdir(), 'elbscope-hostile-watch-'));
// GetMetricData every cycle (capacity.mode "polling"), so each cycle reads the answer armed for it; in the default
// alarm mode a quiet load balancer's figures are read only hourly (tests/integration/capacity/alarms.test.ts).
const configFile = join(store, '..', `elbscope-hostile-watch-${process.pid}.json`);

beforeAll(async () => {
  const started = await lab.start();
  dnsServer = started.dnsServer;
  cloudwatchEndpoint = await startCloudWatch(cloudwatch);
  writeFileSync(
    configFile,
    JSON.stringify({
      loadBalancers: [{ dnsName: lab.dnsName }],
      dns: { servers: [dnsServer], allowLoopbackNodes: true },
      capacity: { mode: 'polling' },
    }),
  );
  env = { AWS_ENDPOINT_URL_EC2: started.ec2Url, AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatchEndpoint.url };
});
afterAll(async () => {
  await lab.stop();
  await cloudwatchEndpoint.close();
});

const watch = (cycles: number) =>
  runElbscope(
    [
      'watch',
      '--config',
      configFile,
      '--cycles',
      String(cycles),
      '--interval',
      '1s',
      '--store',
      store,
      '--confirm',
      '2/3',
    ],
    env,
  );

type Answer = GetMetricDataAnswer & { MetricDataResults: NonNullable<GetMetricDataAnswer['MetricDataResults']> };
const results = (a: unknown) => (a as Answer).MetricDataResults;
const shapes: { label: string; source: 'eni' | 'cloudwatch'; arm: () => void }[] = [
  {
    label: 'EC2: ENIs with no Availability Zone',
    source: 'eni',
    arm: () =>
      (lab.ec2.rawNext ??= []).push({
        status: 200,
        body: enisXml((i) => i.replace(/<availabilityZone>[^<]*<\/availabilityZone>/, '')),
      }),
  },
  {
    label: 'EC2: an unexpanded DTD entity as the AZ',
    source: 'eni',
    arm: () =>
      (lab.ec2.rawNext ??= []).push({
        status: 200,
        body: enisXml(
          (i) => i.replace(/<availabilityZone>[^<]*</, '<availabilityZone>&az;<'),
          '<!DOCTYPE r [<!ENTITY az "us-east-1a">]>',
        ),
      }),
  },
  {
    label: 'EC2: an HTML page',
    source: 'eni',
    arm: () => (lab.ec2.rawNext ??= []).push({ status: 200, body: '<html><body>502 Bad Gateway</body></html>' }),
  },
  {
    label: 'CloudWatch: results filed under other Ids',
    source: 'cloudwatch',
    arm: () =>
      cloudwatch.mangleNext.push((a) => {
        for (const [i, r] of results(a).entries()) r.Id = `x${i}`;
        return a;
      }),
  },
  {
    label: 'CloudWatch: no result entry for a query',
    source: 'cloudwatch',
    arm: () => cloudwatch.mangleNext.push((a) => (results(a).splice(1, 1), a)),
  },
  {
    label: 'CloudWatch: Timestamps and Values of different lengths',
    source: 'cloudwatch',
    arm: () => cloudwatch.mangleNext.push((a) => (Object.assign(results(a)[1] as object, { Values: [3] }), a)),
  },
  {
    label: 'CloudWatch: a negative count',
    source: 'cloudwatch',
    arm: () =>
      cloudwatch.mangleNext.push(
        (a, req) => (
          Object.assign(results(a)[1] as object, { Timestamps: [(req.StartTime as number) + 60], Values: [-5] }), a
        ),
      ),
  },
  {
    label: 'CloudWatch: the same Id twice',
    source: 'cloudwatch',
    arm: () =>
      cloudwatch.mangleNext.push(
        (a) => (results(a).push({ ...(results(a)[1] as Answer['MetricDataResults'][number]) }), a),
      ),
  },
];

describe(`watch fed malformed AWS answers (${shapes.length} shapes), one cycle each after a good baseline`, () => {
  it('records a quiet baseline', async () => {
    const r = await watch(2);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('nodes us-east-1a 1/1  us-east-1b 1/1');
    expect(r.stdout).not.toMatch(/ALERT|!/);
  });

  it.each(shapes)(
    '$label: the error is named on that cycle, no event is raised',
    async ({ source, arm }) => {
      arm();
      // The broken cycle, then two good ones: M of N (2/3) sees one failure, never two.
      const r = await watch(3);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n').filter((l) => / {2}hostile {2}/.test(l));
      expect(lines[0]).toMatch(new RegExp(`! .*${source}: `));
      expect(lines.slice(1).join('\n')).not.toContain(`${source}: `);
      expect(r.stdout).not.toContain('ALERT');
      // The broken cycle counted no nodes: it said nothing of them, so nothing changed.
      expect(lines.at(-1)).toContain('nodes us-east-1a 1/1  us-east-1b 1/1');
    },
    60_000,
  );

  it('left no event in the audit trail, which verifies intact', async () => {
    const events = await runElbscope(['events', '--store', store, '--json']);
    expect(events.code).toBe(0);
    expect(JSON.parse(events.stdout)).toEqual([]);
    const verify = await runElbscope(['verify', '--store', store]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(cloudwatch.refused).toEqual([]);
  });
});
