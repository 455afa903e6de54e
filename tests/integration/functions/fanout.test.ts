import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Context, ScheduledEvent, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { SendMessageBatchCommand, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { checkSendMessageBatch } from '../../../lab/sqs/contract';
import { LabElb } from '../../../lab/elb';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { startSqsEndpoint, type QueuedMessage } from '../../../lab/sqs/server';
import { startDynalite } from '../../helpers/dynalite';
import { labHmacKey, startKmsEndpoint, type KmsState } from '../../../lab/kms/server';

// Fan-out: the dispatcher puts batches of load balancers on the queue, the worker
// observes each batch and reports the ones that failed (partial batch response).
const labs = ['fa', 'fb', 'fc'].map(
  (name) => new LabElb({ name, region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1 } }),
);
const context = {
  awsRequestId: 'req-f',
  functionName: 'x',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:x',
  memoryLimitInMB: '256',
  functionVersion: '$LATEST',
  getRemainingTimeInMillis: () => 50_000,
} as unknown as Context;
const scheduled: ScheduledEvent = {
  id: 'e',
  version: '0',
  account: '123456789012',
  region: 'us-east-1',
  resources: [],
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  time: '2026-11-25T12:00:00Z',
  detail: {},
};
// A loopback queue URL even where SQS is mocked: the SQS client sends to the queue URL's host.
const QUEUE = 'http://127.0.0.1:9/123456789012/elbscope-work';
const sns: SnsState = { messages: [], failNext: [], refused: [] };
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let snsEndpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
let config: Record<string, unknown>;

const sealKey = labHmacKey();
let kmsEndpoint: Awaited<ReturnType<typeof startKmsEndpoint>>;
const setupSealKey = process.env.ELBSCOPE_SEAL_KEY;
beforeAll(async () => {
  // The three lab load balancers share one DNS server and EC2 endpoint: the first lab's.
  const started = await labs[0]!.start();
  for (const lab of labs.slice(1)) {
    for (const [k, v] of lab.zone.hosts) labs[0]!.zone.hosts.set(k, v);
    for (const [k, v] of lab.zone.ptr) labs[0]!.zone.ptr.set(k, v);
    labs[0]!.ec2.enis.push(...lab.ec2.enis);
  }
  dynamo = await startDynalite();
  snsEndpoint = await startSnsEndpoint(sns);
  // The stack's seal key (SealKey), held by the lab's KMS.
  kmsEndpoint = await startKmsEndpoint({ keys: [sealKey], calls: [], failNext: [] } satisfies KmsState);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_KMS: kmsEndpoint.url,
    ELBSCOPE_SEAL_KEY: sealKey.arn,
    AWS_ENDPOINT_URL_EC2: started.ec2Url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SNS: snsEndpoint.url,
    ELBSCOPE_TABLE: dynamo.table,
    ELBSCOPE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
    ELBSCOPE_QUEUE_URL: QUEUE,
  });
  config = {
    loadBalancers: labs.map((l) => ({ dnsName: l.dnsName })),
    dns: { servers: [started.dnsServer], timeoutMs: 500, tries: 1, allowLoopbackNodes: true },
    fanout: { enabled: true, batchSize: 2 },
  };
  process.env.ELBSCOPE_CONFIG = JSON.stringify(config);
});
afterAll(async () => {
  for (const k of [
    'ELBSCOPE_CONFIG',
    'AWS_ENDPOINT_URL_EC2',
    'AWS_ENDPOINT_URL_DYNAMODB',
    'AWS_ENDPOINT_URL_SNS',
    'AWS_ENDPOINT_URL_SQS',
    'AWS_ENDPOINT_URL_KMS',
    'ELBSCOPE_TABLE',
    'ELBSCOPE_TOPIC_ARN',
    'ELBSCOPE_QUEUE_URL',
  ])
    delete process.env[k];
  process.env.ELBSCOPE_SEAL_KEY = setupSealKey;
  await kmsEndpoint?.close();
  await Promise.all([labs[0]!.stop(), dynamo?.stop(), snsEndpoint?.close()]);
});

