import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EC2Client } from '@aws-sdk/client-ec2';
import { startEc2Endpoint, type Ec2State, type RunningEc2Endpoint } from '../../lab/ec2/server';
import { snsSink } from '../../shared/alerts/sinks';
import { requestHandlerWith } from '../../shared/aws/deadlines';
import { snsClient } from '../../shared/aws/sns';
import { parseConfig } from '../../shared/config/load';
import { type CycleRun, runCycle } from '../../shared/cycle/run';
import type { DnsLookup } from '../../shared/nodes/dns';
import { createEniLookup } from '../../shared/nodes/eni';
import { localStore } from '../../shared/store/local';
import { startSilentServer } from '../helpers/servers';

// One cycle over three load balancers, each facing something different: `hostile`
// has a status page built to hang a backtracking parser, `stuck` lives in a region
// whose EC2 endpoint accepts and never answers, `healthy` has nothing wrong — and
// the SNS endpoint never answers either. Each trouble costs one bounded, named
// error; `healthy` is fully observed in the same cycle; the alerts stay queued.
const DEADLINES = { connectionTimeoutMs: 500, requestTimeoutMs: 300 };
const ec2State: Ec2State = { enis: [], failNext: [], requests: [], refused: [] };
let ec2: RunningEc2Endpoint;
let silent: Awaited<ReturnType<typeof startSilentServer>>;
let pages: Server;
let silentUrl: string;
let pagesUrl: string;

beforeAll(async () => {
  ec2State.enis.push(
    { eniId: 'eni-h1', az: 'us-east-1a', description: 'ELB hostile', privateIp: '10.0.1.1', publicIp: '52.94.2.1' },
    { eniId: 'eni-g1', az: 'us-east-1a', description: 'ELB healthy', privateIp: '10.0.2.1', publicIp: '52.94.2.11' },
    { eniId: 'eni-g2', az: 'us-east-1b', description: 'ELB healthy', privateIp: '10.0.2.2', publicIp: '52.94.2.12' },
  );
  ec2 = await startEc2Endpoint(ec2State);
  silent = await startSilentServer(); // EC2 in us-west-2, and SNS
  pages = createServer((req, res) => {
    if (req.url?.startsWith('/hostile'))
      return res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(`<html><title>Apache Status</title><h1>Apache Server Status for x</h1><pre>${' '.repeat(1_000_000)}`);
    res
      .writeHead(200, { 'content-type': 'text/plain' })
      .end('x\nServerVersion: Apache/2.4.71\nServerMPM: prefork\nScoreboard: RR__W___\n');
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
  silentUrl = silent.url;
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await Promise.all([ec2.close(), silent.close(), new Promise((r) => pages.close(r))]);
});

describe('One cycle, three troubles', () => {
  it('costs each one bounded error while the healthy load balancer is observed and recorded', async () => {
    const config = parseConfig(
      {
        loadBalancers: [
          {
            dnsName: 'hostile-1.us-east-1.elb.amazonaws.com',
            backends: [{ name: 'h', statusUrl: `${pagesUrl}/hostile/server-status` }],
          },
          { dnsName: 'stuck-1.us-west-2.elb.amazonaws.com' },
          {
            dnsName: 'healthy-1.us-east-1.elb.amazonaws.com',
            backends: [{ name: 'g', statusUrl: `${pagesUrl}/ok/server-status?auto` }],
          },
        ],
        dns: { queries: 1 },
        detect: { confirm: { m: 1, n: 1 } },
      },
      'test',
    );
    const ips: Record<string, string[]> = {
      hostile: ['52.94.2.1'],
      stuck: ['52.94.2.5'],
      healthy: ['52.94.2.11', '52.94.2.12'],
    };
    const dns: DnsLookup = {
      resolve4: async (name) => (name.startsWith('all.') ? [] : (ips[name.split('-')[0] as string] ?? [])),
      resolve6: async () => [],
      reverse: async (ip) => [`ec2-${ip.replaceAll('.', '-')}.compute-1.amazonaws.com`],
      resolveCname: async () => Promise.reject(Object.assign(new Error('no data'), { code: 'ENODATA' })),
    };
    const clients = new Map<string, EC2Client>();
    const enisFor = (region: string) => {
      const endpoint = region === 'us-west-2' ? silentUrl : ec2.url;
      let c = clients.get(region);
      if (!c)
        clients.set(
          region,
          (c = new EC2Client({ region, endpoint, maxAttempts: 2, requestHandler: requestHandlerWith(DEADLINES) })),
        );
      return createEniLookup(c);
    };
    // The cycle runner, as the observe function and `watch` run it: observe, record, flush to SNS.
    // Recorded; the stuck SNS endpoint is one bounded, transient failure per alert: they stay queued.
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-one-cycle-')));
    const saved = process.env.AWS_ENDPOINT_URL_SNS;
    process.env.AWS_ENDPOINT_URL_SNS = silentUrl;
    const topic = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
    const client = snsClient(topic, DEADLINES);
    let run: CycleRun;
    try {
      run = await runCycle(
        config,
        '2026-11-25T10:00:00.000Z',
        { dns, enisFor, now: () => new Date() },
        {
          record: {
            store,
            sink: snsSink(client, topic),
            now: () => new Date('2026-11-25T10:00:30Z'),
            claimant: 't',
          },
        },
      );
    } finally {
      client.destroy();
      process.env.AWS_ENDPOINT_URL_SNS = saved;
    }
    const { snapshots } = run;
    const [hostile, stuck, healthy] = snapshots;
    // The page parsed in linear time and has no scoreboard: ?auto is asked, and answers HTML again: one named error.
    expect(hostile?.backends[0]?.report.error).toMatch(
      /\/hostile\/server-status\?auto: got an HTML page, not mod_status \?auto text$/,
    );
    expect(hostile?.backends[0]?.report.reading ?? null).toBeNull();
    expect(stuck?.observation.errors).toEqual([
      expect.objectContaining({
        source: 'eni',
        message: expect.stringMatching(/exceeded the configured 300 ms requestTimeout/),
      }),
    ]);
    expect(healthy?.observation.errors).toEqual([]);
    expect(healthy?.observation.azs).toEqual({
      'us-east-1a': { provisioned: 1, advertised: 1 },
      'us-east-1b': { provisioned: 1, advertised: 1 },
    });
    expect(healthy?.backends[0]?.report).toMatchObject({ error: null, reading: 2 });

    expect(run.unrecorded).toBeUndefined();
    const failures = (run.flushed?.failed ?? []).map((f) => f.error);
    expect((await store.getState('healthy'))?.state.memory.nodes).toEqual({
      'us-east-1a': ['52.94.2.11'],
      'us-east-1b': ['52.94.2.12'],
    });
    const queued = await store.outbox({ op: 'list' });
    expect(queued.length).toBeGreaterThan(0); // the stuck load balancer's observation-failed, at least
    expect(failures).toHaveLength(queued.length);
    for (const f of failures) expect(f).toMatch(/exceeded the configured 300 ms requestTimeout/);
    for (const c of clients.values()) c.destroy();
  }, 30_000);
});
