import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { enqueueWork, packBatches } from '../../../shared/fanout/queue';
import { startSqsEndpoint, type QueuedMessage } from '../../../lab/sqs/server';

// Work messages through the real SDK to the lab's SQS endpoint, which holds
// SendMessageBatch to its documented contract (10 entries, 256 KiB a call).
const QUEUE = 'http://127.0.0.1:1/123456789012/work';
const messages: QueuedMessage[] = [];
let endpoint: Awaited<ReturnType<typeof startSqsEndpoint>>;
let sqs: SQSClient;
beforeAll(async () => {
  endpoint = await startSqsEndpoint(messages);
  sqs = new SQSClient({ region: 'us-east-1', endpoint: endpoint.url, maxAttempts: 1 });
});
afterAll(async () => {
  sqs.destroy();
  await endpoint.close();
});

describe('Fan-out queue', () => {
  it('packs batches of long load balancer names under 256 KiB a call, and SQS takes them all', async () => {
    // 500 names of 240 characters a message (fanout.batchSize at its maximum): ~120 KB each.
    const work = Array.from({ length: 12 }, (_, m) => ({
      cycleAt: '2026-11-25T10:00:00.000Z',
      loadBalancers: Array.from({ length: 500 }, (_, i) => `${'n'.repeat(230)}-${m}-${i}`),
    }));
    expect(await enqueueWork(sqs, endpoint.url, work)).toBe(12);
    expect(messages.map((m) => JSON.parse(m.body).loadBalancers[0])).toEqual(work.map((w) => w.loadBalancers[0]));
  });

  it('refuses what SQS refuses: 11 entries, a batch over 256 KiB, repeated ids', async () => {
    const send = (entries: { Id: string; MessageBody: string }[]) =>
      sqs.send(new SendMessageBatchCommand({ QueueUrl: QUEUE, Entries: entries })).then(
        () => 'accepted',
        (e: Error) => `${e.name}: ${e.message}`,
      );
    expect(await send(Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })))).toMatch(
      /^TooManyEntriesInBatchRequest/,
    );
    expect(
      await send([
        { Id: 'a', MessageBody: 'x'.repeat(200_000) },
        { Id: 'b', MessageBody: 'x'.repeat(70_000) },
      ]),
    ).toMatch(/^BatchRequestTooLong/);
    expect(
      await send([
        { Id: 'a', MessageBody: 'x' },
        { Id: 'a', MessageBody: 'y' },
      ]),
    ).toMatch(/^BatchEntryIdsNotDistinct/);
    expect(await send([{ Id: 'a', MessageBody: 'bad \u0000' }])).toMatch(/^InvalidMessageContents/);
  });

  it("refuses an answer that does not account for every message (not SQS's): nothing goes missing silently", async () => {
    const { createServer } = await import('node:http');
    const proxy = createServer((_q, r) => r.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const client = new SQSClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
      maxAttempts: 1,
    });
    await expect(
      enqueueWork(client, QUEUE, [{ cycleAt: '2026-11-25T10:00:00.000Z', loadBalancers: ['a'] }]),
    ).rejects.toThrow('SendMessageBatch: the answer accounts for 0 of 1 work messages: not an SQS response');
    client.destroy();
    proxy.close();
  });

  it('splits by count and by bytes, in order, and names a message too large on its own', () => {
    expect(packBatches(['a', 'b', 'c', 'd', 'e'], { entries: 2, bytes: 100 }).map((c) => c.map((e) => e.body))).toEqual(
      [['a', 'b'], ['c', 'd'], ['e']],
    );
    expect(packBatches(['aaaa', 'bbbb', 'cc'], { entries: 10, bytes: 6 }).map((c) => c.map((e) => e.index))).toEqual([
      [0],
      [1, 2],
    ]);
    expect(() => packBatches(['ok', 'x'.repeat(7)], { entries: 10, bytes: 6 })).toThrow(
      "work message 1 is 7 bytes, over SQS's 6: lower fanout.batchSize",
    );
  });
});
