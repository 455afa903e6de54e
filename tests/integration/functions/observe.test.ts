import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { LabElb } from '../../../lab/elb';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { emptyElbApi, startElbApi, type RunningElbApi } from '../../../lab/elb-api/server';
import { cloudWatchState, startCloudWatch, type RunningCloudWatch } from '../../../lab/cloudwatch/server';
import { startDynalite } from '../../helpers/dynalite';
import { labHmacKey, startKmsEndpoint, type KmsState } from '../../../lab/kms/server';
import { freePort } from '../../helpers/servers';
import { listEvents } from '../../../shared/ledger/store';

// The Lambda handlers loaded as Lambda loads them (config from ELBSCOPE_CONFIG at
// import), every AWS call through the real SDK to loopback: the lab's EC2
// endpoint, dynalite for DynamoDB, a local SNS endpoint.
const lab = new LabElb({ name: 'fn', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1c': 2 } });
const sns: SnsState = { messages: [], failNext: [], refused: [] };
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-test';
const context = {
  functionName: 'elbscope-test-observe',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:x',
  memoryLimitInMB: '256',
  functionVersion: '$LATEST',
  getRemainingTimeInMillis: () => 50_000,
} as unknown as Context;
const scheduled = (time: string): ScheduledEvent => ({
  id: 'e',
  version: '0',
  account: '123456789012',
  region: 'us-east-1',
  resources: [],
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  time,
  detail: {},
});

let dnsServer: string;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let snsEndpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
// CloudWatch through the real SDK too, answering as for a load balancer with no surge queue (no datapoints).
const cloudwatch = cloudWatchState(() => []);
let cloudwatchEndpoint: RunningCloudWatch;
const sealKey = labHmacKey();
const kms: KmsState = { keys: [sealKey], calls: [], failNext: [] };
let kmsEndpoint: Awaited<ReturnType<typeof startKmsEndpoint>>;
const setupSealKey = process.env.ELBSCOPE_SEAL_KEY;
beforeAll(async () => {
  const started = await lab.start();
  dnsServer = started.dnsServer;
  dynamo = await startDynalite();
  snsEndpoint = await startSnsEndpoint(sns);
  cloudwatchEndpoint = await startCloudWatch(cloudwatch);
  // The stack's seal key (SealKey), held by the lab's KMS.
  kmsEndpoint = await startKmsEndpoint(kms);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_KMS: kmsEndpoint.url,
    ELBSCOPE_SEAL_KEY: sealKey.arn,
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatchEndpoint.url,
    AWS_ENDPOINT_URL_EC2: started.ec2Url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SNS: snsEndpoint.url,
    ELBSCOPE_TABLE: dynamo.table,
    ELBSCOPE_TOPIC_ARN: TOPIC,
  });
});
afterAll(async () => {
  for (const k of [
    'ELBSCOPE_CONFIG',
    'AWS_ENDPOINT_URL_CLOUDWATCH',
    'AWS_ENDPOINT_URL_EC2',
    'AWS_ENDPOINT_URL_DYNAMODB',
    'AWS_ENDPOINT_URL_SNS',
    'AWS_ENDPOINT_URL_KMS',
    'ELBSCOPE_TABLE',
    'ELBSCOPE_TOPIC_ARN',
  ])
    delete process.env[k];
  process.env.ELBSCOPE_SEAL_KEY = setupSealKey;
  await Promise.all([
    lab.stop(),
    dynamo?.stop(),
    snsEndpoint?.close(),
    cloudwatchEndpoint?.close(),
    kmsEndpoint?.close(),
  ]);
});

async function load<T>(fn: 'observe' | 'tls-probe' | 'report', config: unknown): Promise<T> {
  vi.resetModules();
  process.env.ELBSCOPE_CONFIG = typeof config === 'string' ? config : JSON.stringify(config);
  return (await import(`../../../functions/${fn}/handler`)).handler as T;
}