type Handler<E> = (event: E, context: Context) => Promise<any>;
async function load<E>(fn: string): Promise<Handler<E>> {
  vi.resetModules();
  return (await import(`../../../functions/${fn}/handler`)).handler as Handler<E>;
}
const quiet = <T>(fn: () => Promise<T>) => {
  const spies = [process.stdout, process.stderr].map((s) => vi.spyOn(s, 'write').mockImplementation(() => true));
  return fn().finally(() => {
    for (const s of spies) s.mockRestore();
  });
};

describe('Fan-out: dispatcher and worker', () => {
  it('round trip with SQS mocked: batches of 2, every load balancer observed, a bad message reported alone', async () => {
    const sqsMock = mockClient(SQSClient);
    // The mock holds SendMessageBatch to SQS's documented contract, as the lab's endpoint does.
    sqsMock
      .on(SendMessageBatchCommand)
      .callsFake((input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] }) => {
        const refusal = checkSendMessageBatch(input);
        if (refusal)
          throw new SQSServiceException({
            name: refusal.code,
            $fault: 'client',
            message: refusal.message,
            $metadata: { httpStatusCode: refusal.status },
          });
        return {
          Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
          Failed: [],
        };
      });
    const dispatch = await load<ScheduledEvent>('dispatch');
    const dispatched = await quiet(() => dispatch(scheduled, context));
    sqsMock.restore();
    expect(dispatched).toEqual({ cycle: '2026-11-25T12:00:00.000Z', messages: 2 });
    const entries = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => JSON.parse(e.MessageBody as string).loadBalancers)).toEqual([['fa', 'fb'], ['fc']]);

    const worker = await load<SQSEvent>('worker');
    const records = [
      ...entries.map((e, i) => ({ messageId: `m-${i}`, body: e.MessageBody as string })),
      { messageId: 'm-bad', body: '{"cycleAt": "2026-11-25T12:00:00Z"}' },
      { messageId: 'm-stale', body: JSON.stringify({ cycleAt: '2026-11-25T12:00:00Z', loadBalancers: ['gone'] }) },
    ];
    const event = {
      Records: records.map((r) => ({
        ...r,
        receiptHandle: 'h',
        attributes: {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn',
        awsRegion: 'us-east-1',
      })),
    } as unknown as SQSEvent;
    const result = await quiet(() => worker(event, context));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }, { itemIdentifier: 'm-stale' }] });

    // Every load balancer's first cycle is stored: its state exists with the dispatched cycle time.
    const { dynamoDbStore } = await import('../../../shared/store/dynamodb');
    const store = dynamoDbStore(dynamo.client, dynamo.table);
    for (const name of ['fa', 'fb', 'fc'])
      expect((await store.getState(name))?.state.meta.lastCycleAt).toBe('2026-11-25T12:00:00.000Z');
  });

  it('dispatches through the real SDK to a local SQS endpoint (AWS_ENDPOINT_URL_SQS)', async () => {
    const queued: QueuedMessage[] = [];
    const endpoint = await startSqsEndpoint(queued);
    process.env.AWS_ENDPOINT_URL_SQS = endpoint.url;
    // The SQS client sends to the queue URL's host: keep that on loopback too.
    const localQueue = `${endpoint.url}/123456789012/elbscope-work`;
    process.env.ELBSCOPE_QUEUE_URL = localQueue;
    try {
      const dispatch = await load<ScheduledEvent>('dispatch');
      const out = await quiet(() => dispatch({ ...scheduled, time: '2026-11-25T12:01:00Z' }, context));
      expect(out.messages).toBe(2);
      expect(queued.map((m) => [m.queueUrl, JSON.parse(m.body)])).toEqual([
        [localQueue, { cycleAt: '2026-11-25T12:01:00.000Z', loadBalancers: ['fa', 'fb'] }],
        [localQueue, { cycleAt: '2026-11-25T12:01:00.000Z', loadBalancers: ['fc'] }],
      ]);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_SQS;
      process.env.ELBSCOPE_QUEUE_URL = QUEUE;
      await endpoint.close();
    }
  });
});