/** Run with stdout/stderr captured (Powertools logs and EMF metrics go there). */
async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; lines: Record<string, any>[] }> {
  const logged: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk) => (logged.push(String(chunk)), true)),
  );
  try {
    const result = await fn();
    return {
      result,
      lines: logged
        .join('')
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
    };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

type Handler = (event: unknown, context: Context) => Promise<any>;
const config = () => ({
  loadBalancers: [{ dnsName: lab.dnsName }, { dnsName: 'gone-1.us-east-1.elb.amazonaws.com' }],
  dns: { servers: [dnsServer], timeoutMs: 300, tries: 1, allowLoopbackNodes: true },
  detect: { confirm: { m: 1, n: 1 } },
});

describe('Lambda: observe', () => {
  it('observes, logs, emits metrics, stores, and alerts once per event even when retried', async () => {
    const handler = await load<Handler>('observe', config());
    const first = await captured(() => handler(scheduled('2026-11-25T10:00:00Z'), context));
    expect(first.result).toMatchObject({
      cycle: '2026-11-25T10:00:00.000Z',
      observed: 2,
      unresolved: ['gone-1.us-east-1.elb.amazonaws.com'],
      events: [expect.stringContaining('gone dns observation failing')],
    });
    // The cycle's log line carries each audit chain's head (here 'gone' has its first event; 'fn' its baseline, no
    // record yet).
    expect(first.lines.find((r) => r.message === 'cycle')?.chainHeads).toEqual({
      gone: expect.stringMatching(/^#1 [0-9a-f]{64}$/),
      fn: expect.stringMatching(/^#0 0{64}$/),
    });
    // …and each stored observations' chain head, the other anchor `verify --anchor` takes.
    expect(first.lines.find((r) => r.message === 'cycle')?.observationHeads).toEqual({
      gone: expect.stringMatching(/^#1 [0-9a-f]{64}$/),
      fn: expect.stringMatching(/^#1 [0-9a-f]{64}$/),
    });
    const observation = first.lines.find(
      (r) => r.message === 'observation' && r.observation?.loadBalancer === lab.dnsName,
    );
    expect(observation).toMatchObject({ level: 'INFO', function_request_id: 'req-1' });
    expect(observation?.observation.azs).toEqual({
      'us-east-1a': { provisioned: 1, advertised: 1 },
      'us-east-1c': { provisioned: 2, advertised: 2 },
    });
    const emf = first.lines.filter((r) => r._aws?.CloudWatchMetrics);
    expect(emf).toContainEqual(expect.objectContaining({ LoadBalancer: 'fn', AZ: 'us-east-1c', NodesProvisioned: 2 }));
    // The monitor's own health, for the stack's alarms: a completed cycle, failures by source, deliveries.
    expect(emf).toContainEqual(expect.objectContaining({ service: 'elbscope', CycleCompleted: 1 }));
    expect(emf).toContainEqual(expect.objectContaining({ Source: 'DNS', ObservationFailed: 1 })); // gone-1 did not resolve
    expect(emf).toContainEqual(expect.objectContaining({ Source: 'ENI', ObservationFailed: 0 }));
    expect(emf).toContainEqual(expect.objectContaining({ AlertsPublished: 1 }));
    expect(emf).toContainEqual(expect.objectContaining({ AlertsUndeliverable: 0 }));

    lab.addNode('us-east-1a', true);
    const second = await captured(() => handler(scheduled('2026-11-25T10:01:00Z'), context));
    expect(second.result.events).toEqual(['fn us-east-1a scaled 1 → 2 nodes']);
    // Lambda retries the same scheduled event: nothing is decided or sent twice.
    const retry = await captured(() => handler(scheduled('2026-11-25T10:01:00Z'), context));
    expect(retry.result.events).toEqual([]);
    // Exactly one accepted `scaled` publish, by an endpoint holding Publish to SNS's documented contract; the retry
    // sends none.
    expect(sns.messages.map((m) => m.subject)).toEqual([
      expect.stringContaining('gone dns observation failing'),
      'elbscope: fn us-east-1a scaled 1 -> 2 nodes',
    ]);
    expect(sns.refused).toEqual([]);
  });

  it('sends a test alert on {"alertTest": true}, and says so when SNS refuses it', async () => {
    const handler = await load<Handler>('observe', config());
    const before = sns.messages.length;
    const ok = await captured(() => handler({ alertTest: true }, context));
    expect(ok.result).toMatchObject({
      ok: true,
      alertTest: [{ sink: `SNS ${TOPIC}`, accepted: true, messageId: expect.any(String), error: null }],
    });
    expect(sns.messages.slice(before).map((m) => m.subject)).toEqual([
      expect.stringMatching(/^elbscope: alert test from the elbscope-test-observe function \(request req-1\) at /),
    ]);
    sns.topics = new Set(['arn:aws:sns:us-east-1:123456789012:some-other-topic']);
    try {
      const refused = await captured(() => handler({ alertTest: true }, context));
      expect(refused.result).toMatchObject({
        ok: false,
        alertTest: [
          { accepted: false, permanent: true, error: `SNS ${TOPIC}: NotFoundException: Topic does not exist` },
        ],
      });
    } finally {
      delete sns.topics;
    }
  });

  it('marks an alert SNS refuses for good undeliverable within the cycle, counts it, and does not retry it', async () => {
    const handler = await load<Handler>('observe', config());
    sns.topics = new Set(['arn:aws:sns:us-east-1:123456789012:some-other-topic']); // ours is gone
    try {
      lab.addNode('us-east-1c', true);
      const refusedBefore = sns.refused!.length;
      const cycle = await captured(() => handler(scheduled('2026-11-25T10:05:00Z'), context));
      expect(cycle.result.events).toEqual(['fn us-east-1c scaled 2 → 3 nodes']);
      expect(sns.refused!.length - refusedBefore).toBe(1);
      expect(cycle.lines.filter((r) => r._aws?.CloudWatchMetrics)).toContainEqual(
        expect.objectContaining({ AlertsUndeliverable: 1 }),
      );
      const warned = cycle.lines.filter((r) => r.level === 'WARN' && /undeliverable/.test(r.message));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({ code: 'NotFound' });

      const next = await captured(() => handler(scheduled('2026-11-25T10:06:00Z'), context));
      expect(sns.refused!.length - refusedBefore).toBe(1); // not retried
      expect(next.lines.filter((r) => r.level === 'WARN' && /undeliverable/.test(r.message))).toEqual([]); // logged once
      const { dynamoDbStore } = await import('../../../shared/store/dynamodb');
      const stored = (await listEvents(dynamoDbStore(dynamo.client, dynamo.table), 'fn')).find(
        (e) => e.record.summary === 'fn us-east-1c scaled 2 → 3 nodes',
      );
      expect(stored).toMatchObject({
        publishedAt: null,
        deliveryError: { at: expect.any(String), error: `SNS ${TOPIC}: NotFoundException: Topic does not exist` },
      });
    } finally {
      delete sns.topics;
    }
  });

  it("skips what it cannot start before its deadline, from the run's remaining time, and says so", async () => {
    const handler = await load<Handler>('observe', config());
    // The handler asks first (as middy calls it) and finds no time left; middy's own early-timeout guard asks next.
    let asked = 0;
    const late = { ...context, getRemainingTimeInMillis: () => (asked++ === 0 ? 0 : 30_000) } as unknown as Context;
    const { result, lines } = await captured(() => handler(scheduled('2026-11-25T10:09:00Z'), late));
    expect(result).toMatchObject({
      observed: 2,
      skipped: [lab.dnsName, 'gone-1.us-east-1.elb.amazonaws.com'],
      unresolved: [],
      events: [],
    });
    expect(lines.filter((r) => r._aws?.CloudWatchMetrics)).toContainEqual(
      expect.objectContaining({ LoadBalancersSkipped: 2 }),
    );
  });

  it('fails at cold start with a one-line configuration error', async () => {
    await expect(load('observe', { loadBalancers: [{ dnsName: lab.dnsName, typo: 1 }] })).rejects.toThrow(
      /^ELBSCOPE_CONFIG: loadBalancers\[0\]: unknown key\(s\) "typo"$/,
    );
  });
});

describe('Lambda: tls-probe', () => {
  // `fn` may be a Classic ELB (its DNS name has that shape): its back-end authentication policies are read each
  // round, from the lab's ELB API (it has none); a round that could not read them would say so in `errors`.
  const elbApi = emptyElbApi();
  let elbEndpoint: RunningElbApi;
  beforeAll(async () => {
    elbApi.classic.push({ name: 'fn', dnsName: lab.dnsName });
    elbEndpoint = await startElbApi(elbApi);
    process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING = elbEndpoint.url;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING;
    await elbEndpoint?.close();
  });

  it('probes each configured TLS target and records tls-failed once', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const handler = await load<Handler>('tls-probe', {
      loadBalancers: [{ dnsName: lab.dnsName, backends: [{ name: 'i-0abc', tls: { target: closed } }] }],
    });
    const { result } = await captured(() => handler(scheduled('2026-11-25T11:00:00Z'), context));
    expect(result).toEqual({
      probed: 1,
      failed: [`i-0abc (${closed})`],
      errors: [],
      events: [`fn i-0abc: TLS failed: ${closed}: connection refused`],
    });
    expect(elbApi.requests.map((r) => r.Action)).toEqual(['DescribeLoadBalancers']);
  });

  it('a round that cannot read the policies says so: errors[], the failure metric, observation-failed backend-auth', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const other = 'fnauth-1.us-east-1.elb.amazonaws.com'; // its own audit chain: `fn`'s stays as the report test below reads it
    const handler = await load<Handler>('tls-probe', {
      loadBalancers: [{ dnsName: other, backends: [{ name: 'i-0abc', tls: { target: closed } }] }],
    });
    elbApi.failNext.push({
      code: 'AccessDenied',
      status: 403,
      message: 'not authorized to perform: elasticloadbalancing:DescribeLoadBalancers',
    });
    const { result, lines } = await captured(() => handler(scheduled('2026-11-25T12:00:00Z'), context));
    const error =
      'DescribeLoadBalancers (Classic, fnauth): AccessDenied: not authorized to perform: elasticloadbalancing:DescribeLoadBalancers';
    expect(result.errors).toEqual([`${other} backend-auth: ${error}`]);
    expect(result.events).toContain(`fnauth backend-auth observation failing: ${error}`);
    // One handshake that failed and one load balancer whose policies were not read.
    expect(lines.filter((r) => r._aws?.CloudWatchMetrics && r.Source === 'TLS')).toContainEqual(
      expect.objectContaining({ ObservationFailed: 2 }),
    );
  });
});

describe('Lambda: report', () => {
  it('returns the report of a window, and a one-line error for a bad request', async () => {
    const handler = await load<Handler>('report', config());
    const { result } = await captured(() => handler({ loadBalancer: 'fn', format: 'md' }, context));
    expect(result.body).toContain('# elbscope report: fn');
    expect(result.body).toContain('scaled 1 → 2 nodes');
    expect(result.body).toContain('Audit chain: intact: 3 records');
    expect(result.body).toMatch(
      /\| fn us-east-1c scaled 2 → 3 nodes \| UNDELIVERABLE: SNS arn:aws:sns:us-east-1:123456789012:elbscope-test: NotFoundException: Topic does not exist \|/,
    );
    expect(result.body).toContain("Alerts: 1 of this window's events could not be delivered");
    const bad = await captured(() => handler({ loadBalancer: 'fn', format: 'pdf' }, context));
    expect(bad.result.error).toMatch(/^report request: format: /);
  });
});
